#include "rules/detail/clinical_record.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

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

const json::object* RecordIndex::resolve(std::string_view reference) const noexcept {
  if (reference.empty()) return nullptr;
  // Calls f(resource, fullUrl) for every indexed resource, in the order added, until f is true.
  auto find = [this](auto&& f) -> const json::object* {
    for (const json::value* v : sources_) {
      const json::object* o = v->if_object();
      if (o == nullptr) continue;
      if (fhir::string_field(o, "resourceType") != "Bundle") {
        if (f(*o, std::string_view{})) return o;
        continue;
      }
      for (fhir::BundleEntry e : fhir::Bundle(o).entries())
        if (const json::object* r = e.resource(); r != nullptr && f(*r, e.full_url())) return r;
    }
    return nullptr;
  };
  if (const json::object* r = find([&](const json::object&, std::string_view full_url) {
        return !full_url.empty() && full_url == reference;
      }))
    return r;
  std::string_view type, id;
  if (!fhir::split_reference(reference, type, id)) return nullptr;
  return find([&](const json::object& r, std::string_view) {
    return fhir::string_field(&r, "resourceType") == type && fhir::string_field(&r, "id") == id;
  });
}

void reference_of(const json::object& r, Reference& out) {
  const fhir::Resource res(&r);
  out.assign(res.resource_type());
  out.push_back('/');
  out.append(res.id());
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
  const std::size_t hash = std::hash<std::string_view>{}(text);
  TextHits& slot = cache_[hash % kCacheSlots];
  const bool same = slot.data != nullptr && slot.hash == hash && slot.size == text.size() &&
                    (slot.data == text.data() || std::memcmp(slot.data, text.data(), text.size()) == 0);
  if (!same) {
    scratch_.assign(text);
    rules_.term_index.scan(scratch_.tokens(), rules_.matcher, slot.first);
    slot.data = text.data();
    slot.size = text.size();
    slot.hash = hash;
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

ResourceList knee_oa_conditions(const ClinicalRecord& record, ConceptMatcher& m) {
  ResourceList out;
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
