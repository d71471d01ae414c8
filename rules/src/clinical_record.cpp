#include "rules/detail/clinical_record.hpp"

#include <algorithm>

namespace rules::detail {

void collect_record(const HookInput& input, ClinicalRecord& out) {
  auto add = [&out](const json::object& r) {
    const std::string_view type = fhir::string_field(&r, "resourceType");
    if (type == "Patient") {
      if (out.patient == nullptr) out.patient = &r;
    } else if (type == "Condition") {
      out.conditions.push_back(&r);
    } else if (type == "Procedure") {
      out.procedures.push_back(&r);
    } else if (type == "Observation") {
      out.observations.push_back(&r);
    } else if (type == "MedicationRequest") {
      out.medication_requests.push_back(&r);
    } else if (type == "ServiceRequest") {
      out.service_requests.push_back(&r);
    } else if (type == "CarePlan") {
      out.care_plans.push_back(&r);
    }
  };
  if (input.prefetch != nullptr)
    for (const auto& kv : *input.prefetch) {
      fhir::for_each_resource(kv.value(), add);
      out.index.add(kv.value());
    }
  if (const json::value* drafts = input.context ? input.context->if_contains("draftOrders") : nullptr) {
    fhir::for_each_resource(*drafts, [&out](const json::object& r) {
      if (fhir::Order::is_order(&r)) out.draft_orders.push_back(&r);
    });
    out.index.add(*drafts);
  }
}

std::string reference_of(const json::object& r) {
  const fhir::Resource res(&r);
  std::string ref(res.resource_type());
  ref.push_back('/');
  ref.append(res.id());
  return ref;
}

ConceptMatcher::Hit ConceptMatcher::code(Role role, const fhir::CodeableConcept& cc) const noexcept {
  const CodeTable& table = rules_.vs(role).codes;
  if (table.empty()) return {};
  for (fhir::Coding c : cc.codings())
    if (table.contains(rules_.systems.find(c.system()), c.code())) return Hit{true, c.code(), true};
  return {};
}

const ConceptMatcher::TextHits& ConceptMatcher::hits(std::string_view text) {
  // Fibonacci hashing of the address: strings of one JSON document sit close together.
  const std::uint64_t key = reinterpret_cast<std::uintptr_t>(text.data()) * 0x9E3779B97F4A7C15ULL;
  static_assert(kCacheSlots == 256);
  TextHits& slot = cache_[key >> 56];
  if (slot.data != text.data() || slot.size != text.size()) {
    scratch_.assign(text);
    rules_.term_index.scan(scratch_.tokens(), rules_.matcher, slot.first);
    slot.data = text.data();
    slot.size = text.size();
  }
  return slot;
}

ConceptMatcher::Hit ConceptMatcher::text(Role role, std::string_view text) {
  const auto& terms = rules_.vs(role).terms;
  if (text.empty() || terms.empty()) return {};
  const std::uint16_t t = hits(text).first[static_cast<std::size_t>(role)];
  if (t == TermIndex::kNone) return {};
  return Hit{true, terms[t].text, false};
}

ConceptMatcher::Hit ConceptMatcher::concept_text(Role role, const fhir::CodeableConcept& cc) {
  if (Hit h = text(role, cc.text())) return h;
  for (fhir::Coding c : cc.codings())
    if (Hit h = text(role, c.display())) return h;
  return {};
}

std::vector<const json::object*> knee_oa_conditions(const ClinicalRecord& record, ConceptMatcher& m) {
  std::vector<const json::object*> out;
  for (const json::object* c : record.conditions) {
    const fhir::Condition cond(c);
    if (cond.is_active() && m.matches(Role::knee_oa, cond.code())) out.push_back(c);
  }
  return out;
}

bool status_in(std::string_view status, const std::vector<std::string>& allowed) noexcept {
  return std::find(allowed.begin(), allowed.end(), status) != allowed.end();
}

int first_integer(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
  if (i == text.size()) return -1;
  int v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && v < 100000) v = v * 10 + (text[i++] - '0');
  return v;
}

}  // namespace rules::detail
