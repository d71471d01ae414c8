// The audit trail over HTTP: every invocation (refusals included) is committed before its answer,
// with its cards; advice that cannot be recorded is not given (503).
#include "audit_support.hpp"
#include "test_server.hpp"

#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include <sys/resource.h>

namespace cdstest {
namespace {

TEST(Audit, InvocationAndCardsAreCommittedBeforeTheResponse) {
  TestServer server;
  Client client(server);
  const std::string rules_version(parse_json(client.get("/readyz").body()).at("rulesVersion").as_string());
  Response res = client.post(kSignService, fixture_request(kFixture01));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const json::array cards = parse_json(res.body()).at("cards").as_array();
  ASSERT_EQ(cards.size(), 2u) << res.body();

  // Opened only now: whatever the response promised must already be on disk.
  AuditDb audit(server.audit_db());
  auto inv = audit.rows(
      "SELECT id, received_at, hook, service_id, hook_instance, user_id, encounter_id, rules_version, outcome, "
      "http_status, latency_us, patient_type FROM invocation");
  ASSERT_EQ(inv.size(), 1u);
  const auto& row = inv[0];
  EXPECT_TRUE(std::regex_match(row[1], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"))) << row[1];
  EXPECT_EQ(row[2], "order-sign");
  EXPECT_EQ(row[3], "knee-oa-order-sign");
  EXPECT_EQ(row[4], kFixture01HookInstance);
  EXPECT_EQ(row[5], "Practitioner/dr-1");
  EXPECT_EQ(row[6], "enc-01");
  EXPECT_EQ(row[7], rules_version);
  EXPECT_EQ(row[8], "ok");
  EXPECT_EQ(row[9], "200");
  EXPECT_GT(std::stoll(row[10]), 0);
  EXPECT_EQ(row[11], "3");

  auto card_rows = audit.rows("SELECT uuid, rule_id, indicator, summary, triggered_by FROM card WHERE invocation_id = " +
                              row[0] + " ORDER BY indicator");
  ASSERT_EQ(card_rows.size(), 2u);
  EXPECT_EQ(audit.count("card"), 2);
  std::set<std::string> response_uuids, audit_uuids;
  for (const auto& c : cards) response_uuids.insert(std::string(c.at("uuid").as_string()));
  for (const auto& c : card_rows) audit_uuids.insert(c[0]);
  EXPECT_EQ(audit_uuids, response_uuids);
  EXPECT_EQ(card_rows[0][1], "donor-derived-product");
  EXPECT_EQ(card_rows[0][2], "critical");
  EXPECT_EQ(card_rows[1][1], "whole-joint-plan");
  EXPECT_EQ(card_rows[1][2], "info");
  for (const auto& c : card_rows) {
    auto it = std::find_if(cards.begin(), cards.end(), [&](const json::value& v) { return std::string_view(v.at("uuid").as_string()) == c[0]; });
    ASSERT_NE(it, cards.end());
    EXPECT_EQ(c[3], std::string(it->at("summary").as_string()));  // the summary as sent
    EXPECT_NE(c[4].find("ServiceRequest/sr-amnio-1"), std::string::npos) << c[4];
  }
  auto orders = audit.rows("SELECT reference, category FROM evaluated_order WHERE reference = 'ServiceRequest/sr-amnio-1'");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0][1], "donor-derived");
}

// Card ids are UUIDv7 stamped with the millisecond the request was received, so the audit's
// unique index of card ids grows at its end (one page per commit, not one random page per
// card): consecutive calls' ids sort in call order, and each lies within its call's time.
TEST(Audit, CardIdsAreTimeOrderedByWhenTheCallArrived) {
  TestServer server;
  Client client(server);
  auto ms_now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  auto stamp = [](const std::string& uuid) {  // the first 48 bits: Unix milliseconds
    return std::stoll(uuid.substr(0, 8) + uuid.substr(9, 4), nullptr, 16);
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto before = ms_now();
    Response res = client.post(kSignService, fixture_request(kFixture01));
    const auto after = ms_now();
    ASSERT_EQ(res.result_int(), 200) << res.body();
    const json::value body = parse_json(res.body());
    for (const json::value& c : body.at("cards").as_array()) {
      const std::string id(c.at("uuid").as_string());
      ASSERT_EQ(id.size(), 36u);
      EXPECT_EQ(id[14], '7') << id;
      EXPECT_GE(stamp(id), before) << id;
      EXPECT_LE(stamp(id), after) << id;
      if (i > 0) EXPECT_GT(stamp(id), stamp(ids.front())) << "a later call's id carries an earlier time";
      ids.push_back(id);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // calls a few milliseconds apart
  }
  AuditDb audit(server.audit_db());
  EXPECT_EQ(audit.count("card"), static_cast<std::int64_t>(ids.size()));
}

TEST(Audit, RefusedInvocationsAreRecordedAsRejectedButRoutingErrorsAreNot) {
  TestServer server;
  Client client(server);
  EXPECT_EQ(client.post("/cds-services/knee-oa-patient-view", fixture_request(kFixture01)).result_int(), 400);
  EXPECT_EQ(client.post(kSignService, edited_fixture(kFixture01, [](json::object& o) { o.erase("prefetch"); }))
                .result_int(),
            412);
  EXPECT_EQ(client.post(kSignService, fixture_request(kFixture01), {{"Content-Type", "text/plain"}}).result_int(), 415);
  EXPECT_EQ(client.post("/cds-services/unknown", fixture_request(kFixture01)).result_int(), 404);
  EXPECT_EQ(client.get(kSignService).result_int(), 405);

  AuditDb audit(server.audit_db());
  auto rows = audit.rows("SELECT service_id, hook_instance, outcome, http_status FROM invocation ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (AuditDb::Row{"knee-oa-patient-view", "", "rejected", "400"}));
  EXPECT_EQ(rows[1], (AuditDb::Row{"knee-oa-order-sign", kFixture01HookInstance, "rejected", "412"}));
  EXPECT_EQ(rows[2], (AuditDb::Row{"knee-oa-order-sign", "", "rejected", "415"}));
  EXPECT_EQ(audit.count("card"), 0);
}

// Makes every file write of this process fail (EFBIG) while it lives: RLIMIT_FSIZE applies to
// the audit writer's pwrite()s at once, with no waiting on SQLite's busy time-out. SIGXFSZ is
// ignored meanwhile so the process is not killed. Only the soft limit changes, so it can be
// restored.
class NoFileWrites {
 public:
  NoFileWrites() {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit none = saved_;
    none.rlim_cur = 0;
    ok_ = setrlimit(RLIMIT_FSIZE, &none) == 0;
  }
  ~NoFileWrites() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
  bool ok_ = false;
};

// The probe behind /readyz must write: an empty transaction commits even on a full disk.
TEST(Audit, ProbeFailsWhileNothingCanBeWrittenAndPassesAfter) {
  const fs::path dir = make_temp_dir("cds-it-probe");
  {
    auto log = open_audit_store(dir / "audit.db");
    ASSERT_NE(log, nullptr);
    EXPECT_TRUE(submit_and_wait(*log, std::monostate{}));
    {
      NoFileWrites no_writes;
      ASSERT_TRUE(no_writes.ok());
      EXPECT_FALSE(submit_and_wait(*log, std::monostate{}));
      EXPECT_FALSE(log->writable());
    }
    EXPECT_TRUE(submit_and_wait(*log, std::monostate{}));
    EXPECT_TRUE(log->writable());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(Audit, AdviceThatCannotBeRecordedIs503AndReadyzReportsIt) {
  TestServer server;
  Client client(server);
  const std::string body = fixture_request(kFixture01);
  ASSERT_EQ(client.post(kSignService, body).result_int(), 200);  // database, WAL and schema exist

  Response failed, refused, ready_during;
  {
    NoFileWrites no_writes;
    ASSERT_TRUE(no_writes.ok());
    failed = client.post(kSignService, body);
    refused = client.post("/cds-services/knee-oa-patient-view", body);  // a refusal keeps its own status
    ready_during = client.get("/readyz");
  }
  EXPECT_EQ(error_message(failed, 503), "the audit store cannot be written; try again later");
  EXPECT_EQ(failed[http::field::retry_after], "5");
  EXPECT_EQ(failed.body().find("cards"), std::string::npos);
  EXPECT_EQ(refused.result_int(), 400);
  EXPECT_EQ(ready_during.result_int(), 503);
  json::value r = parse_json(ready_during.body());
  EXPECT_EQ(r.at("status"), "not-ready");
  EXPECT_EQ(r.at("auditWritable"), false);

  // Writable again: the next commit succeeds and readiness comes back.
  Response again = client.post(kSignService, body);
  EXPECT_EQ(again.result_int(), 200) << again.body();
  Response ready_after = client.get("/readyz");
  EXPECT_EQ(ready_after.result_int(), 200);
  EXPECT_EQ(parse_json(ready_after.body()).at("auditWritable"), true);

  AuditDb audit(server.audit_db());
  EXPECT_EQ(audit.count("invocation WHERE outcome = 'ok'"), 2);  // the failed one left no row
}

}  // namespace
}  // namespace cdstest
