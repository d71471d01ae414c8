#pragma once
// Errors as values at the HTTP boundary: every refusal the service makes is one of these,
// rendered as {"error": {"status": N, "message": "..."}}.
#include <string>

namespace cds {

struct ApiError {
  unsigned status = 400;
  std::string message;  // names the offending field; never echoes PHI from the body
};

inline ApiError bad_request(std::string m) { return {400, std::move(m)}; }
inline ApiError not_found(std::string m) { return {404, std::move(m)}; }

std::string error_body(const ApiError& e);

}  // namespace cds
