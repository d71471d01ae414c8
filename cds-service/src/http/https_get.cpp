#include "cds/http/https_get.hpp"

#include "cds/hooks/fhir_client.hpp"

#include <boost/asio/io_context.hpp>

namespace cds {

// One GET through the FHIR client's HTTPS machinery (verification, no redirects, deadline,
// body cap) on a private io_context: JWKS fetches are rare and may block their caller.
std::optional<std::string> https_get(const std::string& url, const HttpsGetOptions& options, std::string* failure) {
  boost::asio::io_context ioc;
  FhirClientOptions client_options;
  client_options.ca_file = options.ca_file;
  client_options.max_response_bytes = options.max_body;
  client_options.accept = options.accept;
  client_options.max_idle_per_origin = 0;
  std::optional<std::string> body;
  FhirClient client(ioc.get_executor(), client_options);
  client.fetch({{"jwks", url}}, {}, std::chrono::steady_clock::now() + options.timeout,
               [&](std::vector<FhirResult> results) {
                 if (!results.empty() && results.front().value) body = boost::json::serialize(*results.front().value);
                 else if (failure != nullptr) *failure = results.empty() ? "no answer" : results.front().failure;
               });
  ioc.run_for(options.timeout + std::chrono::milliseconds(100));
  if (!body && failure != nullptr && failure->empty()) *failure = "timeout";
  return body;
}

}  // namespace cds
