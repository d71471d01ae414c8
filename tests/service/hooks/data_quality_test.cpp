// Imperfect data from real clients never silences a safety flag: a donor-derived draft whose
// reasonCode, note or occurrence[x] has the wrong shape, or whose request lacks one prefetch key,
// still gets its critical card (200), the call is recorded `incomplete`, the dropped element's
// path (never its value) is in the audit, and /metrics counts it.
#include "test_server.hpp"

#include <algorithm>
#include <functional>
#include <sstream>

namespace cdstest {
namespace {

std::string rule_of(const json::value& card) {
  return std::string(card.at("extension").at("provenance").at("ruleId").as_string());
}

std::vector<std::string> rules_of(const Response& res) {
  std::vector<std::string> out;
  const json::value body = parse_json(res.body());  // alive for the loop (a temporary would not be)
  for (const auto& c : body.at("cards").as_array()) out.push_back(rule_of(c));
  std::sort(out.begin(), out.end());
  return out;
}

long long metric(Client& client, const std::string& name) {
  Response res = client.get("/metrics");
  std::istringstream lines(res.body());
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(name + " ")) return std::stoll(line.substr(name.size() + 1));
  ADD_FAILURE() << "no metric " << name << " in\n" << res.body();
  return -1;
}

const std::vector<std::string> kFixture01Rules{"donor-derived-product", "whole-joint-plan"};

json::object& draft_of(json::object& body) {
  return body.at("context").at("draftOrders").at("entry").at(0).at("resource").as_object();
}

struct Slip {
  const char* name;
  std::function<void(json::object&)> edit;
  std::string path;  // as recorded in the audit
};

TEST(DataQuality, AMalformedElementOnADonorDerivedDraftStillGetsTheCriticalCard) {
  TestServer server;
  Client client(server);
  const std::string at = "context.draftOrders: Bundle.entry[0].resource.ServiceRequest.";
  const std::vector<Slip> slips{
      // The CDS Hooks Sandbox's Rx View: reasonCode as one object.
      {"reasonCode object", [](json::object& b) { draft_of(b)["reasonCode"] = draft_of(b).at("reasonCode").at(0); },
       at + "reasonCode"},
      {"note as a string", [](json::object& b) { draft_of(b)["note"] = "patient asked for amniotic"; }, at + "note"},
      {"note of strings", [](json::object& b) { draft_of(b)["note"] = json::array{"x"}; }, at + "note"},
      {"occurrenceDateTime a number", [](json::object& b) { draft_of(b)["occurrenceDateTime"] = 20261125; },
       at + "occurrenceDateTime"},
      {"occurrenceDateTime not a date", [](json::object& b) { draft_of(b)["occurrenceDateTime"] = "next week"; },
       at + "occurrenceDateTime"},
      {"occurrencePeriod an array", [](json::object& b) { draft_of(b)["occurrencePeriod"] = json::array{}; },
       at + "occurrencePeriod"},
  };
  int n = 0;
  for (const Slip& slip : slips) {
    SCOPED_TRACE(slip.name);
    const std::string instance = "7d000000-0000-4000-8000-00000000000" + std::to_string(++n);
    Response res = client.post(kSignService, edited_fixture(kFixture01, [&](json::object& b) {
      b["hookInstance"] = instance;
      slip.edit(b);
    }));
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(rules_of(res), kFixture01Rules);
    AuditDb audit(server.audit_db());
    auto rows = audit.rows("SELECT outcome, http_status, data_issues FROM invocation WHERE hook_instance = '" + instance + "'");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"incomplete", "200", "[\"" + slip.path + "\"]"}));
  }
  EXPECT_EQ(metric(client, "cds_data_quality_issues_total"), static_cast<long long>(slips.size()));
  // The value itself is never recorded.
  AuditDb audit(server.audit_db());
  EXPECT_EQ(audit.count("invocation WHERE data_issues LIKE '%amniotic%' OR data_issues LIKE '%next week%'"), 0);
}

// An element no rule reads (an order's subject) is dropped and recorded, but the advice is
// complete: the call is `ok`.
TEST(DataQuality, AnElementNoRuleReadsIsRecordedButTheCallIsOk) {
  TestServer server;
  Client client(server);
  Response res = client.post(kSignService, edited_fixture(kFixture01, [](json::object& b) {
    b["hookInstance"] = "7d000000-0000-4000-8000-0000000000aa";
    draft_of(b)["subject"] = "Patient/pat-01";
  }));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(rules_of(res), kFixture01Rules);
  AuditDb audit(server.audit_db());
  EXPECT_EQ(audit.rows("SELECT outcome, data_issues FROM invocation")[0],
            (std::vector<std::string>{"ok", "[\"context.draftOrders: Bundle.entry[0].resource.ServiceRequest.subject\"]"}));
  // Well-formed requests record an empty list.
  ASSERT_EQ(client.post(kSignService, fixture_request(kFixture01)).result_int(), 200);
  EXPECT_EQ(audit.count("invocation WHERE data_issues = '[]' AND outcome = 'ok'"), 1);
}

// One prefetch key missing and no fhirServer (as the sandbox sends when one of its searches
// failed): the key is unavailable, the critical card is still given, the call is incomplete.
TEST(DataQuality, OneMissingPrefetchKeyStillGetsTheCriticalCard) {
  TestServer server;
  Client client(server);
  int n = 0;
  for (const char* key : {"patient", "conditions", "procedures", "observations"}) {
    SCOPED_TRACE(key);
    const std::string instance = "7e000000-0000-4000-8000-00000000000" + std::to_string(++n);
    Response res = client.post(kSignService, edited_fixture(kFixture01, [&](json::object& b) {
      b["hookInstance"] = instance;
      b.at("prefetch").as_object().erase(key);
      // An open http FHIR server without fhirAuthorization, as the sandbox sends: never used here.
      b["fhirServer"] = "http://127.0.0.1:9/fhir";
    }));
    ASSERT_EQ(res.result_int(), 200) << res.body();
    const auto rules = rules_of(res);
    EXPECT_NE(std::find(rules.begin(), rules.end(), "donor-derived-product"), rules.end()) << res.body();
    AuditDb audit(server.audit_db());
    EXPECT_EQ(audit.rows("SELECT outcome, http_status FROM invocation WHERE hook_instance = '" + instance + "'"),
              (std::vector<std::vector<std::string>>{{"incomplete", "200"}}));
  }
}

}  // namespace
}  // namespace cdstest
