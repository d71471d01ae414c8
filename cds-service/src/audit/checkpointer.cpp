#include "audit/checkpointer.hpp"

#include "cds/log.hpp"

#include <sqlite3.h>

namespace cds::detail {

std::unique_ptr<WalCheckpointer> WalCheckpointer::start(sqlite3* db, sqlite3* writer, int threshold_pages,
                                                        std::string& error) {
  // A restarting checkpoint holds new commits off while it waits for the writer's transaction
  // and for readers (a long compliance report, say) to finish: wait briefly, else give up and
  // try again on a later commit, so answers never stall behind a reader.
  sqlite3_busy_timeout(db, 50);
  // The checkpoint syncs the WAL before copying and the database after, as synchronous=FULL asks.
  if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    error = std::string("cannot configure the audit checkpoint connection: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db, writer, threshold_pages));
}

WalCheckpointer::WalCheckpointer(sqlite3* db, sqlite3* writer, int threshold_pages)
    : db_(db), writer_(writer), threshold_(threshold_pages), thread_([this] { run(); }) {
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

// Runs on the writer's thread right after each commit: only a flag and a notify.
int WalCheckpointer::on_commit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (wal_pages >= c->threshold_) {
    {
      std::lock_guard lock(c->mutex_);
      c->due_ = true;
    }
    c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || due_; });
      if (stopping_) return;
      due_ = false;
    }
    runs_.fetch_add(1, std::memory_order_relaxed);
    // The writer keeps appending while we copy; a few quick passes catch up with it, so that a
    // pass finds nothing left and the writer can start the WAL over from its beginning.
    int wal_pages = 0, copied = 0;
    for (int pass = 0; pass < 4; ++pass) {
      if (!checkpoint(SQLITE_CHECKPOINT_PASSIVE, wal_pages, copied) || copied >= wal_pages) break;
    }
    // Under steady writes a passive checkpoint may never see the WAL empty, and the WAL would
    // grow without end. Past a hard limit, hold the writer off once (as SQLite's own automatic
    // checkpoint would on every threshold) and restart the WAL: rare, and bounded.
    if (wal_pages >= 4 * threshold_) checkpoint(SQLITE_CHECKPOINT_RESTART, wal_pages, copied);
  }
}

bool WalCheckpointer::checkpoint(int mode, int& wal_pages, int& copied) {
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, &wal_pages, &copied);
  if (rc == SQLITE_OK) return true;
  // BUSY: another checkpoint was running, or the writer held on; the next commit asks again.
  if (rc != SQLITE_BUSY) log(LogLevel::warning, std::string("audit checkpoint failed: ") + sqlite3_errmsg(db_));
  return false;
}

}  // namespace cds::detail
