#include "rules/detail/code_table.hpp"

#include <algorithm>

namespace rules::detail {
namespace {

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && fhir::iequals(s.substr(0, prefix.size()), prefix);
}

struct ByUrl {
  bool operator()(const std::pair<std::string, int>& a, std::string_view b) const noexcept { return a.first < b; }
  bool operator()(std::string_view a, const std::pair<std::string, int>& b) const noexcept { return a < b.first; }
};

}  // namespace

int SystemTable::add_canonical(std::string_view url) {
  for (std::size_t i = 0; i < canonical_.size(); ++i)
    if (canonical_[i] == url) return static_cast<int>(i);
  canonical_.emplace_back(url);
  const int index = static_cast<int>(canonical_.size() - 1);
  lookup_.emplace_back(std::string(url), index);
  return index;
}

void SystemTable::add_alias(std::string_view alias, std::string_view url) {
  const int index = add_canonical(url);
  lookup_.emplace_back(std::string(alias), index);
}

void SystemTable::freeze() {
  std::sort(lookup_.begin(), lookup_.end());
  lookup_.erase(std::unique(lookup_.begin(), lookup_.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                lookup_.end());
}

int SystemTable::find(std::string_view system) const noexcept {
  // A trailing slash is a common variation ("http://loinc.org/"): not a different system.
  if (system.size() > 1 && system.back() == '/') system.remove_suffix(1);
  auto it = std::lower_bound(lookup_.begin(), lookup_.end(), system, ByUrl{});
  return it != lookup_.end() && it->first == system ? it->second : unknown;
}

void CodeTable::freeze() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const CodeEntry& a, const CodeEntry& b) { return a.system < b.system; });
}

bool CodeTable::contains(int system, std::string_view code) const noexcept {
  if (system == SystemTable::unknown || code.empty()) return false;
  auto first = std::lower_bound(entries_.begin(), entries_.end(), system,
                                [](const CodeEntry& e, int s) { return e.system < s; });
  for (auto it = first; it != entries_.end() && it->system == system; ++it)
    if (it->prefix ? istarts_with(code, it->code) : fhir::iequals(code, it->code)) return true;
  return false;
}

bool CodeTable::contains(const SystemTable& systems, const fhir::CodeableConcept& cc) const noexcept {
  if (entries_.empty()) return false;
  for (fhir::Coding c : cc.codings())
    if (contains(systems.find(c.system()), c.code())) return true;
  return false;
}

}  // namespace rules::detail
