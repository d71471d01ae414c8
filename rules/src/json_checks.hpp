#pragma once
// Strict, path-reporting reads of rule-file JSON for the loader. A failed check throws
// CheckFailure naming the field ("terms[2].text: expected a string"); load_rule_set() turns it
// into a LoadError for the file. Load time only: evaluation never throws.
#include "fhir/json.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace rules::detail {

namespace json = boost::json;

struct CheckFailure {
  std::string message;
};

[[noreturn]] void fail(std::string_view path, std::string_view what);

std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t i);

// A JSON object being checked, with its path from the file root ("" for the root).
class Checked {
 public:
  Checked(const json::object& o, std::string path) : o_(&o), path_(std::move(path)) {}
  static Checked of(const json::value& v, std::string path);  // fails unless v is an object

  const json::object& raw() const noexcept { return *o_; }
  const std::string& path() const noexcept { return path_; }
  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  bool has(std::string_view key) const noexcept { return o_->contains(key); }

  // Fails on any key not in `allowed` (catches typos such as "requries_any").
  void only_keys(std::initializer_list<std::string_view> allowed) const;

  std::string string(std::string_view key) const;  // required, non-empty
  std::optional<std::string> opt_string(std::string_view key) const;
  bool boolean(std::string_view key) const;
  std::optional<bool> opt_boolean(std::string_view key) const;
  double number(std::string_view key, double min, double max) const;
  int integer(std::string_view key, int min, int max) const;
  Checked object(std::string_view key) const;
  const json::array& array(std::string_view key) const;
  std::optional<std::reference_wrapper<const json::array>> opt_array(std::string_view key) const;

 private:
  const json::value& required(std::string_view key) const;
  const json::object* o_;
  std::string path_;
};

// A non-empty string element of an array.
std::string element_string(const json::value& v, std::string_view path);

}  // namespace rules::detail
