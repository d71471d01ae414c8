#include "rules/detail/order_classifier.hpp"

namespace rules::detail {
namespace {

using Hit = ConceptMatcher::Hit;
using Facts = ConceptMatcher::TextFacts;

// What one text of an order is for: among the orderable roles, those named currently in the
// first clause that names any; donor-derived wins over autologous there ("umbilical cord MSC").
struct Head {
  bool names_product = false;  // some orderable role is named currently in the text
  Hit donor, autologous;       // in the head clause
};

Head head_of(const Facts& f, const RuleSet& rules) {
  Head h;
  std::uint8_t head = TermIndex::kNoClause;
  for (Role r : rules.orderable_roles) head = std::min(head, f.clause[static_cast<std::size_t>(r)]);
  if (head == TermIndex::kNoClause) return h;
  h.names_product = true;
  if (f.clause[static_cast<std::size_t>(Role::donor_derived)] == head) h.donor = f.current_hit(Role::donor_derived);
  if (f.clause[static_cast<std::size_t>(Role::autologous_cell)] == head) h.autologous = f.current_hit(Role::autologous_cell);
  return h;
}

// A donor-derived term the text names as given before only (historical, not current).
std::string_view past_donor_of(const Facts& f, const RuleSet& rules) {
  const auto d = static_cast<std::size_t>(Role::donor_derived);
  if (f.current[d] != TermIndex::kNone || f.ever[d] == TermIndex::kNone) return {};
  return rules.vs(Role::donor_derived).terms[f.ever[d]].text;
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

OrderFacts classify_order(const json::object& resource, ConceptMatcher& m, const RecordIndex& index,
                          Assertion assertion) {
  const fhir::Order order(&resource);
  const RuleSet& rules = m.rules();
  OrderFacts f;
  f.resource = &resource;
  reference_of(resource, f.ref);
  const fhir::CodeableConcept code = order.code();
  f.text = code.text();
  for (fhir::Coding c : code.codings())
    if (f.text.empty()) f.text = c.display();

  // What the order is for. Its code first: an orderable coded as one product is that product,
  // whatever its text mentions.
  const Hit donor_code = m.code(Role::donor_derived, code);
  const Hit auto_code = donor_code ? Hit{} : m.code(Role::autologous_cell, code);
  bool coded_product = donor_code || auto_code;
  for (Role r : rules.orderable_roles) coded_product = coded_product || m.code(r, code);
  Head head;
  auto consider_text = [&](std::string_view text) {
    if (text.empty()) return;
    const Facts facts = m.text_facts(text);
    if (f.past_donor.empty()) f.past_donor = past_donor_of(facts, rules);
    if (coded_product || head.names_product) return;
    head = head_of(facts, rules);
    if (assertion == Assertion::ever && !head.names_product) {  // a performed Procedure's "prior amniotic injection"
      head.donor = facts.ever_hit(Role::donor_derived);
      head.autologous = facts.ever_hit(Role::autologous_cell);
      head.names_product = head.donor || head.autologous;
    }
  };
  // Then the head of its code text (or, without text, of its displays); then, for an orderable
  // that names no product (a generic "knee injection"), its notes, which then say what is given.
  consider_text(code.text());
  for (fhir::Coding c : code.codings())
    if (code.text().empty()) consider_text(c.display());
  const bool generic = !coded_product && !head.names_product;
  for (fhir::Annotation n : order.notes()) {
    if (generic) consider_text(n.text());
    else if (f.past_donor.empty()) f.past_donor = past_donor_of(m.text_facts(n.text()), rules);
  }
  if (donor_code || head.donor) {
    f.category = Category::donor;
    f.matched = donor_code ? donor_code.what : head.donor.what;
  } else if (auto_code || head.autologous) {
    f.category = Category::autologous;
    f.matched = auto_code ? auto_code.what : head.autologous.what;
    // Codes such as 0263T (limb ischemia) are cell therapy but not a knee procedure.
    f.needs_knee_site = auto_code && m.code(Role::cell_requires_knee_site, code);
  }
  if (f.category == Category::donor) f.past_donor = {};

  order.for_each_body_site([&](const fhir::CodeableConcept& site) {
    if (f.knee_site_concept == nullptr && m.matches(Role::knee_site, site)) {
      f.knee_site = true;
      f.knee_site_concept = site.json();
    }
  });
  // The site the order names now ("R knee"), not one it mentions in passing ("prior R knee scope").
  if (!f.knee_site) f.knee_site = static_cast<bool>(m.text(Role::knee_site, code.text(), assertion));
  if (!f.knee_site)
    for (fhir::Coding c : code.codings())
      if (m.text(Role::knee_site, c.display(), assertion)) {
        f.knee_site = true;
        break;
      }
  if (!f.knee_site)
    for (fhir::Annotation n : order.notes())
      if (m.text(Role::knee_site, n.text(), assertion)) {
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
  // Whether the order is, or includes, prolotherapy: by code, or named currently in its text or notes.
  f.prolotherapy = static_cast<bool>(m.code(Role::prolotherapy, code));
  if (!f.prolotherapy) f.prolotherapy = static_cast<bool>(m.text(Role::prolotherapy, code.text(), assertion));
  for (fhir::Coding c : code.codings())
    if (!f.prolotherapy) f.prolotherapy = static_cast<bool>(m.text(Role::prolotherapy, c.display(), assertion));
  for (fhir::Annotation n : order.notes())
    if (!f.prolotherapy) f.prolotherapy = static_cast<bool>(m.text(Role::prolotherapy, n.text(), assertion));
  return f;
}

}  // namespace rules::detail
