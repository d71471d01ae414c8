#pragma once
// A small, bounded HTTPS GET for fetching JWK Sets: certificate and host name verified,
// no redirects followed, a deadline on the whole exchange, a cap on the body size.
#include <chrono>
#include <optional>
#include <string>

namespace cds {

struct HttpsGetOptions {
  std::string ca_file;  // empty: the system's trust store
  std::chrono::milliseconds timeout{2000};
  std::size_t max_body = 1024 * 1024;
  std::string accept = "application/json";
};

// The body of a 200 answer; nullopt for anything else (errors, other statuses, time-out), with
// the reason in `*failure` when given ("timeout", "HTTP 404", "connection failed", ...).
std::optional<std::string> https_get(const std::string& url, const HttpsGetOptions& options,
                                     std::string* failure = nullptr);

}  // namespace cds
