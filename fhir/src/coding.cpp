#include "fhir/coding.hpp"

#include <algorithm>

namespace fhir {
namespace {
constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool icontains(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char x, char y) { return lower(x) == lower(y); });
  return it != haystack.end();
}

bool CodeableConcept::has_code(std::string_view system, std::string_view code) const noexcept {
  for (Coding c : codings())
    if (c.system() == system && c.code() == code) return true;
  return false;
}

std::string_view CodeableConcept::code_in(std::string_view system) const noexcept {
  for (Coding c : codings())
    if (c.system() == system) return c.code();
  return {};
}

bool CodeableConcept::text_equals(std::string_view t) const noexcept {
  if (iequals(text(), t)) return true;
  for (Coding c : codings())
    if (iequals(c.display(), t)) return true;
  return false;
}

bool CodeableConcept::text_contains(std::string_view t) const noexcept {
  if (icontains(text(), t)) return true;
  for (Coding c : codings())
    if (icontains(c.display(), t)) return true;
  return false;
}

std::optional<Quantity> read_quantity(const json::object* o) noexcept {
  auto v = number_field(o, "value");
  if (!v) return std::nullopt;
  return Quantity{*v, string_field(o, "unit"), string_field(o, "system"), string_field(o, "code")};
}

Period read_period(const json::object* o) noexcept {
  Period p;
  if (auto s = parse_date_time(string_field(o, "start"))) p.start = s->start;
  if (auto e = parse_date_time(string_field(o, "end"))) p.end = e->end;
  return p;
}

}  // namespace fhir
