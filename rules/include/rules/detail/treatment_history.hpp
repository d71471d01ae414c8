#pragma once
// The two questions the rules ask of the treatment history: is a whole-joint plan (prolotherapy
// series or care plan) already under way, and did pain persist after a prior single cell
// injection for knee OA (patient-view).
#include "rules/detail/order_classifier.hpp"

#include <optional>

namespace rules::detail {

// An active prolotherapy CarePlan, an active prolotherapy ServiceRequest series, or an
// in-progress/completed prolotherapy Procedure within the look-back window, in the prefetch.
// Returns what was found (the CarePlan, ServiceRequest or Procedure), or null.
const json::object* plan_in_record(const ClinicalRecord& record, ConceptMatcher& m, fhir::Instant now);

struct PainReading {
  const json::object* observation = nullptr;
  double value = 0;
  fhir::Instant when{};
};

struct PersistingPain {
  OrderFacts injection;      // the prior Procedure, classified like an order
  fhir::Instant injected{};
  std::optional<PainReading> before;  // the last reading before the injection
  PainReading after;                  // the latest reading at least N months after it
  bool above_threshold = false;       // after >= the NRS threshold (else: too small a drop)
};

std::optional<PersistingPain> find_persisting_pain(const ClinicalRecord& record,
                                                   const ResourceList& knee_oa, ConceptMatcher& m,
                                                   fhir::Instant now);

}  // namespace rules::detail
