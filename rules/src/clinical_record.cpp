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

ConceptMatcher::Hit ConceptMatcher::text(Role role, std::string_view text) {
  const auto& terms = rules_.vs(role).terms;
  if (text.empty() || terms.empty()) return {};
  // Texts are views into the request, which does not change during an evaluation: the same
  // pointer and length is the same text, so its tokens can be reused across value sets.
  if (text.data() != last_.data() || text.size() != last_.size()) {
    scratch_.assign(text);
    last_ = text;
  }
  if (const Term* t = rules_.matcher.find(scratch_, terms)) return Hit{true, t->text, false};
  return {};
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
