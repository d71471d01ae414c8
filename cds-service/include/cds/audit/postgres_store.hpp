#pragma once
// The shared audit store: PostgreSQL, for several replicas behind one address. The same
// tables and columns as the SQLite store, created and migrated at start under an advisory lock
// (replicas starting together migrate once). Per process, one writer thread owns a connection
// and commits everything queued meanwhile in one transaction (group commit), each table's rows
// as one multi-row INSERT of a prepared statement; answers wait for that COMMIT.
//
// Replay across replicas: a record's TokenUse (iss, jti) is inserted into token_use, whose key
// is (iss, jti), in the same transaction as the record. A second claim of the same token, from
// any replica, waits for the first transaction and then finds the key taken: the record is not
// written and its callback reports a replay. Expired tokens are purged on a thread of its own.
//
// The database down or restarting: the batch fails (the answer is 503), writable() turns false,
// and the next batch or probe reconnects (at most once a second), so the service recovers by
// itself when the database is back.
#include "cds/audit/store.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace cds {

namespace pg {
class Connection;
}

class PostgresAuditStore final : public AuditStore {
 public:
  // Connects to `uri`, creates or migrates the schema, prepares the writer. Error text on failure.
  static std::variant<std::unique_ptr<PostgresAuditStore>, std::string> open(const std::string& uri);
  ~PostgresAuditStore() override;  // commits what is queued, then stops the writer and purger

  void submit(Record record, Done done) override;
  std::optional<IssuedCard> find_card(const std::string& uuid) override;
  CardLookup lookup_card(const std::string& uuid) override;
  bool shared() const noexcept override { return true; }
  std::size_t queue_depth() const override;

  // Expired token_use rows deleted so far (by this process's purger).
  std::uint64_t tokens_purged() const noexcept { return purged_.load(std::memory_order_relaxed); }
  // Runs one purge now (tests; the purger runs it every purge_interval).
  bool purge_expired_tokens();

  // How long expired tokens are kept past their expiry before the purge deletes them: covers
  // replicas whose clocks run behind the database's.
  static constexpr std::chrono::seconds kPurgeGrace{300};
  static constexpr std::chrono::seconds kPurgeInterval{60};

 private:
  struct Item {
    Record record;
    Done done;
  };
  enum class Status { committed, refused, lost, failed };
  explicit PostgresAuditStore(std::string uri);
  bool connect_writer(bool force);
  void run();
  void process(std::vector<Item>& batch);
  Status write(std::vector<Item>& batch, const std::vector<std::size_t>& which, std::vector<Committed>& fate,
               bool& begun);
  void purge_loop();

  std::string uri_;
  std::unique_ptr<pg::Connection> writer_db_;
  std::chrono::steady_clock::time_point last_connect_{};
  std::mutex reader_mutex_;
  std::unique_ptr<pg::Connection> reader_db_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> purged_{0};
  std::thread writer_;
  std::thread purger_;
};

}  // namespace cds
