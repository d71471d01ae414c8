#include "cds/http/api_error.hpp"

#include "fhir/json.hpp"

namespace cds {

std::string error_body(const ApiError& e) {
  return boost::json::serialize(
      boost::json::object{{"error", boost::json::object{{"status", e.status}, {"message", e.message}}}});
}

}  // namespace cds
