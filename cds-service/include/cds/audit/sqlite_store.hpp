#pragma once
// The embedded audit store: one SQLite file in WAL mode with synchronous=FULL, so a COMMIT is
// an fsync and "acknowledged" means "recorded". One writer thread owns the write connection and
// commits many records per transaction (group commit), so one fsync serves everyone waiting.
// Reads (feedback checks, reports) use their own connection: WAL lets them run beside the
// writer. WAL checkpoints run on a thread and connection of their own, never inside a commit.
#include "cds/audit/retry.hpp"
#include "cds/audit/store.hpp"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

struct sqlite3;

namespace cds {
namespace detail {
class WalCheckpointer;
}

class SqliteAuditStore final : public AuditStore {
 public:
  // Opens (creating and migrating) the database. Error text on failure.
  static std::variant<std::unique_ptr<SqliteAuditStore>, std::string> open(const std::filesystem::path& file);
  ~SqliteAuditStore() override;  // commits what is queued, then stops the writer

  void submit(Record record, Done done) override;
  std::optional<IssuedCard> find_card(const std::string& uuid) override;
  std::uint64_t checkpoints() const noexcept override;
  std::size_t queue_depth() const override;

 private:
  struct Writer;  // the writer connection's prepared statements
  // A record waiting for its commit, and until when its caller waits (CommitRetry).
  struct Pending {
    Record record;
    Done done;
    CommitRetry::Clock::time_point deadline;
  };
  SqliteAuditStore(sqlite3* db, std::unique_ptr<Writer> statements, sqlite3* reader,
                   std::unique_ptr<detail::WalCheckpointer> checkpointer);
  void run();
  // One transaction for the batch. False, with the cause, when it did not commit; the
  // transaction is then rolled back and the batch can be written again.
  bool write_batch(std::vector<Pending>& batch, std::vector<bool>& written, std::string& cause);
  // Why the last statement on the writer connection failed, then a rollback if a transaction
  // is still open (SQLite rolls some failures back by itself, not all).
  std::string fail_and_roll_back();

  sqlite3* db_;
  std::unique_ptr<Writer> statements_;
  sqlite3* reader_;
  std::unique_ptr<detail::WalCheckpointer> checkpointer_;
  std::mutex reader_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace cds
