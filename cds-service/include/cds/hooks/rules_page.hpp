#pragma once
// The rules' documentation page for rule authors and reviewers (GET /docs/rules/knee-oa): an
// HTML rendering of rules::describe(), every value escaped, including the ConText triggers.
#include "fhir/json.hpp"

#include <string>

namespace cds {

std::string render_rules_page(const boost::json::value& description);

// Text made safe for HTML element content and double-quoted attribute values.
std::string html_escape(std::string_view s);

}  // namespace cds
