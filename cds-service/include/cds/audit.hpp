#pragma once
// The audit trail: every invocation and card, committed durably before the response is sent.
// One writer thread owns the SQLite connection and commits many requests per transaction
// (group commit), so fsync costs are shared by everyone waiting.
#include "rules/engine.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

struct sqlite3;

namespace cds {

struct InvocationRecord {
  std::string received_at;  // ISO 8601 UTC
  std::string hook, service_id, hook_instance;
  std::string user_id, encounter_id;
  std::string jwt_iss, jwt_sub, tenant;
  std::string rules_version;
  std::string outcome;  // "ok" | "incomplete" | "rejected"
  unsigned http_status = 200;
  std::int64_t latency_us = 0;
  std::string patient_type;
  std::vector<rules::CardRecord> cards;
  std::vector<rules::OrderRecord> orders;
};

class AuditLog {
 public:
  using Done = std::function<void(bool durable)>;

  // Opens (creating and migrating) the database. Error text on failure.
  static std::variant<std::unique_ptr<AuditLog>, std::string> open(const std::filesystem::path& file);
  ~AuditLog();  // commits what is queued, then stops the writer

  // Queues a record; `done` runs on the writer thread once it is committed (true) or the
  // commit failed (false). Callers must not block in `done`.
  void submit(InvocationRecord record, Done done);

  // False after a failed commit, until a later one succeeds.
  bool writable() const noexcept { return writable_.load(std::memory_order_relaxed); }
  std::uint64_t committed() const noexcept { return committed_.load(std::memory_order_relaxed); }

 private:
  explicit AuditLog(sqlite3* db);
  void run();
  bool write_batch(std::vector<std::pair<InvocationRecord, Done>>& batch);

  sqlite3* db_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<InvocationRecord, Done>> queue_;
  bool stopping_ = false;
  std::atomic<bool> writable_{true};
  std::atomic<std::uint64_t> committed_{0};
  std::thread writer_;
};

}  // namespace cds
