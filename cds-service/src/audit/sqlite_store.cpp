#include "cds/audit/sqlite_store.hpp"
#include "audit/checkpointer.hpp"
#include "audit/ids.hpp"
#include "audit/sqlite_error.hpp"
#include "cds/audit/wal_write_batching.hpp"
#include "cds/audit/json_list.hpp"

#include "cds/log.hpp"
#include "fhir/json.hpp"

#include <sqlite3.h>


namespace cds {
namespace {

// Versioned schema: kMigrations[i] takes the database from user_version i to i + 1.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE invocation (
      id            INTEGER PRIMARY KEY,
      received_at   TEXT NOT NULL,            -- ISO 8601 UTC
      hook          TEXT NOT NULL,
      service_id    TEXT NOT NULL,
      hook_instance TEXT NOT NULL,
      tenant        TEXT,
      jwt_iss       TEXT,
      jwt_sub       TEXT,
      user_id       TEXT,
      encounter_id  TEXT,
      patient_ref   TEXT,                     -- HMAC-SHA256 pseudonym unless disabled
      rules_version TEXT,
      outcome       TEXT NOT NULL,            -- ok | incomplete | rejected
      http_status   INTEGER NOT NULL,
      latency_us    INTEGER NOT NULL,
      patient_type  TEXT
    );
    CREATE INDEX invocation_received ON invocation(received_at);
    CREATE TABLE card (
      id               INTEGER PRIMARY KEY,
      invocation_id    INTEGER NOT NULL REFERENCES invocation(id),
      uuid             TEXT NOT NULL UNIQUE,
      rule_id          TEXT NOT NULL,
      indicator        TEXT NOT NULL,
      summary          TEXT NOT NULL,
      triggered_by     TEXT NOT NULL,         -- JSON array of references
      override_reasons TEXT NOT NULL,         -- JSON array of "system|code"
      suggestions      TEXT NOT NULL          -- JSON array of suggestion uuids
    );
    CREATE INDEX card_invocation ON card(invocation_id);
    CREATE TABLE evaluated_order (
      id            INTEGER PRIMARY KEY,
      invocation_id INTEGER NOT NULL REFERENCES invocation(id),
      reference     TEXT NOT NULL,
      codes         TEXT NOT NULL,            -- JSON array of "system|code"
      category      TEXT NOT NULL             -- donor-derived | autologous | ''
    );
    CREATE INDEX order_invocation ON evaluated_order(invocation_id);
    CREATE TABLE feedback (
      id                   INTEGER PRIMARY KEY,
      received_at          TEXT NOT NULL,
      card_uuid            TEXT NOT NULL REFERENCES card(uuid),
      service_id           TEXT NOT NULL,
      outcome              TEXT NOT NULL,     -- accepted | overridden
      accepted_suggestions TEXT NOT NULL,     -- JSON array of suggestion uuids
      override_reason      TEXT,              -- "system|code"
      has_user_comment     INTEGER NOT NULL,  -- the comment is free text and is not stored
      outcome_timestamp    TEXT NOT NULL,
      jwt_iss              TEXT,
      jwt_sub              TEXT,
      tenant               TEXT
    );
    CREATE INDEX feedback_card ON feedback(card_uuid);
    )sql",
    // 2: a one-row table the writability probe rewrites. An empty transaction writes nothing, so
    // it "succeeds" on a full or read-only disk; the probe must really write to prove anything.
    R"sql(
    CREATE TABLE write_probe (
      id         INTEGER PRIMARY KEY CHECK (id = 1),
      written_at TEXT NOT NULL               -- ISO 8601 UTC
    );
    )sql",
    // 3: a card's or an order's id is its invocation's id shifted left by 20 bits plus its place
    // there (audit/ids.hpp; reports/query.cpp finds an invocation's rows by that id range), so the
    // rows are stored in invocation order and need no index by invocation. Each commit rewrites
    // the last page of every B-tree it appends to: two fewer B-trees, ~10 KB less per answer.
    R"sql(
    CREATE TABLE card_v3 (
      id               INTEGER PRIMARY KEY,     -- (invocation_id << 20) + the card's place in the response
      invocation_id    INTEGER NOT NULL REFERENCES invocation(id),
      uuid             TEXT NOT NULL UNIQUE,
      rule_id          TEXT NOT NULL,
      indicator        TEXT NOT NULL,
      summary          TEXT NOT NULL,
      triggered_by     TEXT NOT NULL,           -- JSON array of references
      override_reasons TEXT NOT NULL,           -- JSON array of "system|code"
      suggestions      TEXT NOT NULL            -- JSON array of suggestion uuids
    );
    INSERT INTO card_v3
      SELECT (invocation_id << 20) + row_number() OVER (PARTITION BY invocation_id ORDER BY id) - 1, invocation_id,
             uuid, rule_id, indicator, summary, triggered_by, override_reasons, suggestions FROM card;
    DROP TABLE card;
    ALTER TABLE card_v3 RENAME TO card;
    CREATE TABLE evaluated_order_v3 (
      id            INTEGER PRIMARY KEY,        -- (invocation_id << 20) + the order's place among those evaluated
      invocation_id INTEGER NOT NULL REFERENCES invocation(id),
      reference     TEXT NOT NULL,
      codes         TEXT NOT NULL,              -- JSON array of "system|code"
      category      TEXT NOT NULL               -- donor-derived | autologous | ''
    );
    INSERT INTO evaluated_order_v3
      SELECT (invocation_id << 20) + row_number() OVER (PARTITION BY invocation_id ORDER BY id) - 1, invocation_id,
             reference, codes, category FROM evaluated_order;
    DROP TABLE evaluated_order;
    ALTER TABLE evaluated_order_v3 RENAME TO evaluated_order;
    )sql",
    // 4: data-quality issues, the FHIR paths (never values) of malformed elements the service
    // dropped before the rules ran, as a JSON list; NULL for rows written before.
    R"sql(
    ALTER TABLE invocation ADD COLUMN data_issues TEXT;
    )sql",
};
static_assert(detail::kPlaceBits == 20, "migration 3 spells the id shift out as << 20");

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Statement() { sqlite3_finalize(s_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return s_ != nullptr; }
  // Bound without a copy (SQLITE_STATIC): `v` must live until step_done(), so every write binds
  // and steps in one expression, where even a temporary argument lives to its end.
  Statement& text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool step_done() {
    int rc = sqlite3_step(s_);
    reset();
    return rc == SQLITE_DONE;
  }
  bool step_row() { return sqlite3_step(s_) == SQLITE_ROW; }
  std::string column(int i) {
    auto* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

bool exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

std::string describe_error(sqlite3* db) { return detail::describe_sqlite_error(db); }



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

sqlite3* open_connection(const std::filesystem::path& file, int flags, std::string& error, const char* vfs = nullptr) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
    error = "cannot open audit database " + file.string() + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// Failures of the store rather than of one record (which a constraint refuses alone): the
// batch is rolled back and tried again once the cause is gone.
bool store_fault(int extended_code) {
  switch (extended_code & 0xff) {
    case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_READONLY:
    case SQLITE_CANTOPEN: case SQLITE_NOMEM: case SQLITE_PROTOCOL: case SQLITE_INTERRUPT:
      return true;
    default:
      return false;
  }
}

}  // namespace

// The writer's statements, compiled once when the log opens rather than once per record.
struct SqliteAuditStore::Writer {
  explicit Writer(sqlite3* db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        savepoint(db, "SAVEPOINT record"),
        release(db, "RELEASE record"),
        rollback_to(db, "ROLLBACK TO record"),
        invocation(db,
                   "INSERT INTO invocation(received_at, hook, service_id, hook_instance, tenant, jwt_iss, jwt_sub, "
                   "user_id, encounter_id, patient_ref, rules_version, outcome, http_status, latency_us, patient_type, "
                   "data_issues) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        card(db,
             "INSERT INTO card(id, invocation_id, uuid, rule_id, indicator, summary, triggered_by, override_reasons, "
             "suggestions) VALUES(?,?,?,?,?,?,?,?,?)"),
        order(db, "INSERT INTO evaluated_order(id, invocation_id, reference, codes, category) VALUES(?,?,?,?,?)"),
        probe(db,
              "INSERT OR REPLACE INTO write_probe(id, written_at) "
              "VALUES(1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"),
        feedback(db,
                 "INSERT INTO feedback(received_at, card_uuid, service_id, outcome, accepted_suggestions, "
                 "override_reason, has_user_comment, outcome_timestamp, jwt_iss, jwt_sub, tenant) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?)"),
        db_(db) {}

  bool ok() const {
    for (const Statement* s : {&begin, &commit, &rollback, &savepoint, &release, &rollback_to, &invocation, &card,
                               &order, &probe, &feedback})
      if (!s->ok()) return false;
    return true;
  }

  bool write(const InvocationRecord& r) {
    bool ok = invocation.text(1, r.received_at).text(2, r.hook).text(3, r.service_id).text(4, r.hook_instance)
                  .text(5, r.tenant).text(6, r.jwt_iss).text(7, r.jwt_sub).text(8, r.user_id).text(9, r.encounter_id)
                  .text(10, r.patient_ref).text(11, r.rules_version).text(12, r.outcome).integer(13, r.http_status)
                  .integer(14, r.latency_us).text(15, r.patient_type).text(16, to_json_list(r.data_issues))
                  .step_done();
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    // More places than the id leaves room for cannot come from a request within any sane body
    // limit (each would be a draft order); refused rather than overlapping the next invocation.
    if (r.cards.size() >= detail::kMaxPlaces || r.orders.size() >= detail::kMaxPlaces) return false;
    std::int64_t place = id << detail::kPlaceBits;
    for (const auto& c : r.cards)
      ok = ok && card.integer(1, place++).integer(2, id).text(3, c.uuid).text(4, c.rule_id)
                     .text(5, c.indicator).text(6, c.summary).text(7, to_json_list(c.triggered_by))
                     .text(8, to_json_list(c.override_reason_codes)).text(9, to_json_list(c.suggestion_uuids))
                     .step_done();
    place = id << detail::kPlaceBits;
    for (const auto& o : r.orders)
      ok = ok && order.integer(1, place++).integer(2, id).text(3, o.reference).text(4, to_json_list(o.codes))
                     .text(5, o.category).step_done();
    return ok;
  }

  bool write(const std::vector<FeedbackRecord>& items) {
    bool ok = true;
    for (const auto& f : items)
      ok = ok && feedback.text(1, f.received_at).text(2, f.card_uuid).text(3, f.service_id).text(4, f.outcome)
                     .text(5, to_json_list(f.accepted_suggestions)).text(6, f.override_reason)
                     .integer(7, f.has_user_comment ? 1 : 0).text(8, f.outcome_timestamp).text(9, f.jwt_iss)
                     .text(10, f.jwt_sub).text(11, f.tenant).step_done();
    return ok;
  }

  bool write(const std::monostate&) { return probe.step_done(); }
  bool write(const TokenUse&) { return true; }  // one process: its replay cache decides

  Statement begin, commit, rollback, savepoint, release, rollback_to;
  Statement invocation, card, order, probe, feedback;

 private:
  sqlite3* db_;
};

std::variant<std::unique_ptr<SqliteAuditStore>, std::string> SqliteAuditStore::open(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  std::string error;
  // The writer's WAL frames go down in one write per commit (wal_write_batching.hpp): the same
  // bytes, locks and syncs, ~12 fewer system calls per answer.
  sqlite3* db = open_connection(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error, detail::wal_write_batching_vfs());
  if (!db) return error;
  // WAL lets report readers run beside the writer; synchronous=FULL makes every COMMIT an
  // fsync, which is what "acknowledged means recorded" requires.
  if (!exec(db, "PRAGMA journal_mode=WAL") || !exec(db, "PRAGMA synchronous=FULL")) {
    error = "cannot configure audit database " + file.string() + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return error;
  }
  // Migrations rebuild tables that others refer to (feedback -> card): foreign keys are
  // enforced once the schema is current, for every write the service makes.
  if (auto err = migrate(db); !err.empty()) {
    sqlite3_close(db);
    return err;
  }
  if (!exec(db, "PRAGMA foreign_keys=ON")) {
    error = "cannot configure audit database " + file.string() + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return error;
  }
  auto statements = std::make_unique<Writer>(db);
  if (!statements->ok()) {
    error = std::string("cannot prepare audit statements: ") + sqlite3_errmsg(db);
    statements.reset();
    sqlite3_close(db);
    return error;
  }
  sqlite3* reader = open_connection(file, SQLITE_OPEN_READONLY, error);
  if (!reader) {
    statements.reset();
    sqlite3_close(db);
    return error;
  }
  // Checkpoints run beside the writer, never inside a commit (SQLite's default threshold).
  constexpr int kCheckpointPages = 1000;
  sqlite3* checkpoint_db = open_connection(file, SQLITE_OPEN_READWRITE, error);
  auto checkpointer =
      checkpoint_db ? detail::WalCheckpointer::start(checkpoint_db, db, kCheckpointPages, error) : nullptr;
  if (!checkpointer) {
    sqlite3_close(reader);
    statements.reset();
    sqlite3_close(db);
    return error;
  }
  return std::unique_ptr<SqliteAuditStore>(new SqliteAuditStore(db, std::move(statements), reader, std::move(checkpointer)));
}

SqliteAuditStore::SqliteAuditStore(sqlite3* db, std::unique_ptr<Writer> statements, sqlite3* reader,
                   std::unique_ptr<detail::WalCheckpointer> checkpointer)
    : db_(db),
      statements_(std::move(statements)),
      reader_(reader),
      checkpointer_(std::move(checkpointer)),
      writer_([this] { run(); }) {}

SqliteAuditStore::~SqliteAuditStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  checkpointer_.reset();  // no commit can call its hook any more
  statements_.reset();    // finalized before their connection closes
  sqlite3_close(reader_);
  sqlite3_close(db_);
}

void SqliteAuditStore::submit(Record record, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(record), std::move(done), CommitRetry::Clock::now() + CommitRetry::kCommitPatience});
  }
  wake_.notify_one();
}

std::optional<IssuedCard> SqliteAuditStore::find_card(const std::string& uuid) {
  std::lock_guard lock(reader_mutex_);
  Statement q(reader_,
              "SELECT i.service_id, c.override_reasons, c.suggestions FROM card c JOIN invocation i ON i.id = "
              "c.invocation_id WHERE c.uuid = ?");
  if (!q.ok()) return std::nullopt;
  q.text(1, uuid);
  if (!q.step_row()) return std::nullopt;
  IssuedCard card{q.column(0), parse_json_list(q.column(1)), parse_json_list(q.column(2))};
  q.reset();
  return card;
}

std::uint64_t SqliteAuditStore::checkpoints() const noexcept { return checkpointer_->runs(); }

std::size_t SqliteAuditStore::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void SqliteAuditStore::run() {
  using Clock = CommitRetry::Clock;
  constexpr std::size_t kMaxBatch = 512;
  std::vector<Pending> batch;  // after a failed commit: the records still waiting for one
  std::vector<bool> written;
  CommitRetry retry;
  Clock::time_point next_attempt{};
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (retry.failing()) {
        // The pause between attempts is kept even by a stop: the records held deserve their
        // attempts, and their deadlines bound the wait.
        wake_.wait_until(lock, next_attempt, [&] { return Clock::now() >= next_attempt; });
        // Failing with nothing to write: a probe tells when the cause is gone, so the store is
        // ready again without waiting for traffic that a not-ready instance does not get.
        if (batch.empty() && queue_.empty()) {
          if (stopping_) return;
          batch.push_back({std::monostate{}, nullptr, Clock::now() + CommitRetry::kCommitPatience});
        }
      } else {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
      }
      // Everything that queued while the previous commit was syncing goes into this one.
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::string cause;
    const auto started = std::chrono::steady_clock::now();
    if (write_batch(batch, written, cause)) {
      record_commit_latency(std::chrono::steady_clock::now() - started);
      commit_succeeded();
      commits_.fetch_add(1, std::memory_order_relaxed);
      if (retry.failing()) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - retry.first_failure());
        log(LogLevel::info, "audit commits again after " + with_thousands(retry.failures()) + " failed attempts over " +
                                with_thousands(static_cast<std::uint64_t>(ms.count())) + " ms");
      }
      retry.succeeded();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const bool durable = written[i];
        if (durable && !std::holds_alternative<std::monostate>(batch[i].record))
          committed_.fetch_add(1, std::memory_order_relaxed);
        if (batch[i].done) batch[i].done(durable);
      }
      batch.clear();
      continue;
    }
    // Nothing of the batch is in the database (rolled back): keep the records for the next
    // attempt, except those whose callers would wait past their deadline. Those are told "not
    // durable" now and dropped, so no record of an answer that was refused is written later.
    commit_failed(cause);
    const auto now = Clock::now();
    next_attempt = retry.failed(now);
    log_repeated(LogLevel::error, "audit commit",
                 "audit commit of " + std::to_string(batch.size()) + " records failed: " + cause + "; retrying in " +
                     std::to_string(retry.delay().count()) + " ms");
    std::erase_if(batch, [&](Pending& p) {
      const bool give_up = std::holds_alternative<std::monostate>(p.record) || p.deadline <= next_attempt;
      if (give_up && p.done) p.done(false);
      return give_up;
    });
  }
}

std::string SqliteAuditStore::fail_and_roll_back() {
  std::string cause = describe_error(db_);
  if (sqlite3_get_autocommit(db_) == 0 && !statements_->rollback.step_done())
    cause += "; and the rollback failed: " + describe_error(db_);
  return cause;
}

// One transaction for the batch; a savepoint per record, so a record the database refuses
// (a constraint) fails alone while the rest commit. An I/O failure fails the whole batch.
bool SqliteAuditStore::write_batch(std::vector<Pending>& batch, std::vector<bool>& written, std::string& cause) {
  Writer& w = *statements_;
  written.assign(batch.size(), false);
  // A transaction that a failed rollback left open would refuse every BEGIN after it.
  if (sqlite3_get_autocommit(db_) == 0) w.rollback.step_done();
  if (!w.begin.step_done()) {
    cause = fail_and_roll_back();
    return false;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!w.savepoint.step_done()) {
      cause = fail_and_roll_back();
      return false;
    }
    const bool ok = std::visit([&](const auto& record) { return w.write(record); }, batch[i].record);
    written[i] = ok;
    if (!ok && store_fault(sqlite3_extended_errcode(db_))) {
      // Not this record's fault: the whole batch waits for the next attempt.
      cause = fail_and_roll_back();
      return false;
    }
    if (!ok) {
      const std::string refused = describe_error(db_);
      if (!(w.rollback_to.step_done() && w.release.step_done())) {
        cause = refused + ", then " + fail_and_roll_back();
        return false;
      }
      log_repeated(LogLevel::error, "audit record refused", "audit record refused by the database: " + refused);
    } else if (!w.release.step_done()) {
      cause = fail_and_roll_back();
      return false;
    }
  }
  if (w.commit.step_done()) return true;
  cause = fail_and_roll_back();
  return false;
}

}  // namespace cds
