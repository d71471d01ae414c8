#pragma once
// Compliance reports over the audit database (read-only; WAL lets them run while the service
// writes). Every table is computed by SQL inside one read transaction, so all tables of one
// report describe the same snapshot.
//
// Tables (invocations filtered by received_at within [from, to] UTC days and by tenant):
//   invocations_by_hook_day  day, hook, invocations, ok, incomplete, rejected
//   flagged_orders_by_month  month, category (donor-derived | single-shot), orders_flagged
//                            (distinct triggering order references of the cards of rule
//                            donor-derived-product / single-shot-cell-injection)
//   card_outcomes_by_rule    rule, cards, accepted, overridden, no_feedback (known rules always listed)
//   overrides_by_reason      rule, reason (code), display, overridden
//   card_outcomes_by_user    user_id, cards, accepted, overridden, no_feedback
//   signed_after_critical    the follow-up list: order-sign critical cards without accepted feedback
// A card is accepted when any feedback for it is accepted, else overridden when any is overridden
// (its reason: the latest overridden feedback's), else it has no feedback. Feedback counts
// whenever it arrived; the card's invocation decides whether the card is in the report.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cds {

struct ReportRequest {
  std::string from, to;  // YYYY-MM-DD (UTC days), both inclusive
  std::string tenant;    // empty: every tenant
  std::string format;    // csv | json | html | measure
  std::string table;     // csv / json: one table name, or empty for all
  std::string base_url;  // measure: canonical base of the Measure (default https://example.org)
  std::map<std::string, std::string> reason_displays;  // override reason code -> display (optional)
  std::string now;  // "generated" / MeasureReport.date, FHIR dateTime; empty: the current time
};

struct ReportFile {
  std::string name;          // e.g. "card_outcomes_by_rule.csv", "compliance-report.html"
  std::string content_type;  // e.g. "text/csv; charset=utf-8", "application/fhir+json"
  std::string body;
};

// The report files, or error text (bad date, unknown format/table, unreadable database).
std::variant<std::vector<ReportFile>, std::string> compliance_report(const std::filesystem::path& db,
                                                                     const ReportRequest& req);

// Only the request checks of compliance_report (dates, format, table): the error text, or
// nullopt when the request is well-formed. A caller can answer 400 for these and 500 for the rest.
std::optional<std::string> validate_report_request(const ReportRequest& req);

// The table names, in report order.
const std::vector<std::string>& report_table_names();

// Override reason code -> display from the "overrideReasons" arrays of the rule files (*.json)
// in a rules data directory. Error text when the directory or a file cannot be read.
std::variant<std::map<std::string, std::string>, std::string> load_override_reason_displays(
    const std::filesystem::path& rules_dir);

// ---- The computed data, for callers that render it themselves ------------------------------
using ReportCell = std::variant<std::int64_t, std::string, std::vector<std::string>>;

struct ReportTable {
  std::string name, title, description;
  std::vector<std::string> columns;
  std::vector<std::vector<ReportCell>> rows;
};

struct ReportTotals {
  std::int64_t invocations = 0;
  std::int64_t cards = 0, cards_accepted = 0;
  std::int64_t critical_cards = 0, order_sign_critical = 0, order_sign_critical_accepted = 0;
};

struct ReportData {
  std::vector<ReportTable> tables;  // in report_table_names() order
  ReportTotals totals;
};

// Runs the queries (no format/table check). Error text on failure.
std::variant<ReportData, std::string> query_report(const std::filesystem::path& db, const ReportRequest& req);

}  // namespace cds
