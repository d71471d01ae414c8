// Compliance reports computed from a seeded audit database with known counts: every table, each
// format, the tenant filter, the inclusive date boundaries and the follow-up list.
#include "audit_support.hpp"
#include "pg_support.hpp"
#include "temp_dir.hpp"
#include "cds/audit/postgres_store.hpp"
#include "cds/audit/sqlite_store.hpp"
#include "cds/reports/report.hpp"

#include "fhir/json.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kReasonSystem = "https://ehr.example/fhir/CodeSystem/override-reason|";
// A summary holding every character CSV and HTML must escape.
constexpr const char* kTrickySummary = "Stop \"amniotic, donor\" <&> product";

rules::CardRecord card(std::string uuid, std::string rule, std::string indicator, std::vector<std::string> refs,
                    std::string summary = {}) {
  rules::CardRecord c;
  c.uuid = uuid;
  c.rule_id = std::move(rule);
  c.indicator = std::move(indicator);
  c.summary = summary.empty() ? "Summary of " + uuid : std::move(summary);
  c.triggered_by = std::move(refs);
  c.override_reason_codes = {std::string(kReasonSystem) + "patient-declined", std::string(kReasonSystem) + "other"};
  return c;
}

struct Inv {
  std::string at, hook, instance, tenant, user, patient, outcome;
  std::vector<rules::CardRecord> cards;
  std::vector<std::pair<std::string, std::string>> orders;  // reference, category
};

cds::InvocationRecord record(const Inv& i) {
  cds::InvocationRecord r;
  r.received_at = i.at;
  r.hook = i.hook;
  r.service_id = "knee-oa-" + i.hook;
  r.hook_instance = i.instance;
  r.tenant = i.tenant;
  r.user_id = i.user;
  r.patient_ref = i.patient;
  r.outcome = i.outcome;
  r.http_status = i.outcome == "rejected" ? 412 : 200;
  r.latency_us = 1500;
  r.rules_version = "knee-oa@1";
  r.cards = i.cards;
  for (const auto& [ref, category] : i.orders) r.orders.push_back({ref, {"http://snomed.info/sct|1"}, category});
  return r;
}

std::vector<cds::FeedbackRecord> feedback(std::string at, std::string uuid, std::string outcome, std::string reason = {}) {
  cds::FeedbackRecord f;
  f.received_at = std::move(at);
  f.card_uuid = std::move(uuid);
  f.service_id = "knee-oa-order-sign";
  f.outcome = std::move(outcome);
  if (f.outcome == "overridden" && !reason.empty()) f.override_reason = kReasonSystem + reason;
  f.outcome_timestamp = f.received_at;
  return {f};
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cdstest::make_temp_dir("cds-report");
    db_ = dir_ / "audit.db";
    log_ = cdstest::open_audit_store(db_);
    ASSERT_NE(log_, nullptr);
    seed();
  }
  void TearDown() override {
    log_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void submit(cds::AuditStore::Record r) {
    if (into_ != nullptr) ASSERT_TRUE(cdstest::submit_and_wait_fate(*into_, std::move(r)).durable);
    else ASSERT_TRUE(cdstest::submit_and_wait(*log_, std::move(r)));
  }

  // The known data. In the main range 2026-11-24..2026-11-26: invocations i1..i8, cards c01..c11.
  void seed() {
    const std::vector<Inv> invocations = {
        // Just outside the range on either side.
        {"2026-11-23T23:59:59.999Z", "order-sign", "hi-x1", "north", "Practitioner/dr-1", "hmac-sha256:xxx", "ok",
         {card("c-out-1", "donor-derived-product", "critical", {"ServiceRequest/sr-out"})},
         {{"ServiceRequest/sr-out", "donor-derived"}}},
        {"2026-11-27T00:00:00.000Z", "order-select", "hi-x2", "north", "Practitioner/dr-1", "hmac-sha256:xxx", "ok",
         {card("c-out-2", "single-shot-cell-injection", "warning", {"ServiceRequest/sr-x2"})},
         {{"ServiceRequest/sr-x2", "autologous"}}},
        {"2026-12-01T00:30:00.000Z", "order-select", "hi-x3", "north", "Practitioner/dr-1", "hmac-sha256:xxx", "ok",
         {card("c-out-3", "donor-derived-product", "critical", {"ServiceRequest/sr-9"})},
         {{"ServiceRequest/sr-9", "donor-derived"}}},
        // i1: first instant of the range.
        {"2026-11-24T00:00:00.000Z", "order-select", "hi-1", "north", "Practitioner/dr-1", "hmac-sha256:aaa", "ok",
         {card("c01", "donor-derived-product", "critical", {"ServiceRequest/sr-1", "Condition/oa-1"}),
          card("c02", "whole-joint-plan", "info", {"ServiceRequest/sr-1", "ServiceRequest/sr-2"})},
         {{"ServiceRequest/sr-1", "donor-derived"}, {"ServiceRequest/sr-2", "autologous"}}},
        // i2: the same order signed; its critical card accepted.
        {"2026-11-24T10:00:00.000Z", "order-sign", "hi-2", "north", "Practitioner/dr-1", "hmac-sha256:aaa", "ok",
         {card("c03", "donor-derived-product", "critical", {"ServiceRequest/sr-1", "Condition/oa-1"})},
         {{"ServiceRequest/sr-1", "donor-derived"}}},
        // i3: critical card overridden (patient-declined) -> follow-up.
        {"2026-11-24T11:00:00.000Z", "order-sign", "hi-3", "north", "Practitioner/dr-2", "hmac-sha256:bbb", "ok",
         {card("c04", "single-shot-cell-injection", "warning", {"ServiceRequest/sr-3"}),
          card("c05", "donor-derived-product", "critical", {"ServiceRequest/sr-4"}, kTrickySummary)},
         {{"ServiceRequest/sr-3", "autologous"}, {"ServiceRequest/sr-4", "donor-derived"}}},
        // i4
        {"2026-11-25T09:00:00.000Z", "patient-view", "hi-4", "south", "Practitioner/dr-3", "hmac-sha256:ccc", "ok",
         {card("c06", "whole-joint-plan", "info", {"Procedure/p-1", "Observation/pain-1"})},
         {}},
        // i5: critical card without feedback -> follow-up; c08 overridden then accepted -> accepted.
        {"2026-11-25T12:00:00.000Z", "order-sign", "hi-5", "south", "Practitioner/dr-3", "hmac-sha256:ccc", "ok",
         {card("c07", "donor-derived-product", "critical", {"ServiceRequest/sr-5"}),
          card("c08", "single-shot-cell-injection", "warning", {"ServiceRequest/sr-6"})},
         {{"ServiceRequest/sr-5", "donor-derived"}, {"ServiceRequest/sr-6", "autologous"}}},
        // i6: rejected.
        {"2026-11-25T13:00:00.000Z", "order-sign", "", "north", "Practitioner/dr-1", "", "rejected", {}, {}},
        // i7: last instant of the range, no tenant; sr-3 again but under another tenant.
        {"2026-11-26T23:59:59.999Z", "order-select", "hi-7", "", "Practitioner/dr-2", "hmac-sha256:eee", "incomplete",
         {card("c09", "single-shot-cell-injection", "warning", {"ServiceRequest/sr-3"})},
         {{"ServiceRequest/sr-3", "autologous"}}},
        // i8: critical card overridden twice (latest reason counts); plan card overridden without reason.
        {"2026-11-26T08:00:00.000Z", "order-sign", "hi-8", "north", "Practitioner/dr-2", "hmac-sha256:ddd", "ok",
         {card("c10", "donor-derived-product", "critical", {"ServiceRequest/sr-7", "Condition/oa-4"}),
          card("c11", "whole-joint-plan", "info", {"ServiceRequest/sr-7"})},
         {{"ServiceRequest/sr-7", "donor-derived"}}},
    };
    for (const auto& i : invocations) ASSERT_NO_FATAL_FAILURE(submit(record(i)));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-24T10:01:00.000Z", "c03", "accepted")));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-24T11:02:00.000Z", "c05", "overridden", "patient-declined")));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-25T09:05:00.000Z", "c06", "accepted")));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-25T12:01:00.000Z", "c08", "overridden", "clinical-trial")));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-25T12:03:00.000Z", "c08", "accepted")));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-26T09:00:00.000Z", "c10", "overridden", "fda-approved-use")));
    // After the range: feedback counts whenever it arrives.
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-27T10:00:00.000Z", "c10", "overridden", "documented-plan-elsewhere")));
    ASSERT_NO_FATAL_FAILURE(submit(feedback("2026-11-26T08:10:00.000Z", "c11", "overridden")));
  }

  cds::ReportRequest request(std::string format, std::string from = "2026-11-24", std::string to = "2026-11-26") {
    cds::ReportRequest r;
    r.from = std::move(from);
    r.to = std::move(to);
    r.format = std::move(format);
    r.now = "2026-12-02T08:00:00Z";
    return r;
  }

  std::vector<cds::ReportFile> run(const cds::ReportRequest& req) {
    auto result = cds::compliance_report(db_, req);
    if (auto* err = std::get_if<std::string>(&result)) {
      ADD_FAILURE() << *err;
      return {};
    }
    return std::get<std::vector<cds::ReportFile>>(result);
  }

  json::object run_json(const cds::ReportRequest& req) {
    auto files = run(req);
    if (files.size() != 1) {
      ADD_FAILURE() << "expected one file, got " << files.size();
      return {};
    }
    EXPECT_EQ(files[0].name, "compliance-report.json");
    EXPECT_EQ(files[0].content_type, "application/json");
    return json::parse(files[0].body).as_object();
  }

  fs::path dir_, db_;
  std::unique_ptr<cds::SqliteAuditStore> log_;
  cds::AuditStore* into_ = nullptr;  // seed() writes here instead of log_ when set
};

json::value J(const char* text) { return json::parse(text); }

TEST_F(ReportTest, JsonHasEveryTableWithExactCounts) {
  const json::object doc = run_json(request("json"));
  EXPECT_EQ(doc.at("from"), "2026-11-24");
  EXPECT_EQ(doc.at("to"), "2026-11-26");
  EXPECT_FALSE(doc.contains("tenant"));
  const json::object& t = doc.at("tables").as_object();
  ASSERT_EQ(t.size(), 6u);

  EXPECT_EQ(t.at("invocations_by_hook_day"), J(R"([
    {"day":"2026-11-24","hook":"order-select","invocations":1,"ok":1,"incomplete":0,"rejected":0},
    {"day":"2026-11-24","hook":"order-sign","invocations":2,"ok":2,"incomplete":0,"rejected":0},
    {"day":"2026-11-25","hook":"order-sign","invocations":2,"ok":1,"incomplete":0,"rejected":1},
    {"day":"2026-11-25","hook":"patient-view","invocations":1,"ok":1,"incomplete":0,"rejected":0},
    {"day":"2026-11-26","hook":"order-select","invocations":1,"ok":0,"incomplete":1,"rejected":0},
    {"day":"2026-11-26","hook":"order-sign","invocations":1,"ok":1,"incomplete":0,"rejected":0}])"))
      << t.at("invocations_by_hook_day");

  // donor-derived: north sr-1 (twice, counted once), north sr-4, south sr-5, north sr-7 (Conditions
  // are not orders); single-shot: north sr-3, south sr-6, sr-3 without tenant.
  EXPECT_EQ(t.at("flagged_orders_by_month"), J(R"([
    {"month":"2026-11","category":"donor-derived","orders_flagged":4},
    {"month":"2026-11","category":"single-shot","orders_flagged":3}])"))
      << t.at("flagged_orders_by_month");

  EXPECT_EQ(t.at("card_outcomes_by_rule"), J(R"([
    {"rule":"donor-derived-product","cards":5,"accepted":1,"overridden":2,"no_feedback":2},
    {"rule":"single-shot-cell-injection","cards":3,"accepted":1,"overridden":0,"no_feedback":2},
    {"rule":"whole-joint-plan","cards":3,"accepted":1,"overridden":1,"no_feedback":1}])"))
      << t.at("card_outcomes_by_rule");

  // c10's latest override reason counts; c08 (overridden, then accepted) is accepted.
  EXPECT_EQ(t.at("overrides_by_reason"), J(R"j([
    {"rule":"donor-derived-product","reason":"documented-plan-elsewhere","display":"documented-plan-elsewhere","overridden":1},
    {"rule":"donor-derived-product","reason":"patient-declined","display":"patient-declined","overridden":1},
    {"rule":"whole-joint-plan","reason":"","display":"(no reason given)","overridden":1}])j"))
      << t.at("overrides_by_reason");

  EXPECT_EQ(t.at("card_outcomes_by_user"), J(R"([
    {"user_id":"Practitioner/dr-1","cards":3,"accepted":1,"overridden":0,"no_feedback":2},
    {"user_id":"Practitioner/dr-2","cards":5,"accepted":0,"overridden":3,"no_feedback":2},
    {"user_id":"Practitioner/dr-3","cards":3,"accepted":2,"overridden":0,"no_feedback":1}])"))
      << t.at("card_outcomes_by_user");

  json::value expected_follow_up = J(R"([
    {"received_at":"2026-11-24T11:00:00.000Z","tenant":"north","hook_instance":"hi-3","patient_ref":"hmac-sha256:bbb",
     "user_id":"Practitioner/dr-2","card_uuid":"c05","rule":"donor-derived-product","summary":"",
     "triggered_by":["ServiceRequest/sr-4"],"feedback":"overridden","override_reason":"patient-declined"},
    {"received_at":"2026-11-25T12:00:00.000Z","tenant":"south","hook_instance":"hi-5","patient_ref":"hmac-sha256:ccc",
     "user_id":"Practitioner/dr-3","card_uuid":"c07","rule":"donor-derived-product","summary":"Summary of c07",
     "triggered_by":["ServiceRequest/sr-5"],"feedback":"none","override_reason":""},
    {"received_at":"2026-11-26T08:00:00.000Z","tenant":"north","hook_instance":"hi-8","patient_ref":"hmac-sha256:ddd",
     "user_id":"Practitioner/dr-2","card_uuid":"c10","rule":"donor-derived-product","summary":"Summary of c10",
     "triggered_by":["ServiceRequest/sr-7","Condition/oa-4"],"feedback":"overridden",
     "override_reason":"documented-plan-elsewhere"}])");
  expected_follow_up.as_array()[0].as_object()["summary"] = kTrickySummary;
  EXPECT_EQ(t.at("signed_after_critical"), expected_follow_up) << t.at("signed_after_critical");
}

TEST_F(ReportTest, TenantFilterAppliesToEveryTable) {
  auto req = request("json");
  req.tenant = "north";
  const json::object doc = run_json(req);
  EXPECT_EQ(doc.at("tenant"), "north");
  const json::object& t = doc.at("tables").as_object();
  EXPECT_EQ(t.at("invocations_by_hook_day"), J(R"([
    {"day":"2026-11-24","hook":"order-select","invocations":1,"ok":1,"incomplete":0,"rejected":0},
    {"day":"2026-11-24","hook":"order-sign","invocations":2,"ok":2,"incomplete":0,"rejected":0},
    {"day":"2026-11-25","hook":"order-sign","invocations":1,"ok":0,"incomplete":0,"rejected":1},
    {"day":"2026-11-26","hook":"order-sign","invocations":1,"ok":1,"incomplete":0,"rejected":0}])"))
      << t.at("invocations_by_hook_day");
  EXPECT_EQ(t.at("flagged_orders_by_month"), J(R"([
    {"month":"2026-11","category":"donor-derived","orders_flagged":3},
    {"month":"2026-11","category":"single-shot","orders_flagged":1}])"))
      << t.at("flagged_orders_by_month");
  EXPECT_EQ(t.at("card_outcomes_by_rule"), J(R"([
    {"rule":"donor-derived-product","cards":4,"accepted":1,"overridden":2,"no_feedback":1},
    {"rule":"single-shot-cell-injection","cards":1,"accepted":0,"overridden":0,"no_feedback":1},
    {"rule":"whole-joint-plan","cards":2,"accepted":0,"overridden":1,"no_feedback":1}])"))
      << t.at("card_outcomes_by_rule");
  EXPECT_EQ(t.at("card_outcomes_by_user"), J(R"([
    {"user_id":"Practitioner/dr-1","cards":3,"accepted":1,"overridden":0,"no_feedback":2},
    {"user_id":"Practitioner/dr-2","cards":4,"accepted":0,"overridden":3,"no_feedback":1}])"))
      << t.at("card_outcomes_by_user");
  const auto& follow_up = t.at("signed_after_critical").as_array();
  ASSERT_EQ(follow_up.size(), 2u);
  EXPECT_EQ(follow_up[0].at("card_uuid"), "c05");
  EXPECT_EQ(follow_up[1].at("card_uuid"), "c10");

  req.tenant = "nobody";
  const json::object empty = run_json(req);
  EXPECT_TRUE(empty.at("tables").at("invocations_by_hook_day").as_array().empty());
  EXPECT_TRUE(empty.at("tables").at("signed_after_critical").as_array().empty());
  // The known rules are listed even without cards.
  EXPECT_EQ(empty.at("tables").at("card_outcomes_by_rule"), J(R"([
    {"rule":"donor-derived-product","cards":0,"accepted":0,"overridden":0,"no_feedback":0},
    {"rule":"single-shot-cell-injection","cards":0,"accepted":0,"overridden":0,"no_feedback":0},
    {"rule":"whole-joint-plan","cards":0,"accepted":0,"overridden":0,"no_feedback":0}])"));
}

TEST_F(ReportTest, DateBoundariesAreInclusiveWholeUtcDays) {
  // 2026-11-24 holds i1 at 00:00:00.000 but not the invocation at 2026-11-23T23:59:59.999Z.
  auto first = run_json(request("json", "2026-11-24", "2026-11-24"));
  EXPECT_EQ(first.at("tables").at("invocations_by_hook_day"), J(R"([
    {"day":"2026-11-24","hook":"order-select","invocations":1,"ok":1,"incomplete":0,"rejected":0},
    {"day":"2026-11-24","hook":"order-sign","invocations":2,"ok":2,"incomplete":0,"rejected":0}])"));
  // 2026-11-26 holds i7 at 23:59:59.999 but not the invocation at 2026-11-27T00:00:00.000Z.
  auto last = run_json(request("json", "2026-11-26", "2026-11-26"));
  EXPECT_EQ(last.at("tables").at("invocations_by_hook_day"), J(R"([
    {"day":"2026-11-26","hook":"order-select","invocations":1,"ok":0,"incomplete":1,"rejected":0},
    {"day":"2026-11-26","hook":"order-sign","invocations":1,"ok":1,"incomplete":0,"rejected":0}])"));
  auto before = run_json(request("json", "2026-11-23", "2026-11-23"));
  EXPECT_EQ(before.at("tables").at("invocations_by_hook_day"), J(R"([
    {"day":"2026-11-23","hook":"order-sign","invocations":1,"ok":1,"incomplete":0,"rejected":0}])"));
  EXPECT_EQ(before.at("tables").at("signed_after_critical").as_array().size(), 1u);
  EXPECT_EQ(before.at("tables").at("signed_after_critical").at(0).at("card_uuid"), "c-out-1");

  // Across months: each month on its own row.
  auto wide = run_json(request("json", "2026-11-01", "2026-12-31"));
  EXPECT_EQ(wide.at("tables").at("flagged_orders_by_month"), J(R"([
    {"month":"2026-11","category":"donor-derived","orders_flagged":5},
    {"month":"2026-11","category":"single-shot","orders_flagged":4},
    {"month":"2026-12","category":"donor-derived","orders_flagged":1}])"))
      << wide.at("tables").at("flagged_orders_by_month");
  EXPECT_EQ(wide.at("tables").at("card_outcomes_by_rule").at(0), J(R"(
    {"rule":"donor-derived-product","cards":7,"accepted":1,"overridden":2,"no_feedback":4})"));
}

TEST_F(ReportTest, JsonCanBeLimitedToOneTable) {
  auto req = request("json");
  req.table = "card_outcomes_by_user";
  const json::object doc = run_json(req);
  ASSERT_EQ(doc.at("tables").as_object().size(), 1u);
  EXPECT_EQ(doc.at("tables").at("card_outcomes_by_user").as_array().size(), 3u);
}

TEST_F(ReportTest, ReasonDisplaysComeFromTheRulesData) {
  auto displays = cds::load_override_reason_displays(CDS_RULES_DIR);
  ASSERT_EQ(displays.index(), 0u) << std::get<std::string>(displays);
  auto req = request("json");
  req.reason_displays = std::get<0>(displays);
  EXPECT_EQ(req.reason_displays.at("patient-declined"), "Patient declined the suggested alternative");
  EXPECT_EQ(req.reason_displays.size(), 5u);
  const json::object doc = run_json(req);
  EXPECT_EQ(doc.at("tables").at("overrides_by_reason"), J(R"j([
    {"rule":"donor-derived-product","reason":"documented-plan-elsewhere",
     "display":"Already part of a whole-joint plan documented elsewhere","overridden":1},
    {"rule":"donor-derived-product","reason":"patient-declined",
     "display":"Patient declined the suggested alternative","overridden":1},
    {"rule":"whole-joint-plan","reason":"","display":"(no reason given)","overridden":1}])j"))
      << doc.at("tables").at("overrides_by_reason");
  EXPECT_TRUE(std::holds_alternative<std::string>(cds::load_override_reason_displays(dir_ / "missing")));
}

TEST_F(ReportTest, CsvIsOneRfc4180FilePerTable) {
  auto files = run(request("csv"));
  ASSERT_EQ(files.size(), 6u);
  const auto& names = cds::report_table_names();
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].name, names[i] + ".csv");
    EXPECT_EQ(files[i].content_type, "text/csv; charset=utf-8; header=present");
  }
  EXPECT_EQ(files[2].body,
            "rule,cards,accepted,overridden,no_feedback\r\n"
            "donor-derived-product,5,1,2,2\r\n"
            "single-shot-cell-injection,3,1,0,2\r\n"
            "whole-joint-plan,3,1,1,1\r\n");
  EXPECT_EQ(files[1].body, "month,category,orders_flagged\r\n2026-11,donor-derived,4\r\n2026-11,single-shot,3\r\n");

  auto req = request("csv");
  req.table = "signed_after_critical";
  auto one = run(req);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].name, "signed_after_critical.csv");
  EXPECT_EQ(one[0].body,
            "received_at,tenant,hook_instance,patient_ref,user_id,card_uuid,rule,summary,triggered_by,feedback,"
            "override_reason\r\n"
            "2026-11-24T11:00:00.000Z,north,hi-3,hmac-sha256:bbb,Practitioner/dr-2,c05,donor-derived-product,"
            "\"Stop \"\"amniotic, donor\"\" <&> product\",ServiceRequest/sr-4,overridden,patient-declined\r\n"
            "2026-11-25T12:00:00.000Z,south,hi-5,hmac-sha256:ccc,Practitioner/dr-3,c07,donor-derived-product,"
            "Summary of c07,ServiceRequest/sr-5,none,\r\n"
            "2026-11-26T08:00:00.000Z,north,hi-8,hmac-sha256:ddd,Practitioner/dr-2,c10,donor-derived-product,"
            "Summary of c10,ServiceRequest/sr-7 Condition/oa-4,overridden,documented-plan-elsewhere\r\n");
}

TEST_F(ReportTest, MeasureReportHasThePopulations) {
  auto req = request("measure");
  req.base_url = "https://cds.example.org/";
  auto files = run(req);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].content_type, "application/fhir+json");
  const json::object m = json::parse(files[0].body).as_object();
  EXPECT_EQ(m.at("resourceType"), "MeasureReport");
  EXPECT_EQ(m.at("status"), "complete");
  EXPECT_EQ(m.at("type"), "summary");
  EXPECT_EQ(m.at("measure"), "https://cds.example.org/fhir/Measure/knee-oa-regenerative-cds");
  EXPECT_EQ(m.at("date"), "2026-12-02T08:00:00Z");
  EXPECT_EQ(m.at("period"), J(R"({"start":"2026-11-24","end":"2026-11-26"})"));
  EXPECT_FALSE(m.contains("extension"));

  // group id -> {initial-population, denominator, numerator}
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::int64_t>>>> expected = {
      {"critical-card-follow-up", {{"initial-population", 5}, {"denominator", 4}, {"numerator", 1}}},
      {"card-acceptance", {{"initial-population", 11}, {"denominator", 11}, {"numerator", 3}}},
      {"rule-donor-derived-product", {{"initial-population", 5}, {"denominator", 5}, {"numerator", 1}}},
      {"rule-single-shot-cell-injection", {{"initial-population", 3}, {"denominator", 3}, {"numerator", 1}}},
      {"rule-whole-joint-plan", {{"initial-population", 3}, {"denominator", 3}, {"numerator", 1}}},
  };
  const json::array& groups = m.at("group").as_array();
  ASSERT_EQ(groups.size(), expected.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    SCOPED_TRACE(expected[g].first);
    EXPECT_EQ(groups[g].at("id"), expected[g].first.c_str());
    EXPECT_EQ(groups[g].at("code").at("coding").at(0).at("code"), expected[g].first.c_str());
    EXPECT_TRUE(groups[g].at("code").at("text").is_string());
    const json::array& pops = groups[g].at("population").as_array();
    ASSERT_EQ(pops.size(), expected[g].second.size());
    for (std::size_t p = 0; p < pops.size(); ++p) {
      const json::array& coding = pops[p].at("code").at("coding").as_array();
      ASSERT_EQ(coding.size(), 1u);
      EXPECT_EQ(coding[0].at("system"), "http://terminology.hl7.org/CodeSystem/measure-population");
      EXPECT_EQ(coding[0].at("code"), expected[g].second[p].first.c_str());
      EXPECT_EQ(pops[p].at("count"), expected[g].second[p].second);
    }
  }

  req.tenant = "south";
  req.base_url.clear();
  const json::object south = json::parse(run(req).at(0).body).as_object();
  EXPECT_EQ(south.at("measure"), "https://example.org/fhir/Measure/knee-oa-regenerative-cds");
  EXPECT_EQ(south.at("extension").at(0).at("valueString"), "south");
  // south: c06 (plan, accepted), c07 (critical on order-sign, no feedback), c08 (accepted).
  const auto& sg = south.at("group").as_array();
  EXPECT_EQ(sg[0].at("population").at(0).at("count"), 1);
  EXPECT_EQ(sg[0].at("population").at(1).at("count"), 1);
  EXPECT_EQ(sg[0].at("population").at(2).at("count"), 0);
  EXPECT_EQ(sg[1].at("population").at(0).at("count"), 3);
  EXPECT_EQ(sg[1].at("population").at(2).at("count"), 2);
}

std::size_t occurrences(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) ++n;
  return n;
}

TEST_F(ReportTest, HtmlIsOneSelfContainedPrintablePageWithCharts) {
  auto files = run(request("html"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].content_type, "text/html; charset=utf-8");
  const std::string& html = files[0].body;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(occurrences(html, "<svg"), 2u);
  EXPECT_EQ(occurrences(html, "<table"), 6u);
  EXPECT_EQ(occurrences(html, "<style>"), 1u);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("Stop &quot;amniotic, donor&quot; &lt;&amp;&gt; product"), std::string::npos);
  EXPECT_EQ(html.find("<&>"), std::string::npos);
  // The day chart has one bar per day of the range (3 days) and the outcome chart 3 bars per rule.
  EXPECT_EQ(occurrences(html, "<rect class=\"bar-inv\""), 3u);
  EXPECT_NE(html.find("<title>2026-11-25: 3</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>donor-derived-product, Overridden: 2</title>"), std::string::npos);
  // The follow-up rows, pseudonymous patient ids only.
  EXPECT_NE(html.find("<td>hmac-sha256:ddd</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>ServiceRequest/sr-7 Condition/oa-4</td>"), std::string::npos);
}

TEST_F(ReportTest, HtmlParsesAsXml) {
  auto req = request("html");
  req.tenant = "<north & co>";  // echoed in the page: must be escaped too
  auto files = run(req);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].body.find("Tenant: &lt;north &amp; co&gt;"), std::string::npos);
  for (const auto& [name, body] : {std::pair{"tenant", files[0].body}, std::pair{"all", run(request("html")).at(0).body}}) {
    const fs::path file = dir_ / (std::string(name) + ".html");
    std::ofstream(file, std::ios::binary) << body;
    if (std::system("command -v python3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 not available";
    const std::string cmd =
        "python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
        "assert r.tag == 'html', r.tag; assert len(list(r.iter('svg'))) == 2; "
        "assert len(list(r.iter('table'))) == 6; assert not list(r.iter('script'))\" '" +
        file.string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << name << " HTML is not well-formed XML:\n" << body;
  }
}

TEST_F(ReportTest, ReadsWhileTheServiceWrites) {
  // The writer (SqliteAuditStore) is open throughout; one more invocation shows up in the next report.
  ASSERT_NO_FATAL_FAILURE(submit(record({"2026-11-25T15:00:00.000Z", "patient-view", "hi-9", "south",
                                         "Practitioner/dr-3", "hmac-sha256:ccc", "ok", {}, {}})));
  auto req = request("json");
  req.table = "invocations_by_hook_day";
  const auto rows = run_json(req).at("tables").at("invocations_by_hook_day").as_array();
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[3], J(R"({"day":"2026-11-25","hook":"patient-view","invocations":2,"ok":2,"incomplete":0,"rejected":0})"));
}

TEST_F(ReportTest, RequestErrors) {
  auto error_of = [&](const cds::ReportRequest& r) {
    auto result = cds::compliance_report(db_, r);
    return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string("(no error)");
  };
  auto r = request("json");
  r.from = "2026-11-31";
  EXPECT_EQ(error_of(r), "'from' must be a date YYYY-MM-DD, got '2026-11-31'");
  r = request("json");
  r.to = "26-11-2026";
  EXPECT_EQ(error_of(r), "'to' must be a date YYYY-MM-DD, got '26-11-2026'");
  r = request("json", "2026-11-26", "2026-11-24");
  EXPECT_EQ(error_of(r), "'to' (2026-11-24) is before 'from' (2026-11-26)");
  r = request("xlsx");
  EXPECT_EQ(error_of(r), "unknown format 'xlsx' (csv, json, html or measure)");
  r = request("csv");
  r.table = "patients";
  EXPECT_NE(error_of(r).find("unknown table 'patients'"), std::string::npos) << error_of(r);
  r = request("html");
  r.table = "card_outcomes_by_rule";
  EXPECT_EQ(error_of(r), "a table can be chosen for csv and json only");
  EXPECT_EQ(cds::validate_report_request(request("measure")), std::nullopt);
  r = request("json");
  r.to = "2027-02-29";  // not a leap year
  EXPECT_EQ(error_of(r), "'to' must be a date YYYY-MM-DD, got '2027-02-29'");
  r.to = "2028-02-29";
  r.from = "2028-02-29";
  EXPECT_EQ(cds::validate_report_request(r), std::nullopt);  // 2028 is one
}

TEST(ReportDatabase, UnreadableDatabasesAreErrors) {
  cds::ReportRequest req;
  req.from = req.to = "2026-11-24";
  req.format = "json";
  const fs::path dir = cdstest::make_temp_dir("cds-report");
  auto error_of = [&](const fs::path& db) {
    auto result = cds::compliance_report(db, req);
    return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string("(no error)");
  };
  EXPECT_EQ(error_of(dir / "missing.db"), "cannot open audit database " + (dir / "missing.db").string() + ": no such file");
  std::ofstream(dir / "text.db") << "this is not a database, just some text long enough to be read as one\n";
  EXPECT_NE(error_of(dir / "text.db").find("audit database"), std::string::npos) << error_of(dir / "text.db");
  // A real SQLite file without the audit schema: an error, and not modified (opened read-only).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "other.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto size = fs::file_size(dir / "other.db");
  EXPECT_EQ(error_of(dir / "other.db"), (dir / "other.db").string() + " is not a CDS audit database");
  EXPECT_EQ(fs::file_size(dir / "other.db"), size);
  EXPECT_FALSE(fs::exists(dir / "other.db-wal"));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The same data in PostgreSQL (written by the PostgreSQL store) gives the same reports, byte for
// byte, in every format, table, date range and tenant filter.
class ReportPostgresTest : public ReportTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ReportTest::SetUp());
    ASSERT_TRUE(pg_.ok());
    auto opened = cds::PostgresAuditStore::open(pg_.uri());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<cds::PostgresAuditStore>>(opened)) << std::get<std::string>(opened);
    pg_store_ = std::move(std::get<std::unique_ptr<cds::PostgresAuditStore>>(opened));
    into_ = pg_store_.get();
    seed();
    into_ = nullptr;
  }
  void TearDown() override {
    pg_store_.reset();
    ReportTest::TearDown();
  }
  cdstest::PgDatabase pg_;
  std::unique_ptr<cds::PostgresAuditStore> pg_store_;
};

TEST_F(ReportPostgresTest, EveryReportIsTheSameAsFromSqlite) {
  std::vector<cds::ReportRequest> requests;
  for (const char* format : {"json", "html", "measure"}) requests.push_back(request(format));
  for (const auto& table : cds::report_table_names()) {
    auto r = request("csv");
    r.table = table;
    requests.push_back(r);
  }
  auto north = request("json");
  north.tenant = "north";
  requests.push_back(north);
  requests.push_back(request("json", "2026-11-01", "2026-12-31"));
  requests.push_back(request("json", "2026-11-25", "2026-11-25"));
  auto with_displays = request("json");
  with_displays.reason_displays = {{"patient-declined", "Patient declined"}};
  requests.push_back(with_displays);
  for (const auto& r : requests) {
    auto from_sqlite = cds::compliance_report(db_, r);
    auto from_postgres = cds::compliance_report(pg_.uri(), r);
    ASSERT_TRUE(std::holds_alternative<std::vector<cds::ReportFile>>(from_sqlite)) << std::get<std::string>(from_sqlite);
    ASSERT_TRUE(std::holds_alternative<std::vector<cds::ReportFile>>(from_postgres)) << std::get<std::string>(from_postgres);
    const auto& a = std::get<std::vector<cds::ReportFile>>(from_sqlite);
    const auto& b = std::get<std::vector<cds::ReportFile>>(from_postgres);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_EQ(a[i].body, b[i].body) << r.format << " " << r.table << " " << r.from << ".." << r.to << " " << r.tenant;
    }
  }
  // And the data is really there: the counts the SQLite tests pin down.
  const json::object doc = run_json(request("json"));
  EXPECT_FALSE(doc.at("tables").at("invocations_by_hook_day").as_array().empty());
}

TEST_F(ReportPostgresTest, ADatabaseWithoutTheAuditIsAnError) {
  cdstest::PgDatabase empty;
  ASSERT_TRUE(empty.ok());
  auto result = cds::compliance_report(empty.uri(), request("json"));
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_NE(std::get<std::string>(result).find("not a CDS audit database"), std::string::npos);
}

}  // namespace

