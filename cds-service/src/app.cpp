#include "cds/app.hpp"

#include "cds/hooks/hook_request.hpp"
#include "cds/log.hpp"
#include "cds/hooks/evidence_page.hpp"
#include "cds/hooks/rules_page.hpp"
#include "cds/hooks/services.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace cds {
namespace http = boost::beast::http;
namespace json = boost::json;

App::App(Config config, RulesStore& rules, AuditStore& audit, Authenticator* auth, FhirClient* fhir,
         Pseudonymizer pseudonymize)
    : config_(std::move(config)),
      base_url_(config_.base_url()),
      rules_(rules),
      audit_(audit),
      auth_(auth),
      fhir_(fhir),
      pseudonymize_(std::move(pseudonymize)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

bool App::ready() const noexcept { return rules_.current() != nullptr && audit_.writable(); }

void App::add_cors(HttpResponse& res, std::string_view origin) const {
  if (origin.empty()) return;
  const auto& allowed = config_.cors_allowed_origins;
  const bool open = allowed.empty() ? !config_.auth.enabled : std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (open) {
    res.set(http::field::access_control_allow_origin, "*");
    res.set(http::field::access_control_expose_headers, "WWW-Authenticate");
    return;
  }
  // Echo only an allowlisted origin, never an arbitrary one (OWASP); caches must key on it.
  res.set(http::field::vary, "Origin");
  if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
    res.set(http::field::access_control_allow_origin, origin);
    // A browser client reads why a 401 was given only from a header it was allowed to see.
    res.set(http::field::access_control_expose_headers, "WWW-Authenticate");
  }
}

HttpResponse App::json_response(unsigned status, std::string body, const HttpRequest& req) const {
  HttpResponse res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "cds-knee-oa");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  add_cors(res, req[http::field::origin]);
  return res;
}

HttpResponse App::error_response(const ApiError& e, unsigned version, std::string_view origin) const {
  HttpResponse res{static_cast<http::status>(e.status), version};
  res.set(http::field::server, "cds-knee-oa");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(false);
  res.body() = error_body(e);
  res.prepare_payload();
  add_cors(res, origin);
  return res;
}

HttpResponse App::audit_unavailable(unsigned version, bool keep_alive, std::string_view origin) const {
  log_repeated(LogLevel::error, "audit 503", "audit commit failed, answering 503: " + audit_.last_failure());
  metrics_.audit_failures.fetch_add(1, std::memory_order_relaxed);
  HttpResponse res = error_response({503, "the audit store cannot be written; try again later"}, version, origin);
  res.keep_alive(keep_alive);
  res.set(http::field::retry_after, "5");
  return res;
}

void App::handle(HttpRequest&& req, Respond respond) {
  auto error = [&](unsigned status, std::string message, std::string_view allow = {}) {
    HttpResponse res = json_response(status, error_body({status, std::move(message)}), req);
    if (!allow.empty()) res.set(http::field::allow, allow);
    respond(std::move(res));
  };
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return error(400, "request target is not a valid origin-form path");
  auto segs = url->segments();
  std::vector<std::string> parts;
  for (auto s : segs) parts.push_back(s);
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // tolerate one trailing slash

  if (req.method() == http::verb::options) {  // CORS pre-flight, on every path
    HttpResponse res = json_response(204, {}, req);
    res.erase(http::field::content_type);
    res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type");
    res.set(http::field::access_control_max_age, "600");
    res.erase(http::field::content_length);  // RFC 9110 §8.6: a 204 carries no Content-Length
    return respond(std::move(res));
  }
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;

  if (parts.size() == 1 && parts[0] == "healthz") {
    if (!get) return error(405, "use GET on /healthz", "GET, OPTIONS");
    return respond(json_response(200, R"({"status":"up"})", req));
  }
  if (parts.size() == 1 && parts[0] == "readyz") {
    if (!get) return error(405, "use GET on /readyz", "GET, OPTIONS");
    auto rules = rules_.current();
    // The answer after next tells whether it recovered. A shared store is probed on every call:
    // the database can go away while this replica gets no traffic.
    if (!audit_.writable() || audit_.shared()) audit_.probe();
    json::object body{{"status", ready() ? "ready" : "not-ready"},
                      {"rulesLoaded", rules != nullptr},
                      {"auditWritable", audit_.writable()}};
    if (rules) body["rulesVersion"] = rules::version_of(*rules);
    return respond(json_response(ready() ? 200 : 503, json::serialize(body), req));
  }
  if (parts.size() == 3 && parts[0] == "docs" && parts[1] == "rules" && parts[2] == "knee-oa") {
    if (!get) return error(405, "use GET on the rules page", "GET, OPTIONS");
    // Public documentation of the rules in force (no PHI), so the card's source link works.
    HttpResponse res = json_response(200, render_rules_page(rules::describe(*rules_.current())), req);
    res.set(http::field::content_type, "text/html; charset=utf-8");
    return respond(std::move(res));
  }
  if (parts.size() == 3 && parts[0] == "docs" && parts[1] == "evidence" && parts[2] == "knee-oa") {
    if (!get) return error(405, "use GET on the evidence page", "GET, OPTIONS");
    // The page behind every card's evidence link and source.url (public, no PHI).
    HttpResponse res = json_response(200, render_evidence_page(rules::describe_evidence(*rules_.current())), req);
    res.set(http::field::content_type, "text/html; charset=utf-8");
    return respond(std::move(res));
  }
  if (parts.size() == 2 && parts[0] == "reports" && parts[1] == "compliance") {
    if (!get) return error(405, "use GET on /reports/compliance", "GET, OPTIONS");
    if (!is_admin(req)) {
      HttpResponse res = json_response(401, error_body({401, "an admin token is required for reports"}), req);
      res.set(http::field::www_authenticate, "Bearer realm=\"reports\"");
      return respond(std::move(res));
    }
    return reports(std::move(req), url->params(), std::move(respond));
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (!get) return error(405, "use GET on /metrics", "GET, OPTIONS");
    auto line = [](std::string& out, const char* name, const char* help, std::uint64_t v, const char* labels = "") {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
      out += std::string(name) + labels + " " + std::to_string(v) + "\n";
    };
    std::string text;
    const auto& m = metrics_;
    text += "# HELP cds_invocations_total CDS service invocations by outcome\n# TYPE cds_invocations_total counter\n";
    text += "cds_invocations_total{outcome=\"ok\"} " + std::to_string(m.invocations_ok.load()) + "\n";
    text += "cds_invocations_total{outcome=\"incomplete\"} " + std::to_string(m.invocations_incomplete.load()) + "\n";
    text += "cds_invocations_total{outcome=\"rejected\"} " + std::to_string(m.invocations_rejected.load()) + "\n";
    line(text, "cds_auth_failures_total", "requests refused with 401", m.auth_failures.load());
    line(text, "cds_fhir_fetch_failures_total", "prefetch keys that could not be fetched", m.fhir_fetch_failures.load());
    line(text, "cds_audit_failures_total", "responses refused because the audit could not be written", m.audit_failures.load());
    line(text, "cds_feedback_items_total", "feedback items stored", m.feedback_items.load());
    line(text, "cds_data_quality_issues_total", "malformed FHIR elements dropped from requests and fetched data",
         m.data_quality_issues.load());
    line(text, "cds_audit_records_total", "audit records committed (invocations and feedback)", audit_.committed());
    line(text, "cds_audit_commits_total", "audit transactions committed, each one fsync (group commit)", audit_.commits());
    line(text, "cds_audit_checkpoints_total", "audit WAL checkpoints (each syncs the WAL and the database)", audit_.checkpoints());
    text += "# HELP cds_audit_writable whether the audit writer's last commit succeeded (what /readyz reports)\n"
            "# TYPE cds_audit_writable gauge\ncds_audit_writable " + std::string(audit_.writable() ? "1" : "0") + "\n";
    const auto& conn = m.connections;
    text += "# HELP cds_connections_open client connections open now\n# TYPE cds_connections_open gauge\n";
    text += "cds_connections_open " + std::to_string(conn.open.load()) + "\n";
    text += "# HELP cds_connections_max the cap on open client connections (limits.max_connections)\n"
            "# TYPE cds_connections_max gauge\ncds_connections_max " + std::to_string(conn.max.load()) + "\n";
    line(text, "cds_connections_refused_total", "connections closed at once: over the cap with none idle, over the per-IP cap, or draining", conn.refused.load());
    line(text, "cds_connections_evicted_total", "idle connections closed to make room for a new one", conn.evicted.load());
    line(text, "cds_connections_timed_out_total",
         "connections closed for exceeding a time-out (handshake, header, body, write or idle)", conn.timed_out.load());
    line(text, "cds_accept_pauses_total", "pauses in accepting because the process was out of file descriptors", conn.accept_pauses.load());
    text += "# HELP cds_http_phase_seconds a request's time on its connection by phase: read (first byte to whole body), "
            "service (to the answer, audit commit included), handback (answer waiting for its connection's thread), write\n"
            "# TYPE cds_http_phase_seconds histogram\n";
    for (std::size_t p = 0; p < PhaseTimes::kPhases; ++p) {
      std::array<std::uint64_t, PhaseTimes::kBuckets.size() + 1> counts{};
      for (std::size_t b = 0; b < counts.size(); ++b) counts[b] = conn.phases.counts[p][b].load(std::memory_order_relaxed);
      text += histogram_lines("cds_http_phase_seconds", std::string("phase=\"") + PhaseTimes::kNames[p] + "\"",
                              PhaseTimes::kBuckets, counts.data(),
                              static_cast<double>(conn.phases.sum_ns[p].load(std::memory_order_relaxed)) / 1e9);
    }
    text += "# HELP cds_audit_queue_depth audit records waiting for the writer\n# TYPE cds_audit_queue_depth gauge\n";
    text += "cds_audit_queue_depth " + std::to_string(audit_.queue_depth()) + "\n";
    text += "# HELP cds_audit_commit_seconds audit transaction time, BEGIN to COMMIT done\n"
            "# TYPE cds_audit_commit_seconds histogram\n";
    std::array<std::uint64_t, AuditStore::kCommitBuckets.size() + 1> commit_counts{};
    for (std::size_t b = 0; b < commit_counts.size(); ++b) commit_counts[b] = audit_.commit_latency_count(b);
    text += histogram_lines("cds_audit_commit_seconds", "", AuditStore::kCommitBuckets, commit_counts.data(),
                            audit_.commit_latency_sum_seconds());
    text += request_metrics_.prometheus();
    HttpResponse res = json_response(200, std::move(text), req);
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    return respond(std::move(res));
  }
  if (!parts.empty() && parts[0] == "cds-services") {
    // Latency per service and status for dashboards; labels from known service ids only.
    std::string label = parts.size() == 1 ? "discovery" : find_service(parts[1]) ? parts[1] : "unknown";
    if (parts.size() == 3) label += "/feedback";
    respond = [this, respond = std::move(respond), label = std::move(label),
               started = std::chrono::steady_clock::now()](HttpResponse&& res) {
      request_metrics_.observe(label, res.result_int(), std::chrono::steady_clock::now() - started);
      respond(std::move(res));
    };
    if (parts.size() == 1) {
      if (!get) return error(405, "use GET on /cds-services", "GET, OPTIONS");
      return authenticated(std::move(req), base_url_ + "/cds-services", std::move(respond),
                           [this](HttpRequest&& request, Principal principal, Respond reply) {
                             HttpResponse res = json_response(200, json::serialize(discovery_document()), request);
                             if (!audit_.shared() || principal.jti.empty()) return reply(std::move(res));
                             // Several replicas: the shared store decides whether the token was used before.
                             auto held = std::make_shared<HttpRequest>(std::move(request));
                             audit_.submit(TokenUse{principal.iss, principal.jti, principal.jti_expires_unix},
                                           [this, held, res = std::move(res), reply](Committed fate) mutable {
                                             if (fate.replay)
                                               return refuse(AuthFailure{"jti has already been used"}, *held, reply);
                                             reply(fate.durable ? std::move(res)
                                                                : audit_unavailable(held->version(), held->keep_alive(),
                                                                                    (*held)[http::field::origin]));
                                           });
                           });
    }
    if (parts.size() == 2) {
      const ServiceDefinition* service = find_service(parts[1]);
      if (service == nullptr) return error(404, "no CDS service with id '" + parts[1] + "'");
      if (!post) return error(405, "use POST to invoke a CDS service", "POST, OPTIONS");
      return authenticated(std::move(req), base_url_ + "/cds-services/" + std::string(service->id), std::move(respond),
                           [this, service](HttpRequest&& request, Principal principal, Respond reply) {
                             invoke(*service, std::move(request), std::move(principal), std::move(reply));
                           });
    }
    if (parts.size() == 3 && parts[2] == "feedback") {
      const ServiceDefinition* service = find_service(parts[1]);
      if (service == nullptr) return error(404, "no CDS service with id '" + parts[1] + "'");
      if (!post) return error(405, "use POST to send feedback", "POST, OPTIONS");
      return authenticated(std::move(req), base_url_ + "/cds-services/" + std::string(service->id) + "/feedback",
                           std::move(respond), [this, service](HttpRequest&& request, Principal principal, Respond reply) {
                             feedback(*service, std::move(request), std::move(principal), std::move(reply));
                           });
    }
  }
  error(404, "no such endpoint: " + std::string(url->path()));
}

void App::authenticated(HttpRequest&& req, std::string audience, Respond respond, Authenticated next) {
  if (!config_.auth.enabled || auth_ == nullptr) return next(std::move(req), Principal{}, std::move(respond));
  auto result = auth_->authenticate(req[http::field::authorization], audience, Clock::now(), KeyFetch::deferred);
  if (auto* p = std::get_if<Principal>(&result)) return next(std::move(req), std::move(*p), std::move(respond));
  if (!std::get<AuthFailure>(result).key_fetch_needed) return refuse(std::get<AuthFailure>(result), req, respond);
  // The token's key is in a JWK Set we must fetch first (a new or rotated key, or a stale
  // cache): that waits on the EHR's server, so it waits here, and the request goes on from here.
  boost::asio::post(key_fetches_, [this, req = std::move(req), audience = std::move(audience),
                                   respond = std::move(respond), next = std::move(next)]() mutable {
    auto checked = auth_->authenticate(req[http::field::authorization], audience, Clock::now(), KeyFetch::now);
    if (auto* p = std::get_if<Principal>(&checked)) return next(std::move(req), std::move(*p), std::move(respond));
    refuse(std::get<AuthFailure>(checked), req, respond);
  });
}

void App::refuse(const AuthFailure& failure, const HttpRequest& req, const Respond& respond) {
  std::string why = failure.description;
  metrics_.auth_failures.fetch_add(1, std::memory_order_relaxed);
  log_repeated(LogLevel::warning, "authentication refused", "authentication refused: " + why);  // the reason, never the token
  std::replace(why.begin(), why.end(), '"', '\'');
  HttpResponse res = json_response(401, error_body({401, "authentication failed: " + why}), req);
  res.set(http::field::www_authenticate, "Bearer error=\"invalid_token\", error_description=\"" + why + "\"");
  respond(std::move(res));
}

std::string App::fhir_server_refusal(const Principal& principal, std::string_view fhir_server) const {
  // Development without auth: only a FHIR server on this machine, never an arbitrary host (SSRF).
  if (!config_.auth.enabled) return is_loopback_url(fhir_server) ? "" : "without auth only a loopback fhirServer is used";
  if (principal.issuer == nullptr) return "no trusted issuer";
  if (fhir_server_allowed(principal.issuer->fhir_servers, fhir_server, false)) return {};
  // Say which rule refused it: a listed server sent over http is not "not on the allowlist".
  if (fhir_server.starts_with("http://")) return "http is refused while auth is on (the EHR's token would travel in clear)";
  return "not on the issuer's fhir_servers";
}

}  // namespace cds
