#pragma once
// Prefetch templates (CDS Hooks 2.0): checking them at start-up, rendering them for a request,
// and deciding whether fhirAuthorization's scope lets us run the rendered query ourselves.
#include "fhir/json.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace cds {

// Empty when every {{token}} in the template is one the spec defines; else what is wrong.
std::string check_prefetch_template(std::string_view query_template);

// Replaces {{context.X}} (root-level primitive context fields) and {{userPractitionerId}},
// {{userPractitionerRoleId}}, {{userPatientId}}, {{userRelatedPersonId}} (from context.userId),
// URL-encoding each value. Nullopt when a value the template needs is absent.
std::optional<std::string> render_prefetch(std::string_view query_template, const boost::json::object& context);

// True when an OAuth scope string grants what `query` needs: read for "Type/id", search for
// "Type?...". Understands SMART v1 (patient/Condition.read, user/*.*) and v2 (patient/Condition.rs).
bool scope_allows(std::string_view scope, std::string_view query);

}  // namespace cds
