#include "cds/audit.hpp"

#include "fhir/json.hpp"

#include <sqlite3.h>

namespace cds {
namespace {

// Versioned schema: migrations[i] takes the database from user_version i to i + 1.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE invocation (
      id            INTEGER PRIMARY KEY,
      received_at   TEXT NOT NULL,
      hook          TEXT NOT NULL,
      service_id    TEXT NOT NULL,
      hook_instance TEXT NOT NULL,
      tenant        TEXT,
      jwt_iss       TEXT,
      jwt_sub       TEXT,
      user_id       TEXT,
      encounter_id  TEXT,
      rules_version TEXT,
      outcome       TEXT NOT NULL,
      http_status   INTEGER NOT NULL,
      latency_us    INTEGER NOT NULL,
      patient_type  TEXT
    );
    CREATE INDEX invocation_received ON invocation(received_at);
    CREATE TABLE card (
      id            INTEGER PRIMARY KEY,
      invocation_id INTEGER NOT NULL REFERENCES invocation(id),
      uuid          TEXT NOT NULL,
      rule_id       TEXT NOT NULL,
      indicator     TEXT NOT NULL,
      summary       TEXT NOT NULL,
      triggered_by  TEXT NOT NULL
    );
    CREATE INDEX card_uuid ON card(uuid);
    CREATE TABLE evaluated_order (
      id            INTEGER PRIMARY KEY,
      invocation_id INTEGER NOT NULL REFERENCES invocation(id),
      reference     TEXT NOT NULL,
      codes         TEXT NOT NULL,
      category      TEXT NOT NULL
    );
    )sql",
};

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Statement() { sqlite3_finalize(s_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return s_ != nullptr; }
  Statement& text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool step_done() {
    int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return rc == SQLITE_DONE;
  }
 private:
  sqlite3_stmt* s_ = nullptr;
};

bool exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

std::string join_json(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return boost::json::serialize(a);
}

std::string migrate(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  constexpr int latest = static_cast<int>(std::size(kMigrations));
  if (version > latest) return "audit database schema version " + std::to_string(version) + " is newer than this build";
  for (int v = version; v < latest; ++v) {
    std::string sql = std::string("BEGIN;") + kMigrations[v] + "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
    if (!exec(db, sql.c_str())) {
      std::string err = sqlite3_errmsg(db);
      exec(db, "ROLLBACK");
      return "audit schema migration " + std::to_string(v + 1) + " failed: " + err;
    }
  }
  return {};
}

}  // namespace

std::variant<std::unique_ptr<AuditLog>, std::string> AuditLog::open(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string err = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return "cannot open audit database " + file.string() + ": " + err;
  }
  // WAL lets report readers run beside the writer; synchronous=FULL makes every COMMIT an
  // fsync, which is what "acknowledged means recorded" requires.
  sqlite3_busy_timeout(db, 5000);
  if (!exec(db, "PRAGMA journal_mode=WAL") || !exec(db, "PRAGMA synchronous=FULL") ||
      !exec(db, "PRAGMA foreign_keys=ON")) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    return "cannot configure audit database " + file.string() + ": " + err;
  }
  if (auto err = migrate(db); !err.empty()) {
    sqlite3_close(db);
    return err;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(db));
}

AuditLog::AuditLog(sqlite3* db) : db_(db), writer_([this] { run(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  sqlite3_close(db_);
}

void AuditLog::submit(InvocationRecord record, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(record), std::move(done));
  }
  wake_.notify_one();
}

void AuditLog::run() {
  constexpr std::size_t kMaxBatch = 512;
  std::vector<std::pair<InvocationRecord, Done>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Everything that queued while the previous commit was syncing goes into this one.
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    bool ok = write_batch(batch);
    writable_.store(ok, std::memory_order_relaxed);
    if (ok) committed_.fetch_add(batch.size(), std::memory_order_relaxed);
    for (auto& [record, done] : batch)
      if (done) done(ok);
    batch.clear();
  }
}

bool AuditLog::write_batch(std::vector<std::pair<InvocationRecord, Done>>& batch) {
  if (!exec(db_, "BEGIN IMMEDIATE")) return false;
  Statement inv(db_,
                "INSERT INTO invocation(received_at, hook, service_id, hook_instance, tenant, jwt_iss, jwt_sub, user_id, "
                "encounter_id, rules_version, outcome, http_status, latency_us, patient_type) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Statement card(db_,
                 "INSERT INTO card(invocation_id, uuid, rule_id, indicator, summary, triggered_by) VALUES(?,?,?,?,?,?)");
  Statement order(db_, "INSERT INTO evaluated_order(invocation_id, reference, codes, category) VALUES(?,?,?,?)");
  bool ok = inv.ok() && card.ok() && order.ok();
  for (auto it = batch.begin(); ok && it != batch.end(); ++it) {
    const InvocationRecord& r = it->first;
    ok = inv.text(1, r.received_at).text(2, r.hook).text(3, r.service_id).text(4, r.hook_instance)
             .text(5, r.tenant).text(6, r.jwt_iss).text(7, r.jwt_sub).text(8, r.user_id).text(9, r.encounter_id)
             .text(10, r.rules_version).text(11, r.outcome).integer(12, r.http_status).integer(13, r.latency_us)
             .text(14, r.patient_type).step_done();
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    for (const auto& c : r.cards)
      ok = ok && card.integer(1, id).text(2, c.uuid).text(3, c.rule_id).text(4, c.indicator).text(5, c.summary)
                     .text(6, join_json(c.triggered_by)).step_done();
    for (const auto& o : r.orders)
      ok = ok && order.integer(1, id).text(2, o.reference).text(3, join_json(o.codes)).text(4, o.category).step_done();
  }
  if (ok && exec(db_, "COMMIT")) return true;
  exec(db_, "ROLLBACK");
  return false;
}

}  // namespace cds
