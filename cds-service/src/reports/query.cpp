// Compliance reports: the SQL. Each table is one aggregate query over the audit database,
// run in one read transaction so every table sees the same snapshot.
#include "cds/reports/report.hpp"
#include "cds/audit/json_list.hpp"
#include "audit/ids.hpp"

#include "fhir/json.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
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

class Connection {
 public:
  ~Connection() { sqlite3_close(db_); }
  std::string open(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return "cannot open audit database " + file.string() + ": no such file";
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      return "cannot open audit database " + file.string() + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    sqlite3_busy_timeout(db_, 5000);
    return {};
  }
  sqlite3* get() const { return db_; }
  std::string error() const { return sqlite3_errmsg(db_); }
  bool exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

 private:
  sqlite3* db_ = nullptr;
};

class Query {
 public:
  Query(sqlite3* db, const std::string& sql) { ok_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) == SQLITE_OK; }
  ~Query() { sqlite3_finalize(s_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  bool ok() const { return ok_; }
  // Binds a named parameter if the statement uses it.
  void bind(const char* name, const std::string& v) {
    if (int i = sqlite3_bind_parameter_index(s_, name); i > 0)
      sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(s_); }
  std::int64_t integer(int i) { return sqlite3_column_int64(s_, i); }
  std::string text(int i) {
    auto* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  bool ok_ = false;
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
                    SUM(outcome = 'ok'), SUM(outcome = 'incomplete'), SUM(outcome = 'rejected')
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
       R"sql(SELECT r.rule_id, COUNT(co.uuid), COALESCE(SUM(co.outcome = 'accepted'), 0),
                    COALESCE(SUM(co.outcome = 'overridden'), 0), COALESCE(SUM(co.outcome = 'none'), 0)
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
       R"sql(SELECT user_id, COUNT(*), SUM(outcome = 'accepted'), SUM(outcome = 'overridden'), SUM(outcome = 'none')
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

  Connection conn;
  if (auto err = conn.open(db); !err.empty()) return err;
  {
    Query v(conn.get(), "PRAGMA user_version");
    if (!v.ok() || v.step() != SQLITE_ROW) return "cannot read audit database " + db.string() + ": " + conn.error();
    if (v.integer(0) < 1) return db.string() + " is not a CDS audit database";
  }
  // One snapshot for every table, however much the service writes meanwhile.
  if (!conn.exec("BEGIN")) return "cannot read audit database " + db.string() + ": " + conn.error();
  struct EndTransaction {
    Connection& c;
    ~EndTransaction() { c.exec("COMMIT"); }
  } end{conn};

  auto prepare = [&](const std::string& select) {
    auto q = std::make_unique<Query>(conn.get(), std::string(kCommon) + select);
    q->bind(":from", req.from);
    q->bind(":to_excl", to_excl);
    q->bind(":tenant", req.tenant);
    return q;
  };

  ReportData data;
  for (const TableSpec& spec : specs()) {
    ReportTable t{spec.name, spec.title, spec.description, spec.columns, {}};
    auto q = prepare(spec.sql);
    if (!q->ok()) return "audit database query failed (" + std::string(spec.name) + "): " + conn.error();
    int rc;
    while ((rc = q->step()) == SQLITE_ROW) {
      std::vector<ReportCell> row;
      for (std::size_t i = 0; i < spec.kinds.size(); ++i) {
        const int col = static_cast<int>(i);
        switch (spec.kinds[i]) {
          case 'i': row.emplace_back(q->integer(col)); break;
          case 'l': row.emplace_back(parse_json_list(q->text(col))); break;
          default: row.emplace_back(q->text(col));
        }
      }
      t.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return "audit database query failed (" + std::string(spec.name) + "): " + conn.error();
    data.tables.push_back(std::move(t));
  }
  // Override reason displays (from the rules data, when given); else the code.
  for (auto& row : data.tables[3].rows) {
    const std::string& code = std::get<std::string>(row[1]);
    auto it = req.reason_displays.find(code);
    row[2] = it != req.reason_displays.end() ? it->second : code.empty() ? std::string("(no reason given)") : code;
  }

  auto totals = prepare(R"sql(
      SELECT (SELECT COUNT(*) FROM inv), COUNT(*), COALESCE(SUM(outcome = 'accepted'), 0),
             COALESCE(SUM(indicator = 'critical'), 0),
             COALESCE(SUM(indicator = 'critical' AND hook = 'order-sign'), 0),
             COALESCE(SUM(indicator = 'critical' AND hook = 'order-sign' AND outcome = 'accepted'), 0)
      FROM co)sql");
  if (!totals->ok() || totals->step() != SQLITE_ROW) return "audit database query failed (totals): " + conn.error();
  data.totals = ReportTotals{totals->integer(0), totals->integer(1), totals->integer(2),
                             totals->integer(3), totals->integer(4), totals->integer(5)};
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
