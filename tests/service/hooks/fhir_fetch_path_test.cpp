// The whole service (cds::Server in-process, TLS, auth disabled) fetching what the prefetch
// lacks from the in-test FHIR server: the same cards whichever way the data came, only the
// missing queries fetched (with the bearer token), every failure mode answered within the
// time budget as `incomplete`, and the refusals (412, ignored non-loopback fhirServer, 400).
#include "cds/log.hpp"
#include "cds/http/server.hpp"
#include "fhir_test_server.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <set>

namespace fhirtest {
namespace {

constexpr const char* kFixture = "05-single-shot-bmac-type3";
constexpr const char* kService = "/cds-services/knee-oa-order-sign";
constexpr const char* kToken = "fhir-token-05-very-secret";
constexpr std::chrono::milliseconds kBudget{1000};

json::value fixture_request() {
  return json::parse(read_text(fs::path(CDS_FIXTURES_DIR) / "requests" / (std::string(kFixture) + ".json")));
}
json::value fixture_expected() {
  return json::parse(read_text(fs::path(CDS_FIXTURES_DIR) / "expected" / (std::string(kFixture) + ".json")));
}

// The service under test, configured as the brief says.
class Service {
 public:
  Service() : dir_(make_temp_dir("cds-fhir-svc")) {
    cds::set_log_level(cds::LogLevel::error);  // readable test output
    cds::Config c;
    c.listen_host = "127.0.0.1";
    c.listen_port = 0;
    c.threads = 2;
    c.tls_enabled = true;
    c.tls_cert = certs() / "server.crt";
    c.tls_key = certs() / "server.key";
    c.rules_dir = CDS_RULES_DIR;
    c.audit_db = dir_ / "audit.db";
    c.auth.enabled = false;
    c.outbound_ca_file = (certs() / "ca.crt").string();
    c.fhir.timeout = kBudget;
    c.limits.header_timeout = 5s;
    c.limits.body_timeout = 5s;
    c.limits.idle_timeout = 10s;
    audit_db_ = c.audit_db;
    auto created = cds::Server::create(c);
    if (auto* err = std::get_if<std::string>(&created)) throw std::runtime_error("cds::Server::create: " + *err);
    server_ = std::get<std::unique_ptr<cds::Server>>(std::move(created));
    server_->start();
  }
  ~Service() {
    server_->stop();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  HttpsResult post(const json::value& body) {
    return https_post(server_->port(), kService, json::serialize(body), certs() / "ca.crt", 5s);
  }

  // outcome and http_status of the audit row of one hookInstance ({} when there is none).
  std::vector<std::string> audit(const std::string& hook_instance) {
    sqlite3* db = nullptr;
    std::vector<std::string> row;
    if (sqlite3_open_v2(audit_db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << audit_db_;
      sqlite3_close(db);
      return row;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    const char* sql = "SELECT outcome, http_status FROM invocation WHERE hook_instance = ?";
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, hook_instance.c_str(), -1, SQLITE_TRANSIENT);
      int rows = 0;
      while (sqlite3_step(st) == SQLITE_ROW) {
        ++rows;
        row = {reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
               reinterpret_cast<const char*>(sqlite3_column_text(st, 1))};
      }
      EXPECT_LE(rows, 1) << hook_instance;
    } else {
      ADD_FAILURE() << sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return row;
  }

 private:
  fs::path dir_;
  fs::path audit_db_;
  std::unique_ptr<cds::Server> server_;
};

struct CardSig {
  std::string rule, indicator, patient_type;
  std::vector<std::string> triggered_by;
  bool operator==(const CardSig&) const = default;
};
std::ostream& operator<<(std::ostream& os, const CardSig& c) {
  os << "{" << c.rule << ", " << c.indicator << ", type '" << c.patient_type << "', [";
  for (const auto& t : c.triggered_by) os << t << " ";
  return os << "]}";
}

std::vector<CardSig> expected_cards() {
  std::vector<CardSig> out;
  const json::value expected = fixture_expected();
  for (const auto& c : expected.at("cards").as_array()) {
    CardSig s{std::string(c.at("rule").as_string()), std::string(c.at("indicator").as_string()), "", {}};
    if (const json::value* t = c.as_object().if_contains("patient_type")) s.patient_type = t->as_string();
    for (const auto& r : c.at("triggered_by").as_array()) s.triggered_by.emplace_back(r.as_string());
    out.push_back(std::move(s));
  }
  return out;
}

// The cards of a 200 response, by the provenance extension each card carries.
std::vector<CardSig> cards_of(const HttpsResult& r) {
  std::vector<CardSig> out;
  boost::system::error_code ec;
  json::value body = json::parse(r.response.body(), ec);
  if (ec || !body.is_object() || !body.as_object().contains("cards")) {
    ADD_FAILURE() << "not a cards response: " << r.response.body();
    return out;
  }
  for (const auto& c : body.at("cards").as_array()) {
    const json::object* prov = fhir::object_field(fhir::object_field(c.if_object(), "extension"), "provenance");
    CardSig s{std::string(fhir::string_field(prov, "ruleId")), std::string(fhir::string_field(c.if_object(), "indicator")),
              std::string(fhir::string_field(prov, "patientType")), {}};
    if (const json::array* t = fhir::array_field(prov, "triggeredBy"))
      for (const auto& r2 : *t) s.triggered_by.emplace_back(r2.as_string());
    out.push_back(std::move(s));
  }
  return out;
}

// The whole response body with every (per-invocation random) uuid removed.
json::value without_uuids(json::value v) {
  if (json::object* o = v.if_object()) {
    o->erase("uuid");
    for (auto& kv : *o) kv.value() = without_uuids(std::move(kv.value()));
  } else if (json::array* a = v.if_array()) {
    for (auto& e : *a) e = without_uuids(std::move(e));
  }
  return v;
}
json::value body_without_uuids(const HttpsResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.response.body(), ec);
  EXPECT_FALSE(ec) << r.response.body();
  return without_uuids(std::move(v));
}

// The expected files name only the draft orders a card was triggered by; the provenance also
// names the record entries (the knee OA Condition) it rests on.
std::vector<CardSig> orders_only(std::vector<CardSig> cards) {
  std::set<std::string> orders;
  const json::value request = fixture_request();
  for (const auto& e : request.at("context").at("draftOrders").at("entry").as_array())
    orders.insert(std::string(e.at("resource").at("resourceType").as_string()) + "/" +
                  std::string(e.at("resource").at("id").as_string()));
  for (auto& c : cards)
    std::erase_if(c.triggered_by, [&](const std::string& r) { return !orders.contains(r); });
  return cards;
}

std::string error_message(const HttpsResult& r) {
  boost::system::error_code ec;
  json::value body = json::parse(r.response.body(), ec);
  const json::object* e = ec ? nullptr : fhir::object_field(body.if_object(), "error");
  if (!e) {
    ADD_FAILURE() << "not an error document: " << r.response.body();
    return {};
  }
  EXPECT_EQ(fhir::number_field(e, "status"), r.response.result_int());
  return std::string(fhir::string_field(e, "message"));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class FhirFetchPath : public ::testing::Test {
 protected:
  FhirFetchPath() : fixture_(fixture_request()) {
    fhir_.add_prefetch(fixture_.at("prefetch").as_object());
  }

  // The fixture request with a fresh hookInstance, fhirServer + fhirAuthorization (unless
  // `fhir_server` is empty) and `drop` removed from the prefetch ("*": no prefetch at all).
  json::value request(const std::string& hook_instance, const std::string& fhir_server,
                      std::vector<std::string> drop = {}, const std::function<void(json::object&)>& edit = {}) {
    json::value v = fixture_;
    json::object& o = v.as_object();
    o["hookInstance"] = hook_instance;
    if (!fhir_server.empty()) {
      o["fhirServer"] = fhir_server;
      o["fhirAuthorization"] = json::object{{"access_token", kToken}, {"token_type", "Bearer"}, {"expires_in", 300},
                                            {"scope", "patient/*.read"}, {"subject", "cds-knee-oa"},
                                            {"patient", "pat-05"}};
    }
    for (const auto& k : drop) {
      if (k == "*") o.erase("prefetch");
      else o.at("prefetch").as_object().erase(k);
    }
    if (edit) edit(o);
    return v;
  }

  void expect_all_with_token(const std::vector<RecordedRequest>& reqs) {
    for (const auto& r : reqs) {
      EXPECT_EQ(r.authorization, std::string("Bearer ") + kToken) << r.target;
      EXPECT_EQ(r.accept, "application/fhir+json") << r.target;
      EXPECT_EQ(r.method, "GET") << r.target;
    }
  }

  json::value fixture_;
  FhirTestServer fhir_;
  Service service_;
};

TEST_F(FhirFetchPath, SameCardsWithFullPartialAndNoPrefetch) {
  const auto want = expected_cards();
  ASSERT_EQ(want.size(), 2u);

  // (a) everything prefetched: nothing fetched.
  auto a = service_.post(request("5a000000-0000-4000-8000-00000000000a", fhir_.base()));
  ASSERT_FALSE(a.ec) << a.ec.message();
  ASSERT_EQ(a.response.result_int(), 200u) << a.response.body();
  const auto cards_a = cards_of(a);
  EXPECT_EQ(orders_only(cards_a), want);
  for (const auto& card : cards_a)
    EXPECT_EQ(card.triggered_by, (std::vector<std::string>{"ServiceRequest/sr-bmac-1", "Condition/cond-koa-1"}));
  EXPECT_EQ(fhir_.requests().size(), 0u);
  EXPECT_EQ(service_.audit("5a000000-0000-4000-8000-00000000000a"), (std::vector<std::string>{"ok", "200"}));

  // (b) conditions and observations missing: exactly those two searched.
  auto b = service_.post(request("5b000000-0000-4000-8000-00000000000b", fhir_.base(), {"conditions", "observations"}));
  ASSERT_FALSE(b.ec) << b.ec.message();
  ASSERT_EQ(b.response.result_int(), 200u) << b.response.body();
  EXPECT_EQ(cards_of(b), cards_a);
  EXPECT_EQ(body_without_uuids(b), body_without_uuids(a)) << "prefetched and fetched data give identical cards";
  EXPECT_EQ(sorted(fhir_.targets()),
            (std::vector<std::string>{"/fhir/Condition?patient=pat-05", "/fhir/Observation?patient=pat-05"}));
  expect_all_with_token(fhir_.requests());
  EXPECT_EQ(service_.audit("5b000000-0000-4000-8000-00000000000b"), (std::vector<std::string>{"ok", "200"}));

  // (c) no prefetch: all four fetched; with two resources a page, Procedure takes two pages.
  fhir_.clear_requests();
  fhir_.set_page_size(2);
  auto c = service_.post(request("5c000000-0000-4000-8000-00000000000c", fhir_.base() + "/", {"*"}));
  ASSERT_FALSE(c.ec) << c.ec.message();
  ASSERT_EQ(c.response.result_int(), 200u) << c.response.body();
  EXPECT_EQ(cards_of(c), cards_a);
  EXPECT_EQ(body_without_uuids(c), body_without_uuids(a)) << "prefetched and fetched data give identical cards";
  EXPECT_EQ(sorted(fhir_.targets()), (std::vector<std::string>{"/fhir/Condition?patient=pat-05",
                                                               "/fhir/Observation?patient=pat-05",
                                                               "/fhir/Patient/pat-05",
                                                               "/fhir/Procedure?patient=pat-05",
                                                               "/fhir/Procedure?patient=pat-05&_count=2&_offset=2"}));
  expect_all_with_token(fhir_.requests());
  EXPECT_EQ(service_.audit("5c000000-0000-4000-8000-00000000000c"), (std::vector<std::string>{"ok", "200"}));
}

TEST_F(FhirFetchPath, OperationOutcomeInPrefetchIsFetchedAgain) {
  auto r = service_.post(request("5d000000-0000-4000-8000-00000000000d", fhir_.base(), {}, [](json::object& o) {
    o["prefetch"].as_object()["conditions"] = json::object{
        {"resourceType", "OperationOutcome"},
        {"issue", json::array{json::object{{"severity", "error"}, {"code", "timeout"}}}}};
  }));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_EQ(orders_only(cards_of(r)), expected_cards());
  EXPECT_EQ(fhir_.targets(), (std::vector<std::string>{"/fhir/Condition?patient=pat-05"}));
  EXPECT_EQ(service_.audit("5d000000-0000-4000-8000-00000000000d"), (std::vector<std::string>{"ok", "200"}));
}

// A null prefetch says "the query found nothing": with a fhirServer it is fetched again to be
// sure (the issue's rule); without one it stands as "no data", never a 412.
TEST_F(FhirFetchPath, NullPrefetchIsFetchedAgainWhenAServerIsGiven) {
  auto r = service_.post(request("5d000000-0000-4000-8000-0000000000a1", fhir_.base(), {}, [](json::object& o) {
    o["prefetch"].as_object()["conditions"] = nullptr;
  }));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_EQ(orders_only(cards_of(r)), expected_cards());
  EXPECT_EQ(fhir_.targets(), (std::vector<std::string>{"/fhir/Condition?patient=pat-05"}));

  fhir_.clear_requests();
  auto no_server = service_.post(request("5d000000-0000-4000-8000-0000000000a2", "", {}, [](json::object& o) {
    o["prefetch"].as_object()["conditions"] = nullptr;
  }));
  ASSERT_FALSE(no_server.ec) << no_server.ec.message();
  EXPECT_EQ(no_server.response.result_int(), 200u) << no_server.response.body();
  EXPECT_TRUE(fhir_.targets().empty());
  EXPECT_EQ(service_.audit("5d000000-0000-4000-8000-0000000000a2"), (std::vector<std::string>{"ok", "200"}));
}

TEST_F(FhirFetchPath, ScopeLimitsWhatIsFetched) {
  auto r = service_.post(request("5e000000-0000-4000-8000-00000000000e", fhir_.base(), {"*"}, [](json::object& o) {
    o["fhirAuthorization"].as_object()["scope"] = "openid patient/Patient.read patient/Condition.rs";
  }));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  // Without the procedure history the single-shot warning (and so the plan) cannot be justified.
  EXPECT_EQ(cards_of(r), std::vector<CardSig>{});
  EXPECT_EQ(sorted(fhir_.targets()), (std::vector<std::string>{"/fhir/Condition?patient=pat-05", "/fhir/Patient/pat-05"}));
  EXPECT_EQ(service_.audit("5e000000-0000-4000-8000-00000000000e"), (std::vector<std::string>{"incomplete", "200"}));
}

// Procedures cannot be had: the answer still comes, within the budget, without the flag that
// needs the procedure history, and the call is audited as incomplete.
void expect_incomplete_within_budget(const HttpsResult& r, std::chrono::milliseconds at_least,
                                     std::chrono::milliseconds at_most) {
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_EQ(r.response.body(), R"({"cards":[]})");
  EXPECT_GE(r.elapsed, at_least);
  EXPECT_LT(r.elapsed, at_most);
}

TEST_F(FhirFetchPath, ProceduresFromADownServer) {
  const std::string down = "https://127.0.0.1:" + std::to_string(closed_port()) + "/fhir";
  auto r = service_.post(request("5f000000-0000-4000-8000-000000000001", down, {"procedures"}));
  expect_incomplete_within_budget(r, 0ms, 500ms);
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000001"), (std::vector<std::string>{"incomplete", "200"}));
}

TEST_F(FhirFetchPath, ProceduresFromASlowServer) {
  fhir_.set_mode("/fhir/Procedure", PathMode{.delay = 3000ms});
  auto r = service_.post(request("5f000000-0000-4000-8000-000000000002", fhir_.base(), {"procedures"}));
  expect_incomplete_within_budget(r, kBudget, kBudget + 500ms);
  EXPECT_EQ(fhir_.targets(), (std::vector<std::string>{"/fhir/Procedure?patient=pat-05"}));
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000002"), (std::vector<std::string>{"incomplete", "200"}));
}

// Captures what the service logs while `run` runs (at debug level).
std::string log_of(const std::function<void()>& run) {
  cds::set_log_level(cds::LogLevel::debug);
  ::testing::internal::CaptureStderr();
  run();
  std::this_thread::sleep_for(50ms);  // lets log lines written after the response land
  const std::string log = ::testing::internal::GetCapturedStderr();
  cds::set_log_level(cds::LogLevel::error);
  return log;
}

TEST_F(FhirFetchPath, ProceduresRefusedWith401AndTheTokenIsNotLogged) {
  fhir_.set_mode("/fhir/Procedure", PathMode{.status = 401});
  HttpsResult r;
  const std::string log = log_of([&] {
    r = service_.post(request("5f000000-0000-4000-8000-000000000003", fhir_.base(), {"procedures"}));
  });
  expect_incomplete_within_budget(r, 0ms, 500ms);
  EXPECT_EQ(fhir_.requests().size(), 1u);
  expect_all_with_token(fhir_.requests());
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000003"), (std::vector<std::string>{"incomplete", "200"}));
  EXPECT_NE(log.find("FHIR fetch for prefetch 'procedures' failed: HTTP 401"), std::string::npos) << log;
  EXPECT_EQ(log.find(kToken), std::string::npos) << log;
  EXPECT_EQ(log.find("pat-05"), std::string::npos) << log;
}

// Part of the procedure history is not the history: the single-shot warning needs all of it.
TEST_F(FhirFetchPath, ProceduresCutShortAreReadButNotConcludedFrom) {
  FhirTestServer elsewhere;
  fhir_.set_page_size(1);
  fhir_.set_mode("/fhir/Procedure", PathMode{.next_origin = elsewhere.origin()});
  HttpsResult r;
  const std::string log = log_of([&] {
    r = service_.post(request("5f000000-0000-4000-8000-00000000000a", fhir_.base(), {"procedures"}));
  });
  expect_incomplete_within_budget(r, 0ms, 500ms);
  EXPECT_EQ(fhir_.targets(), (std::vector<std::string>{"/fhir/Procedure?patient=pat-05"}));
  EXPECT_EQ(elsewhere.connections(), 0u);
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-00000000000a"), (std::vector<std::string>{"incomplete", "200"}));
  EXPECT_NE(log.find("FHIR fetch for prefetch 'procedures' stopped early, at a next link to another origin"),
            std::string::npos) << log;
}

// The server's data must pass the check the client's prefetch must pass (where it would be a
// 400); here it is the server's fault, so the request is answered without that data.
TEST_F(FhirFetchPath, InvalidFhirFromTheServerIsNotUsed) {
  json::value bundle = fixture_.at("prefetch").at("procedures");
  bundle.at("entry").as_array()[1].at("resource").as_object()["id"] = "a/b";
  fhir_.set_mode("/fhir/Procedure", PathMode{.body = json::serialize(bundle)});
  HttpsResult r;
  const std::string log = log_of([&] {
    r = service_.post(request("5f000000-0000-4000-8000-00000000000b", fhir_.base(), {"procedures"}));
  });
  expect_incomplete_within_budget(r, 0ms, 500ms);
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-00000000000b"), (std::vector<std::string>{"incomplete", "200"}));
  EXPECT_NE(log.find("FHIR fetch for prefetch 'procedures' failed: not valid FHIR R4: Bundle.entry[1].resource.Procedure.id: "
                     "expected a FHIR id"),
            std::string::npos) << log;
  EXPECT_EQ(log.find("a/b"), std::string::npos) << "no value from the record in the log: " << log;
}

TEST_F(FhirFetchPath, APatientOtherThanTheContextsIsNotUsed) {
  fhir_.set_mode("/fhir/Patient", PathMode{.body = R"({"resourceType":"Patient","id":"someone-else","gender":"male"})"});
  HttpsResult r;
  const std::string log = log_of([&] {
    r = service_.post(request("5f000000-0000-4000-8000-00000000000c", fhir_.base(), {"patient"}));
  });
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-00000000000c"), (std::vector<std::string>{"incomplete", "200"}));
  EXPECT_NE(log.find("FHIR fetch for prefetch 'patient' failed: a Patient other than context.patientId"),
            std::string::npos) << log;
  EXPECT_EQ(log.find("someone-else"), std::string::npos) << log;
}

TEST_F(FhirFetchPath, NoPrefetchAndNoFhirServerIs412) {
  auto r = service_.post(request("5f000000-0000-4000-8000-000000000004", "", {"*"}));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 412u) << r.response.body();
  EXPECT_EQ(error_message(r),
            "prefetch not satisfied for: patient, conditions, procedures, observations; and no fhirServer to fetch it "
            "from");
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000004"), (std::vector<std::string>{"rejected", "412"}));
}

TEST_F(FhirFetchPath, NonLoopbackFhirServerIsTreatedAsAbsent) {
  // Never connected to: the missing key is unavailable at once (200, incomplete), not a fetch
  // that times out.
  HttpsResult r;
  const std::string log = log_of([&] {
    r = service_.post(request("5f000000-0000-4000-8000-000000000005", "https://198.51.100.1/fhir", {"procedures"}));
  });
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_LT(r.elapsed, 500ms);
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000005"), (std::vector<std::string>{"incomplete", "200"}));
  // The log says which call and why, not merely "not on the allowlist".
  EXPECT_NE(log.find("hookInstance 5f000000-0000-4000-8000-000000000005"), std::string::npos) << log;
  EXPECT_NE(log.find("fhirServer ignored: without auth only a loopback fhirServer is used"), std::string::npos) << log;
  // With everything prefetched it is not needed, and the advice is complete.
  auto full = service_.post(request("5f000000-0000-4000-8000-000000000006", "https://198.51.100.1/fhir"));
  ASSERT_FALSE(full.ec) << full.ec.message();
  ASSERT_EQ(full.response.result_int(), 200u) << full.response.body();
  EXPECT_EQ(orders_only(cards_of(full)), expected_cards());
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000006"), (std::vector<std::string>{"ok", "200"}));
}

TEST_F(FhirFetchPath, HttpLoopbackFhirServerIsTreatedAsAbsent) {
  // Without auth only an https loopback fhirServer is trusted; plain http can never be fetched
  // from (the client is HTTPS only), so the key is unavailable: 200, incomplete, no connection.
  const std::string http_base = "http://127.0.0.1:" + std::to_string(fhir_.port()) + "/fhir";
  auto r = service_.post(request("5f000000-0000-4000-8000-000000000008", http_base, {"procedures"}));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_EQ(fhir_.connections(), 0u);
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000008"), (std::vector<std::string>{"incomplete", "200"}));
  // With no patient data at all it is 412.
  r = service_.post(request("5f000000-0000-4000-8000-00000000000d", http_base, {"*"}));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 412u) << r.response.body();
  EXPECT_EQ(fhir_.connections(), 0u);
}

TEST_F(FhirFetchPath, WithoutFhirAuthorizationFetchesWithoutAToken) {
  auto r = service_.post(request("5f000000-0000-4000-8000-000000000009", fhir_.base(), {"procedures"},
                                 [](json::object& o) { o.erase("fhirAuthorization"); }));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 200u) << r.response.body();
  EXPECT_EQ(orders_only(cards_of(r)), expected_cards());
  auto reqs = fhir_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/fhir/Procedure?patient=pat-05");
  EXPECT_EQ(reqs[0].authorization, "");
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000009"), (std::vector<std::string>{"ok", "200"}));
}

TEST_F(FhirFetchPath, AuthorizationForAnotherPatientIs400) {
  auto r = service_.post(request("5f000000-0000-4000-8000-000000000007", fhir_.base(), {"*"}, [](json::object& o) {
    o["fhirAuthorization"].as_object()["patient"] = "someone-else";
  }));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_EQ(r.response.result_int(), 400u) << r.response.body();
  EXPECT_EQ(error_message(r), "'fhirAuthorization.patient' does not match 'context.patientId'");
  EXPECT_EQ(fhir_.requests().size(), 0u);
  EXPECT_EQ(fhir_.connections(), 0u);
  EXPECT_EQ(service_.audit("5f000000-0000-4000-8000-000000000007"), (std::vector<std::string>{"rejected", "400"}));
}

}  // namespace
}  // namespace fhirtest
