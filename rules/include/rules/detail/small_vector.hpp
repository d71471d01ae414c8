#pragma once
// A vector of trivially copyable elements (pointers, small structs) whose first N elements live
// inside the object: per-request lists (the Conditions of a record, the draft orders) fit, so
// gathering them allocates nothing; a longer list moves to the heap and keeps working.
#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

namespace rules::detail {

template <typename T, std::size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  SmallVector() = default;
  SmallVector(const SmallVector& o) { append(o); }
  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) {
      clear();
      append(o);
    }
    return *this;
  }

  void push_back(const T& v) {
    if (size_ == N && heap_.empty()) heap_.assign(inline_, inline_ + N);
    if (size_ >= N) heap_.push_back(v);
    else inline_[size_] = v;
    ++size_;
  }
  void clear() noexcept {
    size_ = 0;
    heap_.clear();
  }

  T* data() noexcept { return size_ > N ? heap_.data() : inline_; }
  const T* data() const noexcept { return size_ > N ? heap_.data() : inline_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& front() const noexcept { return data()[0]; }
  const T& back() const noexcept { return data()[size_ - 1]; }
  operator std::span<const T>() const noexcept { return {data(), size_}; }

 private:
  void append(const SmallVector& o) {
    for (const T& v : o) push_back(v);
  }
  T inline_[N];
  std::size_t size_ = 0;
  std::vector<T> heap_;  // all elements, once there are more than N
};

}  // namespace rules::detail
