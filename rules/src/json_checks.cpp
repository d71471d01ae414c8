#include "json_checks.hpp"

#include <cmath>

namespace rules::detail {

void fail(std::string_view path, std::string_view what) {
  std::string m;
  if (!path.empty()) m.append("field ").append(path).append(": ");
  m.append(what);
  throw CheckFailure{std::move(m)};
}

std::string join_path(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (!p.empty()) p.push_back('.');
  p.append(key);
  return p;
}

std::string index_path(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

Checked Checked::of(const json::value& v, std::string path) {
  const json::object* o = v.if_object();
  if (o == nullptr) fail(path, "expected an object");
  return Checked(*o, std::move(path));
}

void Checked::only_keys(std::initializer_list<std::string_view> allowed) const {
  for (const auto& kv : *o_) {
    bool known = false;
    for (std::string_view a : allowed) known = known || kv.key() == a;
    if (!known) fail(path_of(kv.key()), "unknown field");
  }
}

const json::value& Checked::required(std::string_view key) const {
  const json::value* v = o_->if_contains(key);
  if (v == nullptr) fail(path_of(key), "missing");
  return *v;
}

std::string Checked::string(std::string_view key) const { return element_string(required(key), path_of(key)); }

std::optional<std::string> Checked::opt_string(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return string(key);
}

bool Checked::boolean(std::string_view key) const {
  const json::value& v = required(key);
  if (!v.is_bool()) fail(path_of(key), "expected true or false");
  return v.get_bool();
}

std::optional<bool> Checked::opt_boolean(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return boolean(key);
}

double Checked::number(std::string_view key, double min, double max) const {
  const json::value& v = required(key);
  double d = 0;
  if (const auto* i = v.if_int64()) d = static_cast<double>(*i);
  else if (const auto* u = v.if_uint64()) d = static_cast<double>(*u);
  else if (const auto* f = v.if_double()) d = *f;
  else fail(path_of(key), "expected a number");
  if (!std::isfinite(d) || d < min || d > max)
    fail(path_of(key), "out of range [" + json::serialize(json::value(min)) + ", " +
                           json::serialize(json::value(max)) + "]");
  return d;
}

int Checked::integer(std::string_view key, int min, int max) const {
  const json::value& v = required(key);
  if (!v.is_int64() && !v.is_uint64()) fail(path_of(key), "expected an integer");
  const double d = number(key, min, max);
  return static_cast<int>(d);
}

Checked Checked::object(std::string_view key) const { return of(required(key), path_of(key)); }

const json::array& Checked::array(std::string_view key) const {
  const json::value& v = required(key);
  const json::array* a = v.if_array();
  if (a == nullptr) fail(path_of(key), "expected an array");
  return *a;
}

std::optional<std::reference_wrapper<const json::array>> Checked::opt_array(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return std::cref(array(key));
}

std::string element_string(const json::value& v, std::string_view path) {
  const json::string* s = v.if_string();
  if (s == nullptr) fail(path, "expected a string");
  if (s->empty()) fail(path, "must not be empty");
  return std::string(*s);
}

}  // namespace rules::detail
