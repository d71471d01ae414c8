#pragma once
// The page behind every card's evidence link and source.url (GET /docs/evidence/knee-oa): what a
// clinician reads on a phone in a minute — the regulatory facts, the plans by patient type with
// their key studies, every study with its citation and summary. An HTML rendering of
// rules::describe_evidence(), every value escaped, no scripts.
#include "fhir/json.hpp"

#include <string>

namespace cds {

std::string render_evidence_page(const boost::json::value& evidence);

}  // namespace cds
