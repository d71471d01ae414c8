// The invocation pipeline behind POST /cds-services/{id}:
//   validate -> gather data (prefetch, else FHIR client) -> evaluate rules -> audit -> respond.
// Each step is one member function; the state of one call travels in an Invocation.
#include "cds/app.hpp"
#include "cds/hooks/hook_request.hpp"
#include "cds/http/helpers.hpp"
#include "cds/log.hpp"
#include "cds/hooks/prefetch.hpp"
#include "cds/hooks/services.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <ctime>

namespace cds {
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// A fresh seed per invocation: card uuids are derived from it (the rules stay pure). Each I/O
// thread draws its seeds from a pool of 4 KiB that RAND_bytes refills: OpenSSL checks its
// process id on every call (a getpid system call per answer), and the service never forks.
// Empty when OpenSSL has no randomness to give.
std::optional<std::string> random_seed() {
  constexpr std::size_t kSeedBytes = 16, kPoolBytes = 4096;
  struct Pool {
    unsigned char bytes[kPoolBytes];
    std::size_t used = kPoolBytes;
  };
  thread_local Pool pool;
  if (pool.used + kSeedBytes > kPoolBytes) {
    if (RAND_bytes(pool.bytes, static_cast<int>(kPoolBytes)) != 1) return std::nullopt;
    pool.used = 0;
  }
  const std::span<unsigned char> seed(pool.bytes + pool.used, kSeedBytes);
  pool.used += kSeedBytes;
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : seed) s += hex[b >> 4], s += hex[b & 15];
  OPENSSL_cleanse(seed.data(), seed.size());  // a seed is handed out once
  return s;
}

}  // namespace

struct App::Invocation {
  HttpRequest request;
  Respond respond;
  Principal principal;
  const ServiceDefinition* service = nullptr;
  std::unique_ptr<HookRequest> hook;
  InvocationRecord record;
  std::chrono::system_clock::time_point received;
  std::chrono::steady_clock::time_point started;
};

void App::invoke(const ServiceDefinition& service, HttpRequest&& req, Principal principal, Respond respond) {
  auto inv = std::make_shared<Invocation>();
  inv->received = std::chrono::system_clock::now();
  inv->started = std::chrono::steady_clock::now();
  inv->request = std::move(req);
  inv->respond = std::move(respond);
  inv->principal = std::move(principal);
  inv->service = &service;
  InvocationRecord& record = inv->record;
  record.received_at = iso_utc(inv->received);
  record.service_id = service.id;
  record.hook = service.hook;
  record.jwt_iss = inv->principal.iss;
  record.jwt_sub = inv->principal.sub;
  record.tenant = inv->principal.tenant;
  if (audit_.shared() && !inv->principal.jti.empty())
    record.token = {inv->principal.iss, inv->principal.jti, inv->principal.jti_expires_unix};

  auto reject = [&](const ApiError& e) { finish(inv, json_response(e.status, error_body(e), inv->request), "rejected"); };
  if (!is_json_content_type(inv->request[http::field::content_type]))
    return reject({415, "Content-Type must be application/json"});
  auto parsed = parse_hook_request(service, inv->request.body());
  if (auto* e = std::get_if<ApiError>(&parsed)) return reject(*e);
  inv->hook = std::get<std::unique_ptr<HookRequest>>(std::move(parsed));
  HookRequest& hook = *inv->hook;
  record.hook_instance = hook.input.hook_instance;
  record.user_id = hook.user_id;
  record.encounter_id = hook.encounter_id;
  record.patient_ref = pseudonymize_("Patient/" + std::string(hook.patient_id));
  if (!hook.fhir_server.empty()) {
    if (auto why = fhir_server_refusal(inv->principal, hook.fhir_server); !why.empty()) {
      // Behave as if no fhirServer was sent, and never connect to it. Who sent it and which call,
      // never the URL's path or the patient.
      // The caller chose hookInstance: bounded, and no control character can forge a log line.
      std::string instance(hook.input.hook_instance.substr(0, 64));
      std::replace_if(instance.begin(), instance.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }, '?');
      log(LogLevel::warning, "hookInstance " + instance + " from issuer " +
                                 (inv->principal.iss.empty() ? std::string("(auth off)") : inv->principal.iss) +
                                 ": fhirServer ignored: " + why);
      hook.fhir_server = {};
    }
  }
  // The FHIR client speaks HTTPS only: a plain-http fhirServer could never be fetched from.
  if (fhir_ == nullptr || !hook.fhir_server.starts_with("https://")) hook.fhir_server = {};
  if (auto e = check_data_available(hook)) return reject(*e);
  settle_unfetchable(hook);  // keys nobody can fetch are unavailable: advice on the rest
  if (hook.fhir_authorization) {
    auto patient = fhir::string_field(hook.fhir_authorization, "patient");
    if (!patient.empty() && patient != hook.patient_id)
      return reject(bad_request("'fhirAuthorization.patient' does not match 'context.patientId'"));
  }
  gather(std::move(inv));
}

void App::gather(std::shared_ptr<Invocation> inv) {
  HookRequest& hook = *inv->hook;
  // What to fetch: keys the client did not satisfy, and (to be sure) keys it sent as null.
  std::vector<std::string_view> wanted = hook.missing_prefetch;
  if (!hook.fhir_server.empty()) wanted.insert(wanted.end(), hook.null_prefetch.begin(), hook.null_prefetch.end());
  if (wanted.empty()) return evaluate(std::move(inv));

  std::vector<FhirQuery> queries;
  std::string_view scope = fhir::string_field(hook.fhir_authorization, "scope");
  std::string base(hook.fhir_server);
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (std::string_view key : wanted) {
    const bool was_null = std::find(hook.null_prefetch.begin(), hook.null_prefetch.end(), key) != hook.null_prefetch.end();
    std::optional<std::string> query;
    for (const auto& t : inv->service->prefetch)
      if (t.key == key) query = render_prefetch(t.query, *hook.input.context);
    // Only what the token's scope grants: asking for more would just earn a 403.
    if (!query || (hook.fhir_authorization && !scope_allows(scope, *query))) {
      if (!was_null) hook.unavailable.push_back(key);  // a null still says "no data"
      continue;
    }
    queries.push_back({std::string(key), base + "/" + *query});
  }
  if (queries.empty()) return evaluate(std::move(inv));

  std::string token(fhir::string_field(hook.fhir_authorization, "access_token"));
  auto deadline = inv->started + config_.fhir.timeout;
  fhir_->fetch(std::move(queries), std::move(token), deadline, [this, inv](std::vector<FhirResult> results) mutable {
    HookRequest& h = *inv->hook;
    json::object merged;
    if (h.input.prefetch) merged = *h.input.prefetch;
    for (auto& r : results) {
      std::string_view key;
      bool was_null = false;
      for (auto k : h.missing_prefetch)
        if (k == r.key) key = k;
      for (auto k : h.null_prefetch)
        if (k == r.key) key = k, was_null = true;
      if (key.empty()) continue;
      // The server's data meets the bar the client's prefetch must: else it is not used at all.
      if (r.value) r.failure = fetched_data_problem(*r.value, h.patient_id, key, h.data_issues);
      if (r.value && r.failure.empty()) {
        merged[key] = std::move(*r.value);
        // Part of the data: it is read, but what needs all of it (a single-shot warning needs
        // the whole procedure history) must not be concluded from it.
        if (!r.truncated.empty()) {
          h.unavailable.push_back(key);
          log(LogLevel::warning, "FHIR fetch for prefetch '" + r.key + "' stopped early, at " + r.truncated);
        }
      } else if (!was_null) {  // a key the client sent as null keeps meaning "no data"
        h.unavailable.push_back(key);
        // Which key and why, never the URL's query values, the token or the body.
        log(LogLevel::warning, "FHIR fetch for prefetch '" + r.key + "' failed: " + r.failure);
        metrics_.fhir_fetch_failures.fetch_add(1, std::memory_order_relaxed);
      }
    }
    h.gathered_prefetch = std::move(merged);
    h.input.prefetch = &h.gathered_prefetch.get_object();
    evaluate(std::move(inv));
  });
}

void App::evaluate(std::shared_ptr<Invocation> inv) {
  HookRequest& hook = *inv->hook;
  hook.input.unavailable = hook.unavailable;
  auto rules = rules_.current();
  inv->record.rules_version = rules::version_of(*rules);
  const auto seed = random_seed();
  if (!seed) {
    log_repeated(LogLevel::error, "no randomness", "no randomness for card ids (RAND_bytes failed)");
    return finish(inv, json_response(503, error_body({503, "the service cannot generate card ids just now"}), inv->request),
                  "rejected");
  }
  rules::EvalOptions options;
  options.now = std::chrono::floor<std::chrono::seconds>(inv->received);
  options.issued_at = std::chrono::floor<std::chrono::milliseconds>(inv->received);
  options.uuid_seed = *seed;
  options.base_url = base_url_;
  rules::Evaluation eval;
  try {
    eval = rules::evaluate(hook.input, *rules, options);
  } catch (const std::exception& ex) {
    log(LogLevel::error, std::string("rule evaluation failed: ") + ex.what());
    return finish(inv, json_response(500, error_body({500, "rule evaluation failed"}), inv->request), "rejected");
  }
  inv->record.patient_type = eval.patient_type;
  inv->record.cards = std::move(eval.card_records);
  inv->record.orders = std::move(eval.orders);
  // Data we could get neither by prefetch nor by fetching, or malformed elements a rule reads
  // that were dropped: advice rests on what we had.
  const bool dropped_read = std::any_of(hook.data_issues.begin(), hook.data_issues.end(),
                                        [](const DataIssue& d) { return d.read_by_rules; });
  std::string outcome = hook.unavailable.empty() && !dropped_read ? "ok" : "incomplete";
  if (!hook.data_issues.empty()) {
    metrics_.data_quality_issues.fetch_add(hook.data_issues.size(), std::memory_order_relaxed);
    for (auto& d : hook.data_issues) inv->record.data_issues.push_back(std::move(d.path));
  }
  finish(inv, json_response(200, hook_response_body(eval.cards_json), inv->request), std::move(outcome));
}

// Every outcome, refusals included, is recorded before it is answered.
void App::finish(std::shared_ptr<Invocation> inv, HttpResponse res, std::string outcome) {
  InvocationRecord& record = inv->record;
  record.outcome = std::move(outcome);
  record.http_status = res.result_int();
  record.latency_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - inv->started).count();
  const bool advice = res.result_int() == 200;
  auto& counter = record.outcome == "ok"           ? metrics_.invocations_ok
                  : record.outcome == "incomplete" ? metrics_.invocations_incomplete
                                                   : metrics_.invocations_rejected;
  counter.fetch_add(1, std::memory_order_relaxed);
  // The parsed request and its body are done with: free them here, on the I/O thread, and keep
  // the audit writer to writing. The headers stay for the answer.
  inv->hook.reset();
  std::string().swap(inv->request.body());
  std::vector<std::pair<std::string, std::string>> cards;  // (rule, indicator), counted once answered
  for (const auto& c : record.cards) cards.emplace_back(c.rule_id, c.indicator);
  audit_.submit(std::move(record), [this, inv, res = std::move(res), advice, cards = std::move(cards)](Committed fate) mutable {
    // Another replica (or this one, moments ago) already accepted this token.
    if (fate.replay) return refuse(AuthFailure{"jti has already been used"}, inv->request, inv->respond);
    if (fate.durable && advice)
      for (const auto& [rule, indicator] : cards) request_metrics_.count_card(rule, indicator);
    // Advice without a record is not allowed.
    inv->respond(fate.durable || !advice ? std::move(res)
                                         : audit_unavailable(inv->request.version(), inv->request.keep_alive(),
                                                             inv->request[http::field::origin]));
  });
}

}  // namespace cds
