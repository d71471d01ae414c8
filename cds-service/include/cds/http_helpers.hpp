#pragma once
// Small helpers shared by the HTTP endpoints.
#include <chrono>
#include <string>
#include <string_view>

namespace cds {

// application/json or application/fhir+json, with or without parameters.
bool is_json_content_type(std::string_view content_type);

// ISO 8601 UTC with milliseconds, e.g. 2026-11-25T12:00:00.123Z (the audit's time format).
std::string iso_utc(std::chrono::system_clock::time_point t);

}  // namespace cds
