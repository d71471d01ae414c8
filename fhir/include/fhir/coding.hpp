#pragma once
// Coding, CodeableConcept, Reference, Quantity and Period views, and the two ways a rule
// matches a concept: by system + code, and by case-insensitive text.
#include "fhir/datetime.hpp"
#include "fhir/json.hpp"

#include <string_view>

namespace fhir {

struct Coding {
  explicit Coding(const json::object* o) noexcept : o_(o) {}
  std::string_view system() const noexcept { return string_field(o_, "system"); }
  std::string_view code() const noexcept { return string_field(o_, "code"); }
  std::string_view display() const noexcept { return string_field(o_, "display"); }
  const json::object* json() const noexcept { return o_; }
 private:
  const json::object* o_;
};

class CodeableConcept {
 public:
  CodeableConcept() noexcept = default;
  explicit CodeableConcept(const json::object* o) noexcept : o_(o) {}
  bool present() const noexcept { return o_ != nullptr; }
  std::string_view text() const noexcept { return string_field(o_, "text"); }
  ObjectRange<Coding> codings() const noexcept { return ObjectRange<Coding>(array_field(o_, "coding")); }
  // True when a coding has exactly this system and code.
  bool has_code(std::string_view system, std::string_view code) const noexcept;
  // The code of the first coding in `system`, or empty.
  std::string_view code_in(std::string_view system) const noexcept;
  // True when the text or any coding display equals `text`, ignoring ASCII case.
  bool text_equals(std::string_view text) const noexcept;
  // True when the text or any coding display contains `text`, ignoring ASCII case.
  bool text_contains(std::string_view text) const noexcept;
  const json::object* json() const noexcept { return o_; }
 private:
  const json::object* o_ = nullptr;
};

struct Reference {
  explicit Reference(const json::object* o) noexcept : o_(o) {}
  std::string_view reference() const noexcept { return string_field(o_, "reference"); }
  std::string_view display() const noexcept { return string_field(o_, "display"); }
 private:
  const json::object* o_;
};

struct Quantity {
  double value = 0;
  std::string_view unit, system, code;
};
std::optional<Quantity> read_quantity(const json::object* o) noexcept;

// Period from a FHIR Period object; unparseable bounds read as open.
Period read_period(const json::object* o) noexcept;

// ASCII case-insensitive comparisons (FHIR codes and our terms are ASCII; other bytes compare as-is).
bool iequals(std::string_view a, std::string_view b) noexcept;
bool icontains(std::string_view haystack, std::string_view needle) noexcept;

}  // namespace fhir
