// The audit's WAL is checkpointed by its own thread while the service runs (the writer's
// automatic checkpoint is off, so that no commit waits for one): committed records reach the
// database file, and the WAL stops growing once they have.
#include "audit_support.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>


namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

cds::InvocationRecord invocation(int i) {
  cds::InvocationRecord r;
  r.received_at = "2026-11-25T12:00:00.000Z";
  r.hook = "order-sign";
  r.service_id = "knee-oa-order-sign";
  r.hook_instance = "hi-" + std::to_string(i);
  r.outcome = "ok";
  r.latency_us = 1000;
  r.patient_type = "3";
  for (int c = 0; c < 2; ++c) {
    rules::CardRecord card;
    card.uuid = "card-" + std::to_string(i) + "-" + std::to_string(c);
    card.rule_id = "whole-joint-plan";
    card.indicator = "info";
    card.summary = std::string(200, 's');
    card.triggered_by = {"ServiceRequest/sr-" + std::to_string(i)};
    r.cards.push_back(std::move(card));
  }
  for (int o = 0; o < 3; ++o)
    r.orders.push_back({"ServiceRequest/sr-" + std::to_string(i) + "-" + std::to_string(o), {"http://snomed.info/sct|1"}, ""});
  return r;
}

std::uintmax_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

class AuditCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cdstest::make_temp_dir("cds-checkpoint");
    db_ = dir_ / "audit.db";
    log_ = cdstest::open_audit_store(db_);
    ASSERT_NE(log_, nullptr);
  }
  void TearDown() override {
    log_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // One record per commit: each commit appends its own frames to the WAL.
  void commit_one(int i) { ASSERT_TRUE(cdstest::submit_and_wait(*log_, invocation(i))); }

  fs::path dir_, db_;
  std::unique_ptr<cds::SqliteAuditStore> log_;
};

TEST_F(AuditCheckpoint, CommittedRecordsReachTheDatabaseFileWhileTheLogIsOpen) {
  const auto db_before = size_or_zero(db_);
  // Each commit touches several pages (invocation, card, order tables and their indexes):
  // 400 single-record commits leave well over the 1000-page threshold in the WAL.
  for (int i = 0; i < 400; ++i) ASSERT_NO_FATAL_FAILURE(commit_one(i));

  // Without a checkpoint the database file keeps its size: every new page is still in the WAL.
  bool grew = false;
  for (int i = 0; i < 200 && !grew; ++i) {  // bounded: <= 10 s
    grew = size_or_zero(db_) > db_before + 64 * 1024;
    if (!grew) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(grew) << "database file " << size_or_zero(db_) << " B, was " << db_before << " B; WAL "
                    << size_or_zero(dir_ / "audit.db-wal") << " B";

  // Once checkpointed, the WAL is reused from its start: more commits do not grow it for ever.
  // 1000 pages of 4 KiB is the threshold and four times that the hard limit; unchecked, 1200
  // such commits would leave ~40 MB.
  for (int i = 400; i < 1200; ++i) ASSERT_NO_FATAL_FAILURE(commit_one(i));
  EXPECT_LT(size_or_zero(dir_ / "audit.db-wal"), 24u * 1024 * 1024) << "the WAL keeps growing: no checkpoints";
  // What /metrics reports as cds_audit_checkpoints_total: at least one, at most one per commit.
  EXPECT_GT(log_->checkpoints(), 0u);
  EXPECT_LE(log_->checkpoints(), 1200u);

  // And nothing was lost on the way.
  log_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM invocation), (SELECT count(*) FROM card)", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1200);
  EXPECT_EQ(sqlite3_column_int(st, 1), 2400);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
