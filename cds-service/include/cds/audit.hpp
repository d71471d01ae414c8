#pragma once
// The audit trail: every invocation, card and clinician feedback, committed durably before the
// response is sent. One writer thread owns the write connection and commits many requests per
// transaction (group commit), so one fsync serves everyone waiting. Reads (feedback checks,
// reports) use their own connection: WAL lets them run beside the writer.
#include "rules/engine.hpp"

#include <openssl/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

struct sqlite3;

namespace cds {
namespace detail {
class WalCheckpointer;
}

struct InvocationRecord {
  std::string received_at;  // ISO 8601 UTC, milliseconds
  std::string hook, service_id, hook_instance;
  std::string user_id, encounter_id;
  std::string patient_ref;  // pseudonymised unless configured otherwise
  std::string jwt_iss, jwt_sub, tenant;
  std::string rules_version;
  std::string outcome;  // "ok" | "incomplete" | "rejected"
  unsigned http_status = 200;
  std::int64_t latency_us = 0;
  std::string patient_type;
  std::vector<rules::CardRecord> cards;  // with what feedback on each is checked against
  std::vector<rules::OrderRecord> orders;
};

struct FeedbackRecord {
  std::string received_at;
  std::string card_uuid;
  std::string service_id;
  std::string outcome;  // "accepted" | "overridden"
  std::vector<std::string> accepted_suggestions;
  std::string override_reason;  // "system|code", empty when none
  bool has_user_comment = false;  // the comment itself is free text: not stored
  std::string outcome_timestamp;
  std::string jwt_iss, jwt_sub, tenant;
};

// What feedback validation needs to know about an issued card.
struct IssuedCard {
  std::string service_id;
  std::vector<std::string> override_reason_codes;  // "system|code"
  std::vector<std::string> suggestion_uuids;
};

class AuditLog {
 public:
  using Done = std::function<void(bool durable)>;
  // std::monostate is a probe: a one-row write that tells whether the store is writable.
  using Record = std::variant<InvocationRecord, std::vector<FeedbackRecord>, std::monostate>;

  // Opens (creating and migrating) the database. Error text on failure.
  static std::variant<std::unique_ptr<AuditLog>, std::string> open(const std::filesystem::path& file);
  ~AuditLog();  // commits what is queued, then stops the writer

  // Queues a record; `done` runs on the writer thread once it is committed (true) or the
  // commit failed (false). Callers must not block in `done`.
  void submit(Record record, Done done);

  // The card as issued, or nullopt when no such card was ever returned.
  std::optional<IssuedCard> find_card(const std::string& uuid);

  // False after a failed commit, until a later one succeeds.
  bool writable() const noexcept { return writable_.load(std::memory_order_relaxed); }
  // Queues a probe commit, so that a store that recovered is seen as writable again even when
  // no traffic arrives (a not-ready instance gets none).
  void probe() { submit(std::monostate{}, nullptr); }
  // Records committed, and the transactions (fsyncs) that carried them: their ratio is how
  // well group commit is batching.
  std::uint64_t committed() const noexcept { return committed_.load(std::memory_order_relaxed); }
  std::uint64_t commits() const noexcept { return commits_.load(std::memory_order_relaxed); }
  // WAL checkpoints run beside the writer (each syncs the WAL and the database file).
  std::uint64_t checkpoints() const noexcept;

 private:
  struct Writer;  // the writer connection's prepared statements
  AuditLog(sqlite3* db, std::unique_ptr<Writer> statements, sqlite3* reader,
           std::unique_ptr<detail::WalCheckpointer> checkpointer);
  void run();
  bool write_batch(std::vector<std::pair<Record, Done>>& batch, std::vector<bool>& written);

  sqlite3* db_;
  std::unique_ptr<Writer> statements_;
  sqlite3* reader_;
  std::unique_ptr<detail::WalCheckpointer> checkpointer_;
  std::mutex reader_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<Record, Done>> queue_;
  bool stopping_ = false;
  std::atomic<bool> writable_{true};
  std::atomic<std::uint64_t> committed_{0};
  std::atomic<std::uint64_t> commits_{0};
  std::thread writer_;
};

// Patient references in the audit: HMAC-SHA256 under a secret key, so reviewers can follow one
// patient across calls without the audit holding who it is.
class Pseudonymizer {
 public:
  // Reads the key file, creating it (32 random bytes, mode 0600) when it does not exist.
  static std::variant<Pseudonymizer, std::string> from_key_file(const std::filesystem::path& file);
  static Pseudonymizer disabled() { return Pseudonymizer(); }
  // "hmac-sha256:<hex>" of the reference, or the reference itself when disabled. Thread-safe.
  std::string operator()(std::string_view patient_reference) const;

 private:
  Pseudonymizer() = default;
  // HMAC-SHA256 keyed once (the key's pads hashed, the digest fetched from the provider store);
  // each reference copies it. Null: pseudonymisation off, references stored as given.
  std::shared_ptr<const EVP_MAC_CTX> keyed_;
};
}  // namespace cds
