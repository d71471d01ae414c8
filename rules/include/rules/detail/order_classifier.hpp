#pragma once
// What an order (or a performed Procedure) is, as the rules see it: which cell product it is for,
// whether it targets the knee or is given for knee OA, and whether it is one session. What it is
// for is the orderable itself: its code, else the first clause of its code text that names a
// product without a ConText modifier (context.hpp); a product its text only mentions (refused,
// given before, discussed, someone else's) does not make it that product.
#include "rules/detail/clinical_record.hpp"

namespace rules::detail {

enum class Category : std::uint8_t { none, donor, autologous };

std::string_view category_name(Category c) noexcept;  // "donor-derived" | "autologous" | ""

struct OrderFacts {
  const json::object* resource = nullptr;
  Reference ref;               // "ServiceRequest/sr-1"
  std::string_view text;       // code text, else the first display; may be empty (code-only order)
  Category category = Category::none;
  std::string_view matched;    // the term or code that decided the category
  // A donor-derived product the order's text names only as given before ("prior amniotic
  // injection"): context for the plan card, never what the order is for.
  std::string_view past_donor;
  bool needs_knee_site = false;  // matched only by a code that counts only with a knee site
  bool knee_site = false;
  const json::object* knee_site_concept = nullptr;  // the knee bodySite / dosage site, if coded as one
  bool knee_oa_reason = false;
  Reference reason_ref;                           // the knee-OA Condition named in reasonReference
  const json::object* reason_concept = nullptr;   // the knee-OA reason's CodeableConcept
  bool single_shot = false;
  bool prolotherapy = false;   // the order is (or includes) prolotherapy

  // A regenerative cell injection aimed at the knee (site, or a knee-OA reason).
  bool is_knee_cell_injection() const noexcept {
    if (category == Category::none) return false;
    return needs_knee_site ? knee_site : (knee_site || knee_oa_reason);
  }
};

// `assertion`: current for a draft order; ever for a performed Procedure, which is history by
// nature, so a historical mention in its text ("prior amniotic injection") still says what it was.
OrderFacts classify_order(const json::object& order, ConceptMatcher& m, const RecordIndex& index,
                          Assertion assertion = Assertion::current);

}  // namespace rules::detail
