#pragma once
// The application behind the HTTP sessions: routing and the invocation pipeline
//   route -> parse + validate -> gather data -> evaluate rules -> audit (group commit) -> respond.
// Sessions hand it a parsed request and a callback; it never touches sockets.
#include "cds/http/metrics.hpp"
#include "cds/http/api_error.hpp"
#include "cds/http/connection_counters.hpp"
#include "cds/audit/pseudonymizer.hpp"
#include "cds/audit/store.hpp"
#include "cds/auth/authenticator.hpp"
#include "cds/config.hpp"
#include "cds/hooks/fhir_client.hpp"
#include "cds/http/request_body.hpp"
#include "cds/hooks/rules_store.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/params_view.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

namespace cds {

using HttpRequest = boost::beast::http::request<RequestBody>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class App {
 public:
  // `respond` may be called on another thread (the audit writer); it must not block.
  using Respond = std::function<void(HttpResponse&&)>;

  // `auth` may be null only when config.auth.enabled is false; `fhir` may be null when no
  // fallback fetching is wanted (missing prefetch is then answered 412).
  App(Config config, RulesStore& rules, AuditStore& audit, Authenticator* auth, FhirClient* fhir,
      Pseudonymizer pseudonymize);
  void handle(HttpRequest&& request, Respond respond);

  // A response for an error found before the request could be routed (by the session:
  // limits, time-outs, malformed HTTP). CORS headers are added as for any response.
  HttpResponse error_response(const ApiError& error, unsigned version, std::string_view origin) const;

  bool ready() const noexcept;

  // Operational counters, served at GET /metrics (Prometheus text format). No PHI.
  struct Metrics {
    std::atomic<std::uint64_t> invocations_ok{0}, invocations_incomplete{0}, invocations_rejected{0};
    std::atomic<std::uint64_t> auth_failures{0}, fhir_fetch_failures{0}, audit_failures{0}, feedback_items{0};
    ConnectionCounters connections;  // kept by the listener
    std::atomic<std::uint64_t> data_quality_issues{0};  // malformed FHIR elements dropped before the rules
  };
  const Metrics& metrics() const noexcept { return metrics_; }
  ConnectionCounters& connection_counters() noexcept { return metrics_.connections; }
  const Config& config() const noexcept { return config_; }

 private:
  // The invocation pipeline, one function per step (src/hooks/invocation.cpp).
  struct Invocation;
  void invoke(const struct ServiceDefinition& service, HttpRequest&& request, Principal principal, Respond respond);
  void gather(std::shared_ptr<Invocation> inv);
  void evaluate(std::shared_ptr<Invocation> inv);
  void finish(std::shared_ptr<Invocation> inv, HttpResponse response, std::string outcome);
  // GET /reports/compliance for holders of an admin token (src/reports/endpoint.cpp).
  void reports(HttpRequest&& request, const boost::urls::params_view& params, Respond respond);
  HttpResponse compliance_response(struct ReportRequest request, const HttpRequest& http_request) const;
  bool is_admin(const HttpRequest& request) const;
  // POST /cds-services/{id}/feedback (src/hooks/feedback.cpp).
  void feedback(const struct ServiceDefinition& service, HttpRequest&& request, Principal principal, Respond respond);
  // Authenticates the caller for `audience`, then hands the request on to `next`; on failure
  // answers 401 itself. A token whose key must first be fetched from its issuer's JWK Set URL
  // is checked, and its request carried on, on key_fetches_: no I/O thread waits on the EHR.
  using Authenticated = std::function<void(HttpRequest&&, Principal, Respond)>;
  void authenticated(HttpRequest&& request, std::string audience, Respond respond, Authenticated next);
  void refuse(const AuthFailure& failure, const HttpRequest& request, const Respond& respond);
  // Why the service will not contact `fhir_server` for this caller ("" when it may).
  std::string fhir_server_refusal(const Principal& principal, std::string_view fhir_server) const;
  HttpResponse json_response(unsigned status, std::string body, const HttpRequest& request) const;
  void add_cors(HttpResponse& response, std::string_view origin) const;
  // 503 for a request whose audit record could not be committed.
  HttpResponse audit_unavailable(unsigned version, bool keep_alive, std::string_view origin) const;

  Config config_;
  std::string base_url_;
  RulesStore& rules_;
  AuditStore& audit_;
  Authenticator* auth_;
  FhirClient* fhir_;
  Pseudonymizer pseudonymize_;
  mutable Metrics metrics_;  // counters change on const paths (error responses) too
  mutable RequestMetrics request_metrics_;  // latency per service and status, cards by rule
  // Slow, rare work (compliance reports read the whole audit range) runs here, never on an I/O
  // thread where it would hold up every clinician's answer behind it. The last members, so they
  // are destroyed first: each waits for its work in progress while all that work uses is alive.
  boost::asio::thread_pool slow_work_{1};
  // JWK Set fetches (blocking, bounded by their time-out), one at a time: a second token for
  // the same new key waits for the first fetch and then finds the key without a fetch of its own.
  boost::asio::thread_pool key_fetches_{1};
};

}  // namespace cds
