#pragma once
// The audit store: every invocation, card and clinician feedback, committed durably before the
// response is sent. The service talks to this interface only; the backend is chosen by the
// `audit.db` setting (a SQLite file path today: SqliteAuditStore). Each backend commits many
// records per transaction (group commit) on a writer of its own and reports each record's
// fate through its callback.
#include "cds/audit/records.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cds {

class AuditStore {
 public:
  using Done = std::function<void(bool durable)>;
  // std::monostate is a probe: a one-row write that tells whether the store is writable.
  using Record = std::variant<InvocationRecord, std::vector<FeedbackRecord>, std::monostate>;

  virtual ~AuditStore() = default;  // a backend commits what is queued, then stops its writer

  // Queues a record; `done` runs on the writer thread once it is committed (true) or the
  // commit failed (false). Callers must not block in `done`.
  virtual void submit(Record record, Done done) = 0;

  // The card as issued, or nullopt when no such card was ever returned.
  virtual std::optional<IssuedCard> find_card(const std::string& uuid) = 0;

  // Background maintenance the backend runs beside its writer (SQLite: WAL checkpoints).
  virtual std::uint64_t checkpoints() const noexcept { return 0; }

  // False after a failed commit, until a later one succeeds.
  bool writable() const noexcept { return writable_.load(std::memory_order_relaxed); }
  // Queues a probe commit, so that a store that recovered is seen as writable again even when
  // no traffic arrives (a not-ready instance gets none).
  void probe() { submit(std::monostate{}, nullptr); }
  // Records committed, and the transactions (fsyncs) that carried them: their ratio is how
  // well group commit is batching.
  std::uint64_t committed() const noexcept { return committed_.load(std::memory_order_relaxed); }
  std::uint64_t commits() const noexcept { return commits_.load(std::memory_order_relaxed); }

 protected:
  AuditStore() = default;
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  std::atomic<bool> writable_{true};
  std::atomic<std::uint64_t> committed_{0};
  std::atomic<std::uint64_t> commits_{0};
};

// Opens (creating and migrating) the store that `db` names: a SQLite file path. Error text on
// failure.
std::variant<std::unique_ptr<AuditStore>, std::string> open_audit_store(const std::string& db);

}  // namespace cds
