#include "rules/detail/order_classifier.hpp"

namespace rules::detail {
namespace {

using Hit = ConceptMatcher::Hit;

// The product an order names: by code in the order's code, else by a term in its code text,
// code displays or notes. (Dosage text and bodySite describe where, not what.)
Hit product_hit(Role role, const fhir::Order& order, ConceptMatcher& m) {
  const fhir::CodeableConcept code = order.code();
  if (Hit h = m.code(role, code)) return h;
  if (Hit h = m.concept_text(role, code)) return h;
  for (fhir::Annotation n : order.notes())
    if (Hit h = m.text(role, n.text())) return h;
  return {};
}

}  // namespace

std::string_view category_name(Category c) noexcept {
  switch (c) {
    case Category::donor: return "donor-derived";
    case Category::autologous: return "autologous";
    case Category::none: break;
  }
  return "";
}

OrderFacts classify_order(const json::object& resource, ConceptMatcher& m, const RecordIndex& index) {
  const fhir::Order order(&resource);
  const RuleSet& rules = m.rules();
  OrderFacts f;
  f.resource = &resource;
  reference_of(resource, f.ref);
  const fhir::CodeableConcept code = order.code();
  f.text = code.text();
  for (fhir::Coding c : code.codings())
    if (f.text.empty()) f.text = c.display();

  // Donor-derived wins over autologous in the same order ("umbilical cord MSC").
  if (Hit h = product_hit(Role::donor_derived, order, m)) {
    f.category = Category::donor;
    f.matched = h.what;
  } else if (Hit a = product_hit(Role::autologous_cell, order, m)) {
    f.category = Category::autologous;
    f.matched = a.what;
    // Codes such as 0263T (limb ischemia) are cell therapy but not a knee procedure.
    f.needs_knee_site = a.by_code && m.code(Role::cell_requires_knee_site, code);
  }

  order.for_each_body_site([&](const fhir::CodeableConcept& site) {
    if (f.knee_site_concept == nullptr && m.matches(Role::knee_site, site)) {
      f.knee_site = true;
      f.knee_site_concept = site.json();
    }
  });
  if (!f.knee_site) f.knee_site = static_cast<bool>(m.concept_text(Role::knee_site, code));
  if (!f.knee_site)
    for (fhir::Annotation n : order.notes())
      if (m.text(Role::knee_site, n.text())) {
        f.knee_site = true;
        break;
      }

  for (fhir::CodeableConcept reason : order.reason_codes())
    if (m.matches(Role::knee_oa, reason)) {
      f.knee_oa_reason = true;
      f.reason_concept = reason.json();
      break;
    }
  if (!f.knee_oa_reason)
    for (fhir::Reference r : order.reason_references()) {
      const json::object* target = index.resolve(r.reference());
      if (target == nullptr || fhir::string_field(target, "resourceType") != "Condition") continue;
      const fhir::Condition cond(target);
      if (cond.is_active() && m.matches(Role::knee_oa, cond.code())) {
        f.knee_oa_reason = true;
        reference_of(*target, f.reason_ref);
        f.reason_concept = cond.code().json();
        break;
      }
    }

  const auto& t = rules.thresholds;
  const auto count = order.repeat_count();
  const auto quantity = order.quantity();
  f.single_shot = (!count || *count < t.single_shot_series_repeat_count_at_least) &&
                  (!quantity || *quantity <= t.single_shot_quantity_at_most);
  f.prolotherapy = static_cast<bool>(product_hit(Role::prolotherapy, order, m));
  return f;
}

}  // namespace rules::detail
