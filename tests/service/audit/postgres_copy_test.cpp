// cds-audit copy: a SQLite audit moved into PostgreSQL keeps every row and id, gives the same
// reports, can be run again without duplicating anything, and stops (writing nothing) when
// PostgreSQL holds other rows under the same ids.
#include "audit_support.hpp"
#include "pg_support.hpp"
#include "temp_dir.hpp"
#include "cds/audit/copy.hpp"
#include "cds/audit/postgres_store.hpp"
#include "cds/reports/report.hpp"

namespace cdstest {
namespace {

namespace fs = std::filesystem;

cds::InvocationRecord invocation(int n) {
  cds::InvocationRecord r;
  r.received_at = "2026-11-2" + std::to_string(4 + n % 3) + "T10:00:00.000Z";
  r.hook = n % 2 ? "order-sign" : "order-select";
  r.service_id = "knee-oa-" + r.hook;
  r.hook_instance = "hi-" + std::to_string(n);
  r.tenant = n % 4 ? "north" : "";
  r.user_id = "Practitioner/dr-" + std::to_string(n % 3);
  r.patient_ref = "hmac-sha256:p" + std::to_string(n);
  r.outcome = n % 5 ? "ok" : "incomplete";
  r.latency_us = 1000 + n;
  r.rules_version = "knee-oa@1";
  for (int i = 0; i < n % 3; ++i) {
    rules::CardRecord c;
    c.uuid = "card-" + std::to_string(n) + "-" + std::to_string(i);
    c.rule_id = i ? "whole-joint-plan" : "donor-derived-product";
    c.indicator = i ? "info" : "critical";
    c.summary = "Summary, \"with\" quotes";
    c.triggered_by = {"ServiceRequest/sr-" + std::to_string(n)};
    c.override_reason_codes = {"http://example.org|patient-declined"};
    c.suggestion_uuids = {c.uuid + "-s"};
    r.cards.push_back(c);
  }
  r.orders.push_back({"ServiceRequest/sr-" + std::to_string(n), {"http://snomed.info/sct|1"}, "donor-derived"});
  return r;
}

class PostgresCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("cds-copy");
    auto sqlite = cdstest::open_audit_store(dir_ / "audit.db");
    ASSERT_NE(sqlite, nullptr);
    for (int n = 0; n < 40; ++n) ASSERT_TRUE(cdstest::submit_and_wait(*sqlite, invocation(n)));
    for (int n : {1, 4, 7}) {
      cds::FeedbackRecord f;
      f.received_at = "2026-11-26T11:00:00.000Z";
      f.card_uuid = "card-" + std::to_string(n) + "-0";
      f.service_id = "knee-oa-order-sign";
      f.outcome = n == 4 ? "accepted" : "overridden";
      if (n != 4) f.override_reason = "http://example.org|patient-declined";
      f.outcome_timestamp = "2026-11-26T11:00:00Z";
      ASSERT_TRUE(cdstest::submit_and_wait(*sqlite, std::vector<cds::FeedbackRecord>{f}));
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<cds::CopiedTable> copy() {
    auto copied = cds::copy_sqlite_to_postgres(dir_ / "audit.db", pg_.uri());
    if (auto* e = std::get_if<std::string>(&copied)) {
      ADD_FAILURE() << *e;
      return {};
    }
    return std::get<std::vector<cds::CopiedTable>>(copied);
  }

  fs::path dir_;
  PgDatabase pg_;
};

TEST_F(PostgresCopyTest, CopiesEveryRowOnceWithItsIdAndTheSameReports) {
  ASSERT_TRUE(pg_.ok());
  auto first = copy();
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].table, "invocation");
  EXPECT_EQ(first[0].source_rows, 40);
  EXPECT_EQ(first[0].copied, 40);
  EXPECT_EQ(first[1].source_rows, 39);  // 0 + 1 + 2 cards, thirteen times over
  EXPECT_EQ(first[3].copied, 3);
  EXPECT_EQ(pg_.query("SELECT count(*) FROM invocation"), "40");
  EXPECT_EQ(pg_.query("SELECT count(*) FROM card WHERE id >> 20 = invocation_id"), pg_.query("SELECT count(*) FROM card"));

  // Again: nothing new, everything found identical.
  auto second = copy();
  ASSERT_EQ(second.size(), 4u);
  for (const auto& t : second) {
    EXPECT_EQ(t.copied, 0) << t.table;
    EXPECT_EQ(t.present, t.source_rows) << t.table;
  }
  EXPECT_EQ(pg_.query("SELECT count(*) FROM invocation"), "40");

  cds::ReportRequest req;
  req.from = "2026-11-01";
  req.to = "2026-11-30";
  req.now = "2026-12-01T00:00:00Z";
  for (const char* format : {"json", "html"}) {
    req.format = format;
    auto a = cds::compliance_report(dir_ / "audit.db", req), b = cds::compliance_report(pg_.uri(), req);
    ASSERT_TRUE(std::holds_alternative<std::vector<cds::ReportFile>>(a));
    ASSERT_TRUE(std::holds_alternative<std::vector<cds::ReportFile>>(b)) << std::get<std::string>(b);
    EXPECT_EQ(std::get<std::vector<cds::ReportFile>>(a)[0].body, std::get<std::vector<cds::ReportFile>>(b)[0].body);
  }

  // The replicas' next invocation comes after the copied ids.
  auto opened = cds::PostgresAuditStore::open(pg_.uri());
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<cds::PostgresAuditStore>>(opened));
  auto& store = *std::get<std::unique_ptr<cds::PostgresAuditStore>>(opened);
  ASSERT_TRUE(submit_and_wait_fate(store, invocation(99)).durable);
  EXPECT_EQ(pg_.query("SELECT id FROM invocation WHERE hook_instance = 'hi-99'"), "41");
}

TEST_F(PostgresCopyTest, StopsWithoutWritingWhenOtherRowsHaveTheSameIds) {
  ASSERT_TRUE(pg_.ok());
  {
    auto opened = cds::PostgresAuditStore::open(pg_.uri());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<cds::PostgresAuditStore>>(opened));
    auto& store = *std::get<std::unique_ptr<cds::PostgresAuditStore>>(opened);
    auto other = invocation(3);
    other.hook_instance = "written-by-a-replica";
    ASSERT_TRUE(submit_and_wait_fate(store, other).durable);  // takes id 1
  }
  auto copied = cds::copy_sqlite_to_postgres(dir_ / "audit.db", pg_.uri());
  ASSERT_TRUE(std::holds_alternative<std::string>(copied));
  EXPECT_NE(std::get<std::string>(copied).find("already holds other invocation rows"), std::string::npos)
      << std::get<std::string>(copied);
  EXPECT_EQ(pg_.query("SELECT count(*) FROM invocation"), "1");
}

}  // namespace
}  // namespace cdstest
