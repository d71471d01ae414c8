// An audit database written by an earlier release is migrated in place when the service opens
// it: every row is kept, feedback still refers to its card, reports still find an invocation's
// cards and orders, and new records go to the new schema. The "earlier release" is the version 2
// schema exactly as it shipped (38ebb7e).
#include "audit_support.hpp"
#include "temp_dir.hpp"

#include "cds/reports/report.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Schema version 2 and rows as that release wrote them: the cards and orders of two
// invocations interleaved by id, feedback on one card.
constexpr const char* kVersion2Database = R"sql(
  CREATE TABLE invocation (
    id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, hook TEXT NOT NULL, service_id TEXT NOT NULL,
    hook_instance TEXT NOT NULL, tenant TEXT, jwt_iss TEXT, jwt_sub TEXT, user_id TEXT, encounter_id TEXT,
    patient_ref TEXT, rules_version TEXT, outcome TEXT NOT NULL, http_status INTEGER NOT NULL,
    latency_us INTEGER NOT NULL, patient_type TEXT);
  CREATE INDEX invocation_received ON invocation(received_at);
  CREATE TABLE card (
    id INTEGER PRIMARY KEY, invocation_id INTEGER NOT NULL REFERENCES invocation(id), uuid TEXT NOT NULL UNIQUE,
    rule_id TEXT NOT NULL, indicator TEXT NOT NULL, summary TEXT NOT NULL, triggered_by TEXT NOT NULL,
    override_reasons TEXT NOT NULL, suggestions TEXT NOT NULL);
  CREATE INDEX card_invocation ON card(invocation_id);
  CREATE TABLE evaluated_order (
    id INTEGER PRIMARY KEY, invocation_id INTEGER NOT NULL REFERENCES invocation(id), reference TEXT NOT NULL,
    codes TEXT NOT NULL, category TEXT NOT NULL);
  CREATE INDEX order_invocation ON evaluated_order(invocation_id);
  CREATE TABLE feedback (
    id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, card_uuid TEXT NOT NULL REFERENCES card(uuid),
    service_id TEXT NOT NULL, outcome TEXT NOT NULL, accepted_suggestions TEXT NOT NULL, override_reason TEXT,
    has_user_comment INTEGER NOT NULL, outcome_timestamp TEXT NOT NULL, jwt_iss TEXT, jwt_sub TEXT, tenant TEXT);
  CREATE INDEX feedback_card ON feedback(card_uuid);
  CREATE TABLE write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), written_at TEXT NOT NULL);
  PRAGMA user_version = 2;

  INSERT INTO invocation VALUES
    (1, '2026-11-20T10:00:00.000Z', 'order-sign', 'knee-oa-order-sign', 'h1', NULL, 'iss', 'sub', 'Practitioner/1',
     'enc-1', 'hmac-sha256:aa', 'sha256:r', 'ok', 200, 900, '3'),
    (2, '2026-11-20T10:00:01.000Z', 'order-select', 'knee-oa-order-select', 'h2', NULL, 'iss', 'sub', 'Practitioner/2',
     NULL, 'hmac-sha256:bb', 'sha256:r', 'ok', 200, 800, '1');
  INSERT INTO card VALUES
    (10, 1, 'uuid-1a', 'donor-derived-product', 'critical', 'Donor product', '["ServiceRequest/a"]',
     '["http://r|not-donor"]', '["sg-1"]'),
    (11, 2, 'uuid-2a', 'whole-joint-plan', 'info', 'Plan', '["ServiceRequest/b"]', '[]', '["sg-2"]'),
    (12, 1, 'uuid-1b', 'whole-joint-plan', 'info', 'Plan', '["ServiceRequest/a"]', '[]', '[]');
  INSERT INTO evaluated_order VALUES
    (20, 1, 'ServiceRequest/a', '["http://x|1"]', 'donor-derived'),
    (21, 2, 'ServiceRequest/b', '[]', 'autologous'),
    (22, 1, 'ServiceRequest/c', '["http://x|2"]', '');
  INSERT INTO feedback VALUES
    (30, '2026-11-20T10:05:00.000Z', 'uuid-1a', 'knee-oa-order-sign', 'overridden', '[]', 'http://r|not-donor', 0,
     '2026-11-20T10:04:00.000Z', 'iss', 'sub', NULL);
)sql";

class Db {
 public:
  explicit Db(const fs::path& file) { sqlite3_open(file.c_str(), &db_); }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  bool exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
  // Every row of the query, its columns joined by '|'.
  std::vector<std::string> rows(const char* sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        if (i > 0) row += '|';
        const auto* t = sqlite3_column_text(st, i);
        row += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
      out.push_back(row);
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

cds::InvocationRecord new_invocation() {
  cds::InvocationRecord r;
  r.received_at = "2026-11-20T11:00:00.000Z";
  r.hook = "order-sign";
  r.service_id = "knee-oa-order-sign";
  r.hook_instance = "h3";
  r.outcome = "ok";
  r.patient_type = "2";
  for (const char* uuid : {"uuid-3a", "uuid-3b"}) {
    rules::CardRecord c;
    c.uuid = uuid;
    c.rule_id = "donor-derived-product";
    c.indicator = "critical";
    c.summary = "Donor product";
    c.triggered_by = {"ServiceRequest/d"};
    r.cards.push_back(std::move(c));
  }
  r.orders.push_back({"ServiceRequest/d", {"http://x|3"}, "donor-derived"});
  return r;
}

cds::FeedbackRecord feedback_on(const std::string& card_uuid) {
  cds::FeedbackRecord f;
  f.received_at = "2026-11-20T11:01:00.000Z";
  f.card_uuid = card_uuid;
  f.service_id = "knee-oa-order-sign";
  f.outcome = "accepted";
  f.outcome_timestamp = "2026-11-20T11:00:30.000Z";
  return f;
}

TEST(AuditMigration, Version2DatabaseKeepsEveryRowAndItsReferences) {
  const fs::path dir = cdstest::make_temp_dir("cds-audit-migration");
  const fs::path file = dir / "audit.db";
  {
    Db old(file);
    ASSERT_TRUE(old.exec(kVersion2Database));
  }
  {
    auto log = cdstest::open_audit_store(file);
    ASSERT_NE(log, nullptr);
    // Feedback checks read the migrated cards.
    auto card = log->find_card("uuid-1a");
    ASSERT_TRUE(card.has_value());
    EXPECT_EQ(card->service_id, "knee-oa-order-sign");
    EXPECT_EQ(card->override_reason_codes, (std::vector<std::string>{"http://r|not-donor"}));
    EXPECT_EQ(card->suggestion_uuids, (std::vector<std::string>{"sg-1"}));
    // New records go to the new tables; feedback must still name a card that exists.
    EXPECT_TRUE(cdstest::submit_and_wait(*log, new_invocation()));
    EXPECT_TRUE(cdstest::submit_and_wait(*log, std::vector<cds::FeedbackRecord>{feedback_on("uuid-3b")}));
    EXPECT_FALSE(cdstest::submit_and_wait(*log, std::vector<cds::FeedbackRecord>{feedback_on("no-such-card")}))
        << "feedback on an unknown card was stored: the foreign key is not enforced";
  }
  Db db(file);
  EXPECT_EQ(db.rows("PRAGMA user_version"), (std::vector<std::string>{"4"}));
  // Each card and order keeps its invocation; its id is that invocation's id << 20 plus its place
  // there, in the order it was written.
  EXPECT_EQ(db.rows("SELECT id >> 20, id & 1048575, invocation_id, uuid, rule_id, indicator, summary, triggered_by, "
                    "override_reasons, suggestions FROM card ORDER BY id"),
            (std::vector<std::string>{
                R"(1|0|1|uuid-1a|donor-derived-product|critical|Donor product|["ServiceRequest/a"]|["http://r|not-donor"]|["sg-1"])",
                R"(1|1|1|uuid-1b|whole-joint-plan|info|Plan|["ServiceRequest/a"]|[]|[])",
                R"(2|0|2|uuid-2a|whole-joint-plan|info|Plan|["ServiceRequest/b"]|[]|["sg-2"])",
                R"(3|0|3|uuid-3a|donor-derived-product|critical|Donor product|["ServiceRequest/d"]|[]|[])",
                R"(3|1|3|uuid-3b|donor-derived-product|critical|Donor product|["ServiceRequest/d"]|[]|[])",
            }));
  EXPECT_EQ(db.rows("SELECT id >> 20, id & 1048575, invocation_id, reference, codes, category FROM evaluated_order "
                    "ORDER BY id"),
            (std::vector<std::string>{
                R"(1|0|1|ServiceRequest/a|["http://x|1"]|donor-derived)",
                R"(1|1|1|ServiceRequest/c|["http://x|2"]|)",
                R"(2|0|2|ServiceRequest/b|[]|autologous)",
                R"(3|0|3|ServiceRequest/d|["http://x|3"]|donor-derived)",
            }));
  EXPECT_EQ(db.rows("SELECT id, card_uuid, outcome FROM feedback ORDER BY id"),
            (std::vector<std::string>{"30|uuid-1a|overridden", "31|uuid-3b|accepted"}));
  EXPECT_EQ(db.rows("SELECT count(*) FROM invocation"), (std::vector<std::string>{"3"}));
  // No index by invocation any more: the ids are in invocation order.
  EXPECT_EQ(db.rows("SELECT name FROM sqlite_master WHERE name IN ('card_invocation', 'order_invocation', 'card_v3', "
                    "'evaluated_order_v3')"),
            std::vector<std::string>{});
  EXPECT_EQ(db.rows("PRAGMA foreign_key_check"), std::vector<std::string>{});
  EXPECT_EQ(db.rows("PRAGMA integrity_check"), (std::vector<std::string>{"ok"}));

  // The reports find every invocation's cards and orders by those id ranges: the two donor cards
  // of call 1 and call 3 flag one order each (ServiceRequest/a, /d); 5 cards in all.
  cds::ReportRequest request;
  request.from = "2026-11-20";
  request.to = "2026-11-20";
  auto report = cds::query_report(file, request);
  ASSERT_TRUE(std::holds_alternative<cds::ReportData>(report)) << std::get<std::string>(report);
  const cds::ReportData& data = std::get<cds::ReportData>(report);
  EXPECT_EQ(data.totals.invocations, 3);
  EXPECT_EQ(data.totals.cards, 5);
  const cds::ReportTable* flagged = nullptr;
  for (const auto& t : data.tables)
    if (t.name == "flagged_orders_by_month") flagged = &t;
  ASSERT_NE(flagged, nullptr);
  ASSERT_EQ(flagged->rows.size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(flagged->rows[0].at(2)), 2);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
