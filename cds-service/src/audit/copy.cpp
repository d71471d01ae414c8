#include "cds/audit/copy.hpp"
#include "audit/pg.hpp"
#include "cds/audit/postgres_store.hpp"
#include "cds/audit/sqlite_store.hpp"

#include "fhir/json.hpp"

#include <sqlite3.h>

#include <memory>

namespace cds {
namespace json = boost::json;
namespace {

struct Column {
  const char* name;
  const char* type;  // PostgreSQL type in json_to_recordset
};
struct TableSpec {
  const char* name;
  std::vector<Column> columns;  // the first is the id
};

// Parents before children (foreign keys): invocation, card and order, feedback.
const std::vector<TableSpec>& tables() {
  static const std::vector<TableSpec> t = {
      {"invocation",
       {{"id", "bigint"}, {"received_at", "text"}, {"hook", "text"}, {"service_id", "text"}, {"hook_instance", "text"},
        {"tenant", "text"}, {"jwt_iss", "text"}, {"jwt_sub", "text"}, {"user_id", "text"}, {"encounter_id", "text"},
        {"patient_ref", "text"}, {"rules_version", "text"}, {"outcome", "text"}, {"http_status", "integer"},
        {"latency_us", "bigint"}, {"patient_type", "text"}, {"data_issues", "text"}}},
      {"card",
       {{"id", "bigint"}, {"invocation_id", "bigint"}, {"uuid", "text"}, {"rule_id", "text"}, {"indicator", "text"},
        {"summary", "text"}, {"triggered_by", "text"}, {"override_reasons", "text"}, {"suggestions", "text"}}},
      {"evaluated_order",
       {{"id", "bigint"}, {"invocation_id", "bigint"}, {"reference", "text"}, {"codes", "text"}, {"category", "text"}}},
      {"feedback",
       {{"id", "bigint"}, {"received_at", "text"}, {"card_uuid", "text"}, {"service_id", "text"}, {"outcome", "text"},
        {"accepted_suggestions", "text"}, {"override_reason", "text"}, {"has_user_comment", "integer"},
        {"outcome_timestamp", "text"}, {"jwt_iss", "text"}, {"jwt_sub", "text"}, {"tenant", "text"}}},
  };
  return t;
}

std::string column_list(const TableSpec& t, const char* prefix = "") {
  std::string out;
  for (const auto& c : t.columns) out += (out.empty() ? "" : ", ") + std::string(prefix) + c.name;
  return out;
}

// Rows of one chunk as the JSON array json_to_recordset reads: every value as text (PostgreSQL
// parses it by the column's type), NULL as null.
constexpr int kChunk = 2000;

}  // namespace

std::variant<std::vector<CopiedTable>, std::string> copy_sqlite_to_postgres(const std::filesystem::path& sqlite_file,
                                                                           const std::string& postgres_uri) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(sqlite_file, ec)) return "no SQLite audit at " + sqlite_file.string();
  {
    // Brings an older audit file to the current schema first (what the service does on start).
    auto migrated = SqliteAuditStore::open(sqlite_file);
    if (auto* e = std::get_if<std::string>(&migrated)) return *e;
  }
  {
    auto created = PostgresAuditStore::open(postgres_uri);
    if (auto* e = std::get_if<std::string>(&created)) return *e;
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(sqlite_file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string e = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return "cannot open " + sqlite_file.string() + ": " + e;
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> src(raw, &sqlite3_close);
  auto opened = pg::Connection::open(postgres_uri, "cds-audit");
  if (auto* e = std::get_if<std::string>(&opened)) return *e;
  const pg::Connection& dst = std::get<pg::Connection>(opened);

  // One snapshot of the source, one transaction in the target: all or nothing.
  if (sqlite3_exec(src.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return std::string("cannot read the SQLite audit");
  if (auto r = dst.exec("BEGIN"); !r.ok()) return r.error();
  auto abort = [&](std::string why) {
    dst.exec("ROLLBACK");
    return why;
  };

  std::vector<CopiedTable> result;
  for (const TableSpec& t : tables()) {
    CopiedTable counts{t.name};
    std::string types;
    for (const auto& c : t.columns) types += (types.empty() ? "" : ", ") + std::string(c.name) + " " + c.type;
    const std::string recordset = "json_to_recordset($1::json) AS r(" + types + ")";
    const std::string insert = "INSERT INTO " + std::string(t.name) + "(" + column_list(t) + ") SELECT " +
                               column_list(t) + " FROM " + recordset + " ON CONFLICT (id) DO NOTHING";
    // Rows of the chunk that are in PostgreSQL with every value equal.
    std::string same = "SELECT count(*) FROM " + std::string(t.name) + " t JOIN " + recordset + " ON t.id = r.id";
    for (std::size_t i = 1; i < t.columns.size(); ++i)
      same += std::string(" AND t.") + t.columns[i].name + " IS NOT DISTINCT FROM r." + t.columns[i].name;

    sqlite3_stmt* st = nullptr;
    const std::string select = "SELECT " + column_list(t) + " FROM " + t.name + " ORDER BY id";
    if (sqlite3_prepare_v2(src.get(), select.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      sqlite3_finalize(st);
      return abort("cannot read " + std::string(t.name) + " from the SQLite audit: " + sqlite3_errmsg(src.get()));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> rows(st, &sqlite3_finalize);
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) {
      json::array chunk;
      while (chunk.size() < kChunk && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json::object row;
        for (int i = 0; i < static_cast<int>(t.columns.size()); ++i) {
          const auto* text = sqlite3_column_text(st, i);
          row[t.columns[i].name] = text ? json::value(reinterpret_cast<const char*>(text)) : json::value(nullptr);
        }
        chunk.push_back(std::move(row));
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return abort("cannot read " + std::string(t.name) + " from the SQLite audit: " + sqlite3_errmsg(src.get()));
      if (chunk.empty()) break;
      const std::string rows_json = json::serialize(chunk);
      auto ins = dst.exec(insert, {rows_json});
      if (!ins.ok()) return abort("copying " + std::string(t.name) + " failed: " + ins.error());
      auto check = dst.exec(same, {rows_json});
      if (!check.ok()) return abort("checking " + std::string(t.name) + " failed: " + check.error());
      const auto n = static_cast<std::int64_t>(chunk.size());
      if (check.integer(0, 0) != n)
        return abort("PostgreSQL already holds other " + std::string(t.name) +
                     " rows with the ids of this SQLite audit: copy into a database no replica has written to yet");
      counts.source_rows += n;
      counts.copied += static_cast<std::int64_t>(ins.affected());
    }
    counts.present = counts.source_rows - counts.copied;
    result.push_back(counts);
  }
  // New rows from the replicas continue after the copied ids.
  for (const char* seq : {"SELECT setval('invocation_id_seq', GREATEST((SELECT max(id) FROM invocation), 1))",
                          "SELECT setval(pg_get_serial_sequence('feedback', 'id'), GREATEST((SELECT max(id) FROM feedback), 1))"})
    if (auto r = dst.exec(seq); !r.ok()) return abort(std::string("advancing the id sequences failed: ") + r.error());
  if (auto r = dst.exec("COMMIT"); !r.ok()) return abort("COMMIT failed: " + r.error());
  return result;
}

}  // namespace cds
