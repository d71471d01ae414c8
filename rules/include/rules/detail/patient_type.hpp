#pragma once
// Patient typing (clinical doc §1): 3 = long-standing degenerative disease, 2 = chronic problem
// after an old injury with failed conservative care, 1 = recent injury in a younger patient,
// "unknown" when the record cannot tell - with the missing data named, never guessed.
#include "rules/detail/clinical_record.hpp"

#include <memory_resource>

namespace rules::detail {

// Allocated from the memory resource given (evaluate() passes its per-evaluation arena).
struct PatientTyping {
  using Phrases = std::pmr::vector<std::pmr::string>;
  explicit PatientTyping(std::pmr::memory_resource* mr = std::pmr::get_default_resource())
      : type("unknown", mr), reasons(mr), missing(mr), evidence(mr) {}

  std::pmr::string type;  // "1" | "2" | "3" | "unknown"
  Phrases reasons;        // rendered phrases: why this type
  Phrases missing;        // rendered phrases: what data was missing (unknown only)
  Phrases evidence;       // references of the resources the type rests on
};

PatientTyping type_patient(const ClinicalRecord& record, const ResourceList& knee_oa, ConceptMatcher& m,
                           fhir::Instant now, std::pmr::memory_resource* mr = std::pmr::get_default_resource());

}  // namespace rules::detail
