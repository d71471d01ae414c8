#pragma once
// Boost.JSON for the whole project, compiled once in fhir/src/boost_json_impl.cpp.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace fhir {
namespace json = boost::json;

// Type-checked field access: a missing field and a field of the wrong type both read as
// "absent" here. Wrong types are reported separately by fhir::validate() so that the hot
// path never throws and never touches a value of the wrong kind.
//
// FHIR objects have a handful of members, so a linear search inlined here, with the key's
// length known at the call site (a literal), is several times cheaper than
// json::object::if_contains (an out-of-line search comparing keys with memcmp calls). Large
// objects still use the object's own index. Keys are unique, so both find the same member.
inline constexpr std::size_t kLinearFieldSearchMax = 24;
inline const json::value* field(const json::object* o, std::string_view key) noexcept {
  if (o == nullptr) return nullptr;
  if (o->size() > kLinearFieldSearchMax) return o->if_contains(key);
  for (const json::key_value_pair& kv : *o)
    if (std::string_view(kv.key()) == key) return &kv.value();
  return nullptr;
}
inline const json::object* object_field(const json::object* o, std::string_view key) noexcept {
  const json::value* v = field(o, key);
  return v ? v->if_object() : nullptr;
}
inline const json::array* array_field(const json::object* o, std::string_view key) noexcept {
  const json::value* v = field(o, key);
  return v ? v->if_array() : nullptr;
}
inline std::string_view string_field(const json::object* o, std::string_view key) noexcept {
  const json::value* v = field(o, key);
  if (v == nullptr) return {};
  const json::string* s = v->if_string();
  return s ? std::string_view(*s) : std::string_view{};
}
// FHIR numbers arrive as int64, uint64 or double depending on their spelling.
inline std::optional<double> number_field(const json::object* o, std::string_view key) noexcept {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = v->if_int64()) return static_cast<double>(*i);
  if (const auto* u = v->if_uint64()) return static_cast<double>(*u);
  if (const auto* d = v->if_double()) return *d;
  return std::nullopt;
}
inline std::optional<long long> integer_field(const json::object* o, std::string_view key) noexcept {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = v->if_int64()) return *i;
  if (const auto* u = v->if_uint64(); u && *u <= 9'000'000'000'000'000'000ULL) return static_cast<long long>(*u);
  return std::nullopt;
}

// Iterates the object elements of a JSON array (skipping anything else) as views of type T,
// where T is constructible from `const json::object*`.
template <class T>
class ObjectRange {
 public:
  explicit ObjectRange(const json::array* a) noexcept : a_(a) {}
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const json::value* p, const json::value* e) noexcept : p_(p), e_(e) { skip(); }
    T operator*() const { return T(p_->if_object()); }
    iterator& operator++() noexcept { ++p_; skip(); return *this; }
    iterator operator++(int) noexcept { auto t = *this; ++*this; return t; }
    bool operator==(const iterator& o) const noexcept { return p_ == o.p_; }
   private:
    void skip() noexcept { while (p_ != e_ && !p_->is_object()) ++p_; }
    const json::value* p_ = nullptr;
    const json::value* e_ = nullptr;
  };
  iterator begin() const noexcept { return a_ ? iterator(a_->data(), a_->data() + a_->size()) : iterator(); }
  iterator end() const noexcept {
    auto* e = a_ ? a_->data() + a_->size() : nullptr;
    return iterator(e, e);
  }
  bool empty() const noexcept { return begin() == end(); }
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
  }
 private:
  const json::array* a_;
};

}  // namespace fhir
