// Compliance reports: the SQL. Each table is one aggregate query over the audit database,
// run in one read transaction so every table sees the same snapshot.
#include "cds/reports/report.hpp"
#include "cds/audit/json_list.hpp"
#include "audit/ids.hpp"
#include "audit/pg.hpp"
#include "cds/audit/store.hpp"

#include "fhir/json.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cds {
namespace {

constexpr std::array<const char*, 6> kTables = {"invocations_by_hook_day", "flagged_orders_by_month",
                                                "card_outcomes_by_rule",   "overrides_by_reason",
                                                "card_outcomes_by_user",   "signed_after_critical"};

// YYYY-MM-DD, a real calendar day.
std::optional<std::chrono::sys_days> parse_day(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{std::stoi(s.substr(0, 4))},
                                        std::chrono::month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                                        std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

std::string format_day(std::chrono::sys_days d) {
  const std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// The report's parameters, named in the SQL as :from, :to_excl and :tenant.
struct Params {
  std::string from, to_excl, tenant;
};
using Rows = std::vector<std::vector<std::string>>;  // every cell as text; SQL NULL as ""

// Where the audit is read from. Each source reads every table of one report in one snapshot.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::string open(const std::string& db) = 0;
  virtual std::variant<Rows, std::string> query(const std::string& sql, const Params& params) = 0;
};

class SqliteSource final : public Source {
 public:
  ~SqliteSource() override {
    if (in_transaction_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  std::string open(const std::string& db) override {
    const std::filesystem::path file(db);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return "cannot open audit database " + db + ": no such file";
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      return "cannot open audit database " + db + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    sqlite3_busy_timeout(db_, 5000);
    auto version = query("PRAGMA user_version", {});
    if (auto* err = std::get_if<std::string>(&version)) return "cannot read audit database " + db + ": " + *err;
    const auto& rows = std::get<Rows>(version);
    if (rows.empty() || rows[0].empty() || rows[0][0].empty() || std::stoll(rows[0][0]) < 1)
      return db + " is not a CDS audit database";
    // One snapshot for every table, however much the service writes meanwhile.
    if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
      return "cannot read audit database " + db + ": " + sqlite3_errmsg(db_);
    in_transaction_ = true;
    return {};
  }
  std::variant<Rows, std::string> query(const std::string& sql, const Params& params) override {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return std::string(sqlite3_errmsg(db_));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(raw, &sqlite3_finalize);
    // Binds a named parameter if the statement uses it.
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{":from", &params.from},
                                      {":to_excl", &params.to_excl}, {":tenant", &params.tenant}})
      if (int i = sqlite3_bind_parameter_index(raw, name); i > 0)
        sqlite3_bind_text(raw, i, value->data(), static_cast<int>(value->size()), SQLITE_TRANSIENT);
    Rows rows;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(raw); ++i) {
        auto* t = sqlite3_column_text(raw, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return std::string(sqlite3_errmsg(db_));
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
};

// The same SQL on PostgreSQL, but for the few spellings SQLite and PostgreSQL do not share.
// Each replacement is exact text of the SQL above; tests compare the two backends' reports on
// the same data, table by table.
std::string postgres_dialect(std::string sql) {
  static const std::pair<const char*, const char*> kSpellings[] = {
      {":from", "$1"},
      {":to_excl", "$2"},
      {":tenant", "$3"},
      // SQLite reads CROSS JOIN as "this loop order"; PostgreSQL wants a plain JOIN with ON.
      {"CROSS JOIN", "JOIN"},
      {"instr(reason, '|')", "strpos(reason, '|')"},
      {"char(31)", "chr(31)"},
      // The service writes these columns itself as JSON arrays.
      {"json_each(CASE WHEN json_valid(c.triggered_by) THEN c.triggered_by ELSE '[]' END) j",
       "json_array_elements_text(c.triggered_by::json) AS j(value)"},
  };
  for (const auto& [from, to] : kSpellings)
    for (std::size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + std::strlen(to)))
      sql.replace(at, std::strlen(from), to);
  return sql;
}

class PostgresSource final : public Source {
 public:
  ~PostgresSource() override {
    if (db_.ok()) db_.exec("COMMIT");
  }
  std::string open(const std::string& uri) override {
    auto opened = pg::Connection::open(uri, "cds-report");
    if (auto* err = std::get_if<std::string>(&opened)) return *err;
    db_ = std::move(std::get<pg::Connection>(opened));
    auto version = db_.exec("SELECT version FROM audit_schema");
    if (!version.ok() || version.rows() != 1) return "the PostgreSQL database is not a CDS audit database";
    // One snapshot for every table, however much the replicas write meanwhile.
    if (auto r = db_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r.ok()) return r.error();
    return {};
  }
  std::variant<Rows, std::string> query(const std::string& sql, const Params& params) override {
    // Every report query starts with kCommon, which uses all three parameters.
    auto r = db_.exec(postgres_dialect(sql), {params.from, params.to_excl, params.tenant});
    if (!r.ok()) return r.error();
    Rows rows(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
      for (int col = 0; col < r.columns(); ++col) rows[row].push_back(r.null(row, col) ? std::string() : r.text(row, col));
    return rows;
  }

 private:
  pg::Connection db_;
};

// The invocations in the report (:from inclusive, :to_excl the day after `to`), and the cards
// issued by them with their outcome. An invocation's cards and orders are the ids from
// (invocation id << 20) on (audit schema 3): a range of the table's own key, no index needed.
static_assert(detail::kPlaceBits == 20, "the reports' SQL spells the id shift out as << 20");
constexpr const char* kCommon = R"sql(
WITH inv AS (
  SELECT * FROM invocation
  WHERE received_at >= :from AND received_at < :to_excl AND (:tenant = '' OR tenant = :tenant)
),
co AS (
  SELECT c.uuid, c.rule_id, c.indicator, c.summary, c.triggered_by,
         i.received_at, i.hook, i.hook_instance, i.patient_ref, COALESCE(i.user_id, '') AS user_id,
         COALESCE(i.tenant, '') AS tenant,
         CASE WHEN EXISTS (SELECT 1 FROM feedback f WHERE f.card_uuid = c.uuid AND f.outcome = 'accepted') THEN 'accepted'
              WHEN EXISTS (SELECT 1 FROM feedback f WHERE f.card_uuid = c.uuid AND f.outcome = 'overridden') THEN 'overridden'
              ELSE 'none' END AS outcome,
         (SELECT COALESCE(f.override_reason, '') FROM feedback f WHERE f.card_uuid = c.uuid AND f.outcome = 'overridden'
          ORDER BY f.received_at DESC, f.id DESC LIMIT 1) AS reason
  FROM inv i CROSS JOIN card c ON c.id >= (i.id << 20) AND c.id < ((i.id + 1) << 20)
),
known_rule(rule_id) AS (VALUES ('donor-derived-product'), ('single-shot-cell-injection'), ('whole-joint-plan'))
)sql";

struct TableSpec {
  const char* name;
  const char* title;
  const char* description;
  std::vector<std::string> columns;
  std::string kinds;  // per column: i = integer, s = text, l = JSON array of strings
  const char* sql;
};

const std::vector<TableSpec>& specs() {
  static const std::vector<TableSpec> s = {
      {kTables[0], "Invocations per hook and day", "Every recorded invocation, by its outcome (UTC days).",
       {"day", "hook", "invocations", "ok", "incomplete", "rejected"}, "ssiiii",
       R"sql(SELECT substr(received_at, 1, 10) AS day, hook, COUNT(*),
                    COUNT(CASE WHEN outcome = 'ok' THEN 1 END), COUNT(CASE WHEN outcome = 'incomplete' THEN 1 END),
                    COUNT(CASE WHEN outcome = 'rejected' THEN 1 END)
             FROM inv GROUP BY day, hook ORDER BY day, hook)sql"},
      {kTables[1], "Flagged orders per month",
       "Distinct draft orders that triggered a donor-derived-product or single-shot-cell-injection card.",
       {"month", "category", "orders_flagged"}, "ssi",
       R"sql(SELECT substr(i.received_at, 1, 7) AS month,
                    CASE c.rule_id WHEN 'donor-derived-product' THEN 'donor-derived' ELSE 'single-shot' END AS category,
                    COUNT(DISTINCT COALESCE(i.tenant, '') || char(31) || j.value)
             FROM inv i CROSS JOIN card c ON c.id >= (i.id << 20) AND c.id < ((i.id + 1) << 20),
                  json_each(CASE WHEN json_valid(c.triggered_by) THEN c.triggered_by ELSE '[]' END) j
             WHERE c.rule_id IN ('donor-derived-product', 'single-shot-cell-injection')
               AND j.value IN (SELECT o.reference FROM evaluated_order o
                               WHERE o.id >= (i.id << 20) AND o.id < ((i.id + 1) << 20))
             GROUP BY month, category ORDER BY month, category)sql"},
      {kTables[2], "Card outcomes per rule",
       "A card is accepted if any feedback accepted it, else overridden if any feedback overrode it.",
       {"rule", "cards", "accepted", "overridden", "no_feedback"}, "siiii",
       R"sql(SELECT r.rule_id, COUNT(co.uuid), COUNT(CASE WHEN co.outcome = 'accepted' THEN 1 END),
                    COUNT(CASE WHEN co.outcome = 'overridden' THEN 1 END), COUNT(CASE WHEN co.outcome = 'none' THEN 1 END)
             FROM (SELECT rule_id FROM known_rule UNION SELECT rule_id FROM co) r
             LEFT JOIN co ON co.rule_id = r.rule_id
             GROUP BY r.rule_id ORDER BY r.rule_id)sql"},
      {kTables[3], "Overridden cards per reason", "The reason of the latest override of each overridden card.",
       {"rule", "reason", "display", "overridden"}, "sssi",
       R"sql(SELECT rule_id, substr(reason, instr(reason, '|') + 1) AS code, '' AS display, COUNT(*) AS n
             FROM co WHERE outcome = 'overridden'
             GROUP BY rule_id, code ORDER BY rule_id, n DESC, code)sql"},
      {kTables[4], "Card outcomes per ordering user", "Cards by the user of the invocation that received them.",
       {"user_id", "cards", "accepted", "overridden", "no_feedback"}, "siiii",
       R"sql(SELECT user_id, COUNT(*), COUNT(CASE WHEN outcome = 'accepted' THEN 1 END),
                    COUNT(CASE WHEN outcome = 'overridden' THEN 1 END), COUNT(CASE WHEN outcome = 'none' THEN 1 END)
             FROM co GROUP BY user_id ORDER BY user_id)sql"},
      {kTables[5], "Orders signed after a critical card without an accepted suggestion",
       "The follow-up list: order-sign invocations that returned a critical card no feedback accepted. "
       "Patients are pseudonymous.",
       {"received_at", "tenant", "hook_instance", "patient_ref", "user_id", "card_uuid", "rule", "summary",
        "triggered_by", "feedback", "override_reason"},
       "sssssssslss",
       R"sql(SELECT received_at, tenant, hook_instance, COALESCE(patient_ref, ''), user_id, uuid, rule_id, summary,
                    triggered_by, outcome, COALESCE(substr(reason, instr(reason, '|') + 1), '')
             FROM co WHERE hook = 'order-sign' AND indicator = 'critical' AND outcome <> 'accepted'
             ORDER BY received_at, uuid)sql"},
  };
  return s;
}


}  // namespace

const std::vector<std::string>& report_table_names() {
  static const std::vector<std::string> names(kTables.begin(), kTables.end());
  return names;
}

std::optional<std::string> validate_report_request(const ReportRequest& req) {
  const auto from = parse_day(req.from), to = parse_day(req.to);
  if (!from) return "'from' must be a date YYYY-MM-DD, got '" + req.from + "'";
  if (!to) return "'to' must be a date YYYY-MM-DD, got '" + req.to + "'";
  if (*to < *from) return "'to' (" + req.to + ") is before 'from' (" + req.from + ")";
  static const std::vector<std::string> formats = {"csv", "json", "html", "measure"};
  if (std::find(formats.begin(), formats.end(), req.format) == formats.end())
    return "unknown format '" + req.format + "' (csv, json, html or measure)";
  if (!req.table.empty()) {
    const auto& names = report_table_names();
    if (std::find(names.begin(), names.end(), req.table) == names.end()) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      return "unknown table '" + req.table + "' (" + all + ")";
    }
    if (req.format != "csv" && req.format != "json") return "a table can be chosen for csv and json only";
  }
  return std::nullopt;
}

std::variant<ReportData, std::string> query_report(const std::filesystem::path& db, const ReportRequest& req) {
  const auto from = parse_day(req.from), to = parse_day(req.to);
  if (!from || !to) return std::string("report dates must be YYYY-MM-DD");
  const std::string to_excl = format_day(*to + std::chrono::days{1});

  std::unique_ptr<Source> source;
  if (is_postgres_uri(db.string())) source = std::make_unique<PostgresSource>();
  else source = std::make_unique<SqliteSource>();
  if (auto err = source->open(db.string()); !err.empty()) return err;
  const Params params{req.from, to_excl, req.tenant};

  ReportData data;
  for (const TableSpec& spec : specs()) {
    ReportTable t{spec.name, spec.title, spec.description, spec.columns, {}};
    auto rows = source->query(std::string(kCommon) + spec.sql, params);
    if (auto* err = std::get_if<std::string>(&rows))
      return "audit database query failed (" + std::string(spec.name) + "): " + *err;
    for (const auto& cells : std::get<Rows>(rows)) {
      std::vector<ReportCell> row;
      for (std::size_t i = 0; i < spec.kinds.size(); ++i) {
        switch (spec.kinds[i]) {
          case 'i': row.emplace_back(cells[i].empty() ? std::int64_t{0} : std::stoll(cells[i])); break;
          case 'l': row.emplace_back(parse_json_list(cells[i])); break;
          default: row.emplace_back(cells[i]);
        }
      }
      t.rows.push_back(std::move(row));
    }
    data.tables.push_back(std::move(t));
  }
  // Override reason displays (from the rules data, when given); else the code.
  for (auto& row : data.tables[3].rows) {
    const std::string& code = std::get<std::string>(row[1]);
    auto it = req.reason_displays.find(code);
    row[2] = it != req.reason_displays.end() ? it->second : code.empty() ? std::string("(no reason given)") : code;
  }

  auto totals = source->query(std::string(kCommon) + R"sql(
      SELECT (SELECT COUNT(*) FROM inv), COUNT(*), COUNT(CASE WHEN outcome = 'accepted' THEN 1 END),
             COUNT(CASE WHEN indicator = 'critical' THEN 1 END),
             COUNT(CASE WHEN indicator = 'critical' AND hook = 'order-sign' THEN 1 END),
             COUNT(CASE WHEN indicator = 'critical' AND hook = 'order-sign' AND outcome = 'accepted' THEN 1 END)
      FROM co)sql",
                              params);
  if (auto* err = std::get_if<std::string>(&totals)) return "audit database query failed (totals): " + *err;
  const auto& t = std::get<Rows>(totals);
  if (t.size() != 1) return std::string("audit database query failed (totals): no row");
  auto n = [&](int i) { return t[0][i].empty() ? std::int64_t{0} : std::stoll(t[0][i]); };
  data.totals = ReportTotals{n(0), n(1), n(2), n(3), n(4), n(5)};
  return data;
}

std::variant<std::map<std::string, std::string>, std::string> load_override_reason_displays(
    const std::filesystem::path& rules_dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(rules_dir, ec), end;
  if (ec) return "cannot read rules directory " + rules_dir.string() + ": " + ec.message();
  std::vector<std::filesystem::path> files;
  for (; it != end; it.increment(ec)) {
    if (ec) return "cannot read rules directory " + rules_dir.string() + ": " + ec.message();
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return "cannot read " + f.string();
    boost::system::error_code jec;
    auto doc = boost::json::parse(text.str(), jec);
    if (jec) return f.string() + " is not JSON: " + jec.message();
    const auto* reasons = fhir::array_field(doc.if_object(), "overrideReasons");
    if (reasons == nullptr) continue;
    for (const auto& r : *reasons) {
      const auto code = fhir::string_field(r.if_object(), "code"), display = fhir::string_field(r.if_object(), "display");
      if (!code.empty() && !display.empty()) out.emplace(std::string(code), std::string(display));
    }
  }
  return out;
}

}  // namespace cds
