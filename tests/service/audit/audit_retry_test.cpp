// A commit that fails (here: every file write refused, as on a full disk) is rolled back and
// tried again with the records it holds; once writes work again the store commits with no
// restart, each record once. A record whose caller stopped waiting is never written later.
#include "audit_support.hpp"
#include "temp_dir.hpp"

#include <sqlite3.h>

#include <future>
#include <thread>

namespace cdstest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

cds::InvocationRecord invocation(const std::string& hook_instance) {
  cds::InvocationRecord r;
  r.received_at = "2026-12-01T10:00:00.000Z";
  r.hook = "order-sign";
  r.service_id = "knee-oa-order-sign";
  r.hook_instance = hook_instance;
  r.outcome = "ok";
  r.http_status = 200;
  return r;
}

std::int64_t rows_for(const fs::path& db_file, const std::string& hook_instance) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM invocation WHERE hook_instance = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, hook_instance.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

TEST(AuditRetry, AFailedCommitIsRetriedAndCommitsOnceTheCauseIsGone) {
  const fs::path dir = make_temp_dir("cds-it-retry");
  {
    auto log = open_audit_store(dir / "audit.db");
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(submit_and_wait(*log, invocation("warm-up")));  // the WAL and its index exist
    auto done = std::make_shared<std::promise<bool>>();
    auto durable = done->get_future();
    {
      NoFileWrites no_writes;
      ASSERT_TRUE(no_writes.ok());
      log->submit(invocation("held-1"), [done](bool d) { done->set_value(d); });
      // Failing now (a few attempts), and still waiting: not answered either way.
      for (int i = 0; i < 200 && log->writable(); ++i) std::this_thread::sleep_for(5ms);
      EXPECT_FALSE(log->writable());
      std::this_thread::sleep_for(300ms);
      EXPECT_EQ(durable.wait_for(0ms), std::future_status::timeout);
    }
    // The cause is gone: the held record commits on a later attempt, without a new submit.
    ASSERT_EQ(durable.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(durable.get());
    EXPECT_TRUE(log->writable());
    const std::string cause = log->last_failure();
    EXPECT_NE(cause.find("SQLite error"), std::string::npos) << cause;
    EXPECT_NE(cause.find("errno 27"), std::string::npos) << cause;  // EFBIG: the file size limit
    EXPECT_EQ(log->committed(), 2u);
  }
  EXPECT_EQ(rows_for(dir / "audit.db", "held-1"), 1);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(AuditRetry, ARecordWhoseCallerStoppedWaitingIsNeverWrittenLater) {
  const fs::path dir = make_temp_dir("cds-it-retry-expired");
  {
    auto log = open_audit_store(dir / "audit.db");
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(submit_and_wait(*log, invocation("warm-up")));
    const auto started = std::chrono::steady_clock::now();
    {
      NoFileWrites no_writes;
      ASSERT_TRUE(no_writes.ok());
      // Told "not durable" within its patience, after attempts with pauses between them.
      EXPECT_FALSE(submit_and_wait(*log, invocation("given-up")));
    }
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, cds::CommitRetry::kCommitPatience - cds::CommitRetry::kMaxRetry);
    // Writable again (the writer probes by itself), and the refused record is not in the file.
    for (int i = 0; i < 400 && !log->writable(); ++i) std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(log->writable());
    EXPECT_TRUE(submit_and_wait(*log, invocation("after")));
  }
  EXPECT_EQ(rows_for(dir / "audit.db", "given-up"), 0);
  EXPECT_EQ(rows_for(dir / "audit.db", "after"), 1);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace cdstest
