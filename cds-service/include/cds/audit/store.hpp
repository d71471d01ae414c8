#pragma once
// The audit store: every invocation, card and clinician feedback, committed durably before the
// response is sent. The service talks to this interface only; the backend is chosen by the
// `audit.db` setting: a SQLite file path (SqliteAuditStore, one process) or a postgresql:// URI
// (PostgresAuditStore, shared by every replica). Each backend commits many records per
// transaction (group commit) on a writer of its own and reports each record's fate through its
// callback.
#include "cds/audit/records.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cds {

// A record's fate. Converts to `durable`, so a callback that only cares about that takes a bool.
struct Committed {
  bool durable = false;
  // Not written because a shared store already holds the record's token (iss, jti): the same
  // JWT was accepted before, by this replica or another. Never set together with `durable`.
  bool replay = false;
  Committed(bool is_durable) : durable(is_durable) {}  // NOLINT: implicit on purpose (see above)
  static Committed replayed() {
    Committed c(false);
    c.replay = true;
    return c;
  }
  operator bool() const noexcept { return durable; }  // NOLINT
};

// The card lookup of a store that could not be read (as opposed to "no such card").
struct StoreUnavailable {};
using CardLookup = std::variant<std::optional<IssuedCard>, StoreUnavailable>;

class AuditStore {
 public:
  using Done = std::function<void(Committed)>;
  // std::monostate is a probe: a one-row write that tells whether the store is writable.
  // TokenUse alone spends a token that writes nothing else (discovery) in a shared store.
  using Record = std::variant<InvocationRecord, std::vector<FeedbackRecord>, std::monostate, TokenUse>;

  virtual ~AuditStore() = default;  // a backend commits what is queued, then stops its writer

  // Queues a record; `done` runs on the writer thread once it is committed (true) or the
  // commit failed (false). Callers must not block in `done`.
  virtual void submit(Record record, Done done) = 0;

  // The card as issued, or nullopt when no such card was ever returned.
  virtual std::optional<IssuedCard> find_card(const std::string& uuid) = 0;
  // The same, telling a store that cannot be read (answer 503) from an unknown card (400).
  virtual CardLookup lookup_card(const std::string& uuid) { return find_card(uuid); }

  // True when several processes share this store: then it, not each process's memory, decides
  // whether a token was used before (records carry their TokenUse to be claimed on commit).
  virtual bool shared() const noexcept { return false; }

  // Background maintenance the backend runs beside its writer (SQLite: WAL checkpoints).
  virtual std::uint64_t checkpoints() const noexcept { return 0; }

  // Whether the writer's last commit attempt succeeded: false after a failed commit, until a
  // later one on the same writer and connection succeeds. This is /readyz: the very path that
  // invocations use, not a separate check that could disagree with it.
  bool writable() const noexcept { return writable_.load(std::memory_order_relaxed); }
  // Why the last failed commit failed, in the backend's own terms (SQLite: the extended result
  // code, its message and errno). Empty when none has failed. No PHI: codes and messages only.
  std::string last_failure() const {
    std::lock_guard lock(failure_mutex_);
    return last_failure_;
  }
  // Queues a probe commit, so that a store that recovered is seen as writable again even when
  // no traffic arrives (a not-ready instance gets none). A writer that is failing also probes
  // by itself, on its retry schedule (cds/audit/retry.hpp).
  void probe() { submit(std::monostate{}, nullptr); }
  // Records committed, and the transactions (fsyncs) that carried them: their ratio is how
  // well group commit is batching.
  std::uint64_t committed() const noexcept { return committed_.load(std::memory_order_relaxed); }
  std::uint64_t commits() const noexcept { return commits_.load(std::memory_order_relaxed); }
  // Records waiting for the writer (a backend that keeps no count says 0).
  virtual std::size_t queue_depth() const { return 0; }

  // Commit latency (BEGIN to COMMIT done) as a Prometheus histogram: counts (not cumulative) per
  // bucket of kCommitBuckets (upper bounds in seconds), the last one +Inf, and the sum.
  static constexpr std::array<double, 10> kCommitBuckets{0.0005, 0.001, 0.002, 0.005, 0.01,
                                                         0.02,   0.05,  0.1,   0.5,   2.0};
  std::uint64_t commit_latency_count(std::size_t bucket) const noexcept {
    return commit_latency_[bucket].load(std::memory_order_relaxed);
  }
  double commit_latency_sum_seconds() const noexcept {
    return static_cast<double>(commit_latency_sum_us_.load(std::memory_order_relaxed)) / 1e6;
  }

 protected:
  AuditStore() = default;
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  // The writer reports each attempt's outcome through these.
  void commit_succeeded() noexcept { writable_.store(true, std::memory_order_relaxed); }
  void commit_failed(std::string cause) {
    {
      std::lock_guard lock(failure_mutex_);
      last_failure_ = std::move(cause);
    }
    writable_.store(false, std::memory_order_relaxed);
  }

  std::atomic<bool> writable_{true};
  std::atomic<std::uint64_t> committed_{0};
  std::atomic<std::uint64_t> commits_{0};

  void record_commit_latency(std::chrono::steady_clock::duration d) noexcept {
    const double s = std::chrono::duration<double>(d).count();
    std::size_t b = 0;
    while (b < kCommitBuckets.size() && s > kCommitBuckets[b]) ++b;
    commit_latency_[b].fetch_add(1, std::memory_order_relaxed);
    commit_latency_sum_us_.fetch_add(static_cast<std::uint64_t>(s * 1e6), std::memory_order_relaxed);
  }

 private:
  mutable std::mutex failure_mutex_;
  std::string last_failure_;
  std::array<std::atomic<std::uint64_t>, kCommitBuckets.size() + 1> commit_latency_{};
  std::atomic<std::uint64_t> commit_latency_sum_us_{0};
};

// Opens (creating and migrating) the store that `db` names: a postgresql:// or postgres:// URI
// (libpq syntax; the password from PGPASSFILE or PGPASSWORD, never the config), else a SQLite
// file path. Error text on failure.
std::variant<std::unique_ptr<AuditStore>, std::string> open_audit_store(const std::string& db);

// Whether `db` names a PostgreSQL database rather than a SQLite file.
bool is_postgres_uri(std::string_view db) noexcept;

}  // namespace cds
