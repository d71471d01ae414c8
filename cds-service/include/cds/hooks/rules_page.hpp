#pragma once
// The rules' documentation page (GET /docs/rules/knee-oa, where cards' source.url points): an
// HTML rendering of rules::describe(), every value escaped.
#include "fhir/json.hpp"

#include <string>

namespace cds {

std::string render_rules_page(const boost::json::value& description);

}  // namespace cds
