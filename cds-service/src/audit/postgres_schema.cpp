// The PostgreSQL audit schema: the SQLite store's tables (schema 3) with the same names, columns
// and id layout (a card's or order's id is its invocation's id << 20 plus its place), so the
// reports' SQL and cds-audit's copy read both alike. Text compares byte by byte (COLLATE "C"),
// as in SQLite, whatever the database's locale, so reports sort the same on both.
#include "audit/postgres_schema.hpp"
#include "audit/ids.hpp"

#include <iterator>

namespace cds::pg {
namespace {

// An arbitrary constant naming the audit schema's advisory lock ("cdsaudit" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7233189810660979060)";

// kMigrations[i] takes the database from version i to i + 1 (audit_schema.version).
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE invocation (
      id            BIGINT PRIMARY KEY,         -- from invocation_id_seq, taken by the writer per batch
      received_at   TEXT COLLATE "C" NOT NULL,  -- ISO 8601 UTC
      hook          TEXT COLLATE "C" NOT NULL,
      service_id    TEXT COLLATE "C" NOT NULL,
      hook_instance TEXT COLLATE "C" NOT NULL,
      tenant        TEXT COLLATE "C",
      jwt_iss       TEXT COLLATE "C",
      jwt_sub       TEXT COLLATE "C",
      user_id       TEXT COLLATE "C",
      encounter_id  TEXT COLLATE "C",
      patient_ref   TEXT COLLATE "C",           -- HMAC-SHA256 pseudonym unless disabled
      rules_version TEXT COLLATE "C",
      outcome       TEXT COLLATE "C" NOT NULL,  -- ok | incomplete | rejected
      http_status   INTEGER NOT NULL,
      latency_us    BIGINT NOT NULL,
      patient_type  TEXT COLLATE "C"
    );
    CREATE SEQUENCE invocation_id_seq OWNED BY invocation.id;
    CREATE INDEX invocation_received ON invocation(received_at);
    CREATE INDEX invocation_hook_instance ON invocation(hook_instance);
    CREATE TABLE card (
      id               BIGINT PRIMARY KEY,      -- (invocation_id << 20) + the card's place in the response
      invocation_id    BIGINT NOT NULL REFERENCES invocation(id),
      uuid             TEXT COLLATE "C" NOT NULL UNIQUE,
      rule_id          TEXT COLLATE "C" NOT NULL,
      indicator        TEXT COLLATE "C" NOT NULL,
      summary          TEXT COLLATE "C" NOT NULL,
      triggered_by     TEXT COLLATE "C" NOT NULL,  -- JSON array of references
      override_reasons TEXT COLLATE "C" NOT NULL,  -- JSON array of "system|code"
      suggestions      TEXT COLLATE "C" NOT NULL   -- JSON array of suggestion uuids
    );
    CREATE TABLE evaluated_order (
      id            BIGINT PRIMARY KEY,         -- (invocation_id << 20) + the order's place
      invocation_id BIGINT NOT NULL REFERENCES invocation(id),
      reference     TEXT COLLATE "C" NOT NULL,
      codes         TEXT COLLATE "C" NOT NULL,  -- JSON array of "system|code"
      category      TEXT COLLATE "C" NOT NULL   -- donor-derived | autologous | ''
    );
    CREATE TABLE feedback (
      id                   BIGSERIAL PRIMARY KEY,
      received_at          TEXT COLLATE "C" NOT NULL,
      card_uuid            TEXT COLLATE "C" NOT NULL REFERENCES card(uuid),
      service_id           TEXT COLLATE "C" NOT NULL,
      outcome              TEXT COLLATE "C" NOT NULL,  -- accepted | overridden
      accepted_suggestions TEXT COLLATE "C" NOT NULL,  -- JSON array of suggestion uuids
      override_reason      TEXT COLLATE "C",           -- "system|code"
      has_user_comment     INTEGER NOT NULL,           -- the comment is free text and is not stored
      outcome_timestamp    TEXT COLLATE "C" NOT NULL,
      jwt_iss              TEXT COLLATE "C",
      jwt_sub              TEXT COLLATE "C",
      tenant               TEXT COLLATE "C"
    );
    CREATE INDEX feedback_card ON feedback(card_uuid);
    -- The writability probe really writes a row (an empty transaction proves nothing).
    CREATE TABLE write_probe (
      id         INTEGER PRIMARY KEY CHECK (id = 1),
      written_at TEXT NOT NULL
    );
    -- Each JWT's single use, shared by every replica: claimed in the commit of its record.
    CREATE TABLE token_use (
      iss        TEXT COLLATE "C" NOT NULL,
      jti        TEXT COLLATE "C" NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (iss, jti)
    );
    CREATE INDEX token_use_expires ON token_use(expires_at);
    )sql",
    // 2: data-quality issues, the FHIR paths (never values) of malformed elements the service
    // dropped before the rules ran, as a JSON list; NULL for rows written before (as in SQLite).
    R"sql(
    ALTER TABLE invocation ADD COLUMN data_issues TEXT COLLATE "C";
    )sql",
};
static_assert(detail::kPlaceBits == 20, "the schema's comments and the reports spell the id shift out as << 20");

}  // namespace

int latest_schema_version() noexcept { return static_cast<int>(std::size(kMigrations)); }

std::string migrate(const Connection& db) {
  auto fail = [&](const std::string& what, const Result& r) {
    db.exec("ROLLBACK");
    return "audit schema " + what + " failed: " + r.error();
  };
  if (auto r = db.exec("BEGIN"); !r.ok()) return fail("migration", r);
  if (auto r = db.exec(kMigrationLock); !r.ok()) return fail("lock", r);
  // Quiet: "already exists" notices would reach stderr on every start.
  db.exec("SET LOCAL client_min_messages = warning");
  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS audit_schema (version INTEGER NOT NULL)"); !r.ok())
    return fail("version table", r);
  auto v = db.exec("SELECT version FROM audit_schema");
  if (!v.ok()) return fail("version read", v);
  int version = 0;
  if (v.rows() == 0) {
    if (auto r = db.exec("INSERT INTO audit_schema(version) VALUES (0)"); !r.ok()) return fail("version row", r);
  } else {
    version = static_cast<int>(v.integer(0, 0));
  }
  const int latest = latest_schema_version();
  if (version > latest) {
    db.exec("ROLLBACK");
    return "audit database schema version " + std::to_string(version) + " is newer than this build";
  }
  for (int i = version; i < latest; ++i)
    if (auto r = db.exec(kMigrations[i]); !r.ok()) return fail("migration " + std::to_string(i + 1), r);
  if (version < latest) {
    auto r = db.exec("UPDATE audit_schema SET version = $1", {std::to_string(latest)});
    if (!r.ok()) return fail("version update", r);
  }
  if (auto r = db.exec("COMMIT"); !r.ok()) return fail("commit", r);
  return {};
}

}  // namespace cds::pg
