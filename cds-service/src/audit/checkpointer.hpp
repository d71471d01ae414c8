#pragma once
// Copies committed WAL frames into the audit database on its own thread and connection, so a
// checkpoint (many page writes and two fsyncs, tens of milliseconds) never sits inside the
// commit a clinician's answer is waiting for.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace cds::detail {

class WalCheckpointer {
 public:
  // Takes `db`, its own connection to the database (closed even on failure), and installs
  // itself as the WAL hook of `writer`, which
  // turns off SQLite's automatic checkpoint there: once a commit leaves `threshold_pages` or
  // more in the WAL, this thread checkpoints (PASSIVE: it never blocks the writer or readers;
  // only a WAL four times over the threshold makes it hold the writer off once, to restart it).
  static std::unique_ptr<WalCheckpointer> start(sqlite3* db, sqlite3* writer, int threshold_pages,
                                                std::string& error);
  // Call once the writer has stopped committing: removes the hook, finishes a checkpoint in
  // progress and closes the connection.
  ~WalCheckpointer();

  // How many times it has checkpointed (each time: up to four passive passes, and a restart
  // when the WAL is past its hard limit).
  std::uint64_t runs() const noexcept { return runs_.load(std::memory_order_relaxed); }

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  WalCheckpointer(sqlite3* db, sqlite3* writer, int threshold_pages);
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();
  bool checkpoint(int mode, int& wal_pages, int& copied);

  sqlite3* db_;
  sqlite3* writer_;
  int threshold_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> runs_{0};
  std::thread thread_;
};

}  // namespace cds::detail
