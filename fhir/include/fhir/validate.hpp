#pragma once
// Reports the fields of a resource whose JSON type is not what FHIR R4 says, for the fields
// the views read. The views themselves read a wrong-typed field as absent; this tells why.
#include "fhir/json.hpp"

#include <string>
#include <vector>

namespace fhir {

struct Issue {
  std::string path;     // FHIRPath-like, e.g. "Condition.onsetDateTime"
  std::string message;  // e.g. "expected a FHIR dateTime string"; never a value from the data
  // The resource cannot be used at all: it is not an object, has no resourceType, or an id that
  // is not a FHIR id (ids become the references cards hand back). Otherwise only the element at
  // `path` is malformed, and drop_malformed() removes it.
  bool fatal = false;
  // Some rule reads the element, so going without it could change a verdict.
  bool read_by_rules = true;
};

std::vector<Issue> validate_resource(const json::value& resource);

// The same checks, and every malformed element that is not fatal removed from `resource` in
// place (an element of the wrong shape is treated as absent, as a lenient FHIR parser does).
// When any issue is fatal nothing is removed. Returns every issue found.
std::vector<Issue> drop_malformed(json::value& resource);

}  // namespace fhir
