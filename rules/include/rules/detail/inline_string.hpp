#pragma once
// A string whose first N bytes live inside the object: "Type/id" references of the resources a
// request is about fit, so holding them allocates nothing; a longer one goes to the heap.
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace rules::detail {

template <std::size_t N>
class InlineString {
 public:
  InlineString() = default;
  InlineString(const InlineString& o) { assign(o.view()); }
  InlineString& operator=(const InlineString& o) {
    if (this != &o) assign(o.view());
    return *this;
  }

  void assign(std::string_view s) {
    clear();
    append(s);
  }
  void append(std::string_view s) {
    if (s.empty()) return;  // also a default string_view, whose null data memcpy must not get
    if (heap_.empty() && size_ + s.size() <= N) {
      std::memcpy(inline_ + size_, s.data(), s.size());
    } else {
      if (heap_.empty()) heap_.assign(inline_, size_);
      heap_.append(s);
    }
    size_ += s.size();
  }
  void push_back(char c) { append(std::string_view(&c, 1)); }
  void clear() noexcept {
    size_ = 0;
    heap_.clear();
  }

  std::string_view view() const noexcept { return heap_.empty() ? std::string_view(inline_, size_) : std::string_view(heap_); }
  operator std::string_view() const noexcept { return view(); }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  friend bool operator==(const InlineString& a, std::string_view b) noexcept { return a.view() == b; }

 private:
  char inline_[N];
  std::size_t size_ = 0;
  std::string heap_;  // the whole string, once longer than N
};

// "Type/id" of a resource.
using Reference = InlineString<96>;

}  // namespace rules::detail
