// POST /cds-services/{id}: advice for a valid request, and every refusal with its status and
// the field it names.
#include "test_server.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <sstream>
#include <set>
#include <thread>

namespace cdstest {
namespace {

std::multiset<std::string> indicators_of(const json::array& cards) {
  std::multiset<std::string> out;
  for (const auto& c : cards) out.insert(std::string(c.at("indicator").as_string()));
  return out;
}

// The samples of a Prometheus text exposition: "name{labels}" -> value.
std::map<std::string, long long> metrics_of(const Response& res) {
  EXPECT_EQ(res.result_int(), 200) << res.body();
  std::map<std::string, long long> out;
  std::istringstream lines(res.body());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    out[line.substr(0, space)] = std::stoll(line.substr(space + 1));
  }
  return out;
}

// Checks the CDS Hooks 2.0 card fields this service always fills.
void expect_valid_card(const json::object& card) {
  SCOPED_TRACE(json::serialize(card));
  ASSERT_TRUE(card.contains("uuid") && card.at("uuid").is_string());
  EXPECT_EQ(card.at("uuid").get_string().size(), 36u);
  ASSERT_TRUE(card.contains("summary") && card.at("summary").is_string());
  EXPECT_FALSE(card.at("summary").get_string().empty());
  EXPECT_LT(card.at("summary").get_string().size(), 140u);
  ASSERT_TRUE(card.contains("source") && card.at("source").is_object());
  EXPECT_FALSE(card.at("source").at("label").as_string().empty());
  if (card.contains("suggestions")) {
    ASSERT_TRUE(card.contains("selectionBehavior"));
    const std::string sb(card.at("selectionBehavior").as_string());
    EXPECT_TRUE(sb == "at-most-one" || sb == "any") << sb;
  }
}

// The resourceIds of delete actions and the number of create actions over all suggestions.
void actions_of(const json::object& card, std::set<std::string>& deletes, std::size_t& creates) {
  const json::value* s = card.if_contains("suggestions");
  if (!s) return;
  for (const auto& suggestion : s->as_array()) {
    const json::value* actions = suggestion.as_object().if_contains("actions");
    if (!actions) continue;
    for (const auto& a : actions->as_array()) {
      const std::string type(a.at("type").as_string());
      if (type == "delete") deletes.insert(std::string(a.at("resourceId").as_string()));
      if (type == "create") ++creates;
    }
  }
}

TEST(Invocation, KneeOaOrderSignFixtureGetsTheExpectedCards) {
  TestServer server;
  Client client(server);
  Response res = client.post(kSignService, fixture_request(kFixture01));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  json::value body = parse_json(res.body());
  ASSERT_TRUE(body.is_object());
  ASSERT_TRUE(body.as_object().contains("cards") && body.at("cards").is_array()) << res.body();
  for (const auto& [key, value] : body.as_object())
    EXPECT_TRUE(key == "cards" || key == "systemActions") << "unexpected top-level field " << key;
  const json::array& cards = body.at("cards").as_array();

  const json::value expected = fixture_expected(kFixture01);
  const json::array& want = expected.at("cards").as_array();
  ASSERT_EQ(cards.size(), want.size()) << res.body();
  EXPECT_EQ(indicators_of(cards), indicators_of(want));
  std::set<std::string> uuids;
  for (const auto& c : cards) {
    expect_valid_card(c.as_object());
    uuids.insert(std::string(c.at("uuid").as_string()));
  }
  EXPECT_EQ(uuids.size(), cards.size()) << "card uuids must be unique";
  // The indicators of fixture 01 are distinct, so each expected card is found by its indicator.
  for (const auto& w : want) {
    const std::string indicator(w.at("indicator").as_string());
    auto it = std::find_if(cards.begin(), cards.end(), [&](const json::value& c) { return std::string_view(c.at("indicator").as_string()) == indicator; });
    ASSERT_NE(it, cards.end()) << indicator;
    std::set<std::string> deletes;
    std::size_t creates = 0;
    actions_of(it->as_object(), deletes, creates);
    std::set<std::string> want_deletes;
    for (const auto& d : w.at("delete").as_array()) want_deletes.insert(std::string(d.as_string()));
    EXPECT_EQ(deletes, want_deletes) << indicator;
    EXPECT_GE(creates, static_cast<std::size_t>(w.at("creates_min").to_number<std::int64_t>())) << indicator;
  }
}

TEST(Invocation, NoAdviceIsAnEmptyCardsArray) {
  TestServer server;
  Client client(server);
  ASSERT_EQ(fixture_expected("12-knee-xray-only").at("cards").as_array().size(), 0u);
  Response res = client.post(kSignService, fixture_request("12-knee-xray-only"));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(parse_json(res.body()), json::parse(R"({"cards":[]})"));
}

TEST(Invocation, JsonMediaTypesWithParametersAreAccepted) {
  TestServer server;
  Client client(server);
  const std::string body = fixture_request("12-knee-xray-only");
  for (const char* type : {"application/json; charset=utf-8", "Application/JSON", "application/fhir+json"}) {
    Response res = client.post(kSignService, body, {{"Content-Type", type}});
    EXPECT_EQ(res.result_int(), 200) << type << ": " << res.body();
  }
}

TEST(Invocation, MalformedJsonIs400) {
  TestServer server;
  Client client(server);
  Response res = client.post(kSignService, R"({"hook": "order-sign", )");
  EXPECT_EQ(error_message(res, 400).rfind("request body is not valid JSON", 0), 0u) << res.body();
  res = client.post(kSignService, "[1, 2]");
  EXPECT_EQ(error_message(res, 400), "request body must be a JSON object");
  // An empty body is not JSON either.
  res = client.request(http::verb::post, kSignService, {}, {{"Content-Type", "application/json"}});
  EXPECT_EQ(error_message(res, 400).rfind("request body is not valid JSON", 0), 0u) << res.body();
}

TEST(Invocation, MissingFieldsAre400NamingTheField) {
  TestServer server;
  Client client(server);
  struct Case {
    std::function<void(json::object&)> edit;
    std::string message;
  };
  const std::vector<Case> cases{
      {[](json::object& o) { o.erase("hookInstance"); }, "missing required field 'hookInstance'"},
      {[](json::object& o) { o.erase("hook"); }, "missing required field 'hook'"},
      {[](json::object& o) { o.erase("context"); }, "missing required field 'context'"},
      {[](json::object& o) { o.at("context").as_object().erase("patientId"); }, "missing required field 'context.patientId'"},
      {[](json::object& o) { o.at("context").as_object().erase("userId"); }, "missing required field 'context.userId'"},
      {[](json::object& o) { o.at("context").as_object().erase("draftOrders"); },
       "missing required field 'context.draftOrders' for hook order-sign"},
      {[](json::object& o) { o["hookInstance"] = ""; }, "'hookInstance' must be a non-empty string"},
      {[](json::object& o) { o["fhirAuthorization"] = json::object{{"access_token", "x"}}; },
       "'fhirAuthorization' is only allowed together with 'fhirServer'"},
      // The flagged order twice: two cards with one uuid, which the audit would refuse (a 503
      // before this was checked, found by fuzzing).
      {[](json::object& o) {
         json::array& entries = o.at("context").at("draftOrders").at("entry").as_array();
         entries.push_back(json::value(entries.at(0)));
       },
       "'context.draftOrders.entry[1]' repeats entry[0] (ServiceRequest/sr-amnio-1): each draft order must appear once"},
  };
  for (const auto& c : cases) {
    Response res = client.post(kSignService, edited_fixture(kFixture01, c.edit));
    EXPECT_EQ(error_message(res, 400), c.message);
  }
}

TEST(Invocation, HookMismatchIs400) {
  TestServer server;
  Client client(server);
  Response res = client.post("/cds-services/knee-oa-patient-view", fixture_request(kFixture01));
  EXPECT_EQ(error_message(res, 400),
            "'hook' is \"order-sign\" but service knee-oa-patient-view answers \"patient-view\"");
}

TEST(Invocation, UnknownServiceIs404) {
  TestServer server;
  Client client(server);
  Response res = client.post("/cds-services/knee-oa-order-cancel", fixture_request(kFixture01));
  EXPECT_EQ(error_message(res, 404), "no CDS service with id 'knee-oa-order-cancel'");
}

TEST(Invocation, WrongMethodOnAServiceIs405WithAllowPost) {
  TestServer server;
  Client client(server);
  for (http::verb method : {http::verb::get, http::verb::put, http::verb::delete_}) {
    Response res = client.request(method, kSignService);
    EXPECT_EQ(res[http::field::allow], "POST, OPTIONS") << http::to_string(method);
    EXPECT_EQ(error_message(res, 405), "use POST to invoke a CDS service");
  }
}

TEST(Invocation, NonJsonContentTypeIs415) {
  TestServer server;
  Client client(server);
  const std::string body = fixture_request(kFixture01);
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "application/jsonx", ""}) {
    Response res = client.post(kSignService, body, {{"Content-Type", type}});
    EXPECT_EQ(error_message(res, 415), "Content-Type must be application/json") << "'" << type << "'";
  }
}

TEST(Invocation, NoPatientDataAtAllWithoutFhirServerIs412) {
  TestServer server;
  Client client(server);
  Response res = client.post(kSignService, edited_fixture(kFixture01, [](json::object& o) { o.erase("prefetch"); }));
  EXPECT_EQ(error_message(res, 412),
            "prefetch not satisfied for: patient, conditions, procedures, observations; and no fhirServer to fetch it from");
  // Every key absent or an OperationOutcome: still no patient data at all.
  res = client.post(kSignService, edited_fixture(kFixture01, [](json::object& o) {
    json::object outcome{{"resourceType", "OperationOutcome"},
                         {"issue", json::array{json::object{{"severity", "error"}, {"code", "processing"}}}}};
    o["prefetch"] = json::object{{"procedures", outcome}, {"observations", outcome}};
  }));
  EXPECT_EQ(error_message(res, 412),
            "prefetch not satisfied for: patient, conditions, procedures, observations; and no fhirServer to fetch it from");
}

TEST(Invocation, NullPrefetchIsSatisfiedNot412) {
  TestServer server;
  Client client(server);
  // null means "the query found nothing": the key is satisfied.
  Response res = client.post(kSignService, edited_fixture(kFixture01, [](json::object& o) {
    auto& p = o.at("prefetch").as_object();
    p["observations"] = nullptr;
    p["procedures"] = nullptr;
  }));
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(parse_json(res.body()).at("cards").is_array());
}

TEST(Invocation, ConcurrentClientsAreAllAnsweredAndAudited) {
  TestServer server;
  constexpr int kThreads = 8, kPerThread = 10;
  const json::value base = json::parse(fixture_request(kFixture01));
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Client client(server, 30s);
        for (int i = 0; i < kPerThread; ++i) {
          json::value req = base;
          char id[40];
          std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", t * 100 + i);
          req.as_object()["hookInstance"] = id;
          Response res = client.post(kSignService, json::serialize(req));
          json::value body = json::parse(res.body());
          if (res.result_int() == 200 && body.at("cards").as_array().size() == 2) ++ok;
          else ++failed;
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "client thread " << t << ": " << e.what();
        ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);

  AuditDb audit(server.audit_db());
  EXPECT_EQ(audit.count("invocation"), kThreads * kPerThread);
  EXPECT_EQ(audit.count("invocation WHERE outcome = 'ok' AND http_status = 200"), kThreads * kPerThread);
  EXPECT_EQ(std::stoll(audit.rows("SELECT COUNT(DISTINCT hook_instance) FROM invocation").at(0).at(0)),
            kThreads * kPerThread);
  EXPECT_EQ(audit.count("card"), 2 * kThreads * kPerThread);

  // /metrics agrees with the audit, and group commit never takes more transactions than records.
  const std::map<std::string, long long> m = metrics_of(Client(server).get("/metrics"));
  EXPECT_EQ(m.at("cds_invocations_total{outcome=\"ok\"}"), kThreads * kPerThread);
  EXPECT_EQ(m.at("cds_audit_records_total"), kThreads * kPerThread);
  EXPECT_GE(m.at("cds_audit_commits_total"), 1);
  EXPECT_LE(m.at("cds_audit_commits_total"), kThreads * kPerThread);
}

TEST(Invocation, MetricsEndpointIsPrometheusTextAndRefusesPost) {
  TestServer server;
  Client client(server);
  ASSERT_EQ(client.post(kSignService, fixture_request(kFixture01)).result_int(), 200);
  Response res = client.get("/metrics");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4");
  const std::map<std::string, long long> m = metrics_of(res);
  EXPECT_EQ(m.at("cds_invocations_total{outcome=\"ok\"}"), 1);
  EXPECT_EQ(m.at("cds_invocations_total{outcome=\"rejected\"}"), 0);
  EXPECT_EQ(m.at("cds_audit_records_total"), 1);
  EXPECT_EQ(m.at("cds_audit_commits_total"), 1);
  EXPECT_EQ(m.at("cds_audit_checkpoints_total"), 0);  // one record is far below the threshold
  EXPECT_EQ(m.at("cds_auth_failures_total"), 0);
  // For dashboards and autoscalers: latency per service and status, cards by rule, the audit.
  EXPECT_EQ(m.at("cds_request_duration_seconds_count{service=\"knee-oa-order-sign\",status=\"200\"}"), 1);
  EXPECT_EQ(m.at("cds_request_duration_seconds_bucket{service=\"knee-oa-order-sign\",status=\"200\",le=\"+Inf\"}"), 1);
  EXPECT_EQ(m.at("cds_cards_total{rule=\"donor-derived-product\",indicator=\"critical\"}"), 1);
  EXPECT_EQ(m.at("cds_cards_total{rule=\"whole-joint-plan\",indicator=\"info\"}"), 1);
  EXPECT_EQ(m.at("cds_audit_commit_seconds_count"), 1);
  EXPECT_EQ(m.at("cds_audit_queue_depth"), 0);
  // Where the call's time went on its connection: each phase once (this /metrics answer is
  // observed only once it is written, after its body was made).
  for (const char* phase : {"read", "service", "handback", "write"}) {
    SCOPED_TRACE(phase);
    EXPECT_EQ(m.at(std::string("cds_http_phase_seconds_count{phase=\"") + phase + "\"}"), 1);
    EXPECT_EQ(m.at(std::string("cds_http_phase_seconds_bucket{phase=\"") + phase + "\",le=\"+Inf\"}"), 1);
  }
  EXPECT_EQ(client.post("/metrics", "{}").result_int(), 405);
}

}  // namespace
}  // namespace cdstest
