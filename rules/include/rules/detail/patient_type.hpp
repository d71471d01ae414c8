#pragma once
// Patient typing (clinical doc §1): 3 = long-standing degenerative disease, 2 = chronic problem
// after an old injury with failed conservative care, 1 = recent injury in a younger patient,
// "unknown" when the record cannot tell - with the missing data named, never guessed.
#include "rules/detail/clinical_record.hpp"

namespace rules::detail {

struct PatientTyping {
  std::string type = "unknown";         // "1" | "2" | "3" | "unknown"
  std::vector<std::string> reasons;     // rendered phrases: why this type
  std::vector<std::string> missing;     // rendered phrases: what data was missing (unknown only)
  std::vector<std::string> evidence;    // references of the resources the type rests on
};

PatientTyping type_patient(const ClinicalRecord& record, const ResourceList& knee_oa,
                           ConceptMatcher& m, fhir::Instant now);

}  // namespace rules::detail
