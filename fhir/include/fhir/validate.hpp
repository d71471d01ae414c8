#pragma once
// Reports the fields of a resource whose JSON type is not what FHIR R4 says, for the fields
// the views read. The views themselves read a wrong-typed field as absent; this tells why.
#include "fhir/json.hpp"

#include <string>
#include <vector>

namespace fhir {

struct Issue {
  std::string path;     // FHIRPath-like, e.g. "Condition.onsetDateTime"
  std::string message;  // e.g. "expected a FHIR dateTime string"
};

std::vector<Issue> validate_resource(const json::value& resource);

}  // namespace fhir
