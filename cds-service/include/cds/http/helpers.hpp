#pragma once
// Small helpers shared by the HTTP endpoints.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cds {

// application/json or application/fhir+json, with or without parameters.
bool is_json_content_type(std::string_view content_type);

// What is wrong with a request's Host header fields, if anything (RFC 9112 section 3.2: an
// HTTP/1.1 request has exactly one, an HTTP/1.0 request at most one, and its value is an
// authority - host and optional port, no user info). `version` is 10 or 11, `fields` the
// number of Host fields and `value` the first one's value. Such a request gets a 400: a server
// must not guess which host was meant.
std::optional<std::string> host_header_problem(unsigned version, std::size_t fields, std::string_view value);

// ISO 8601 UTC with milliseconds, e.g. 2026-11-25T12:00:00.123Z (the audit's time format).
std::string iso_utc(std::chrono::system_clock::time_point t);

}  // namespace cds
