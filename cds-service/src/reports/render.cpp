// Compliance reports: rendering the tables as CSV (RFC 4180), JSON, one self-contained printable
// HTML page with inline SVG charts, or a FHIR R4 MeasureReport.
#include "cds/reports/report.hpp"

#include "fhir/json.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>

namespace cds {
namespace {

namespace json = boost::json;

std::string current_time() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string cell_text(const ReportCell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  return join(std::get<std::vector<std::string>>(c), " ");
}

json::value cell_json(const ReportCell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return *i;
  if (const auto* s = std::get_if<std::string>(&c)) return json::string(*s);
  json::array a;
  for (const auto& s : std::get<std::vector<std::string>>(c)) a.emplace_back(s);
  return a;
}

std::int64_t as_int(const ReportCell& c) {
  const auto* i = std::get_if<std::int64_t>(&c);
  return i ? *i : 0;
}

const ReportTable& table(const ReportData& d, std::string_view name) {
  return *std::find_if(d.tables.begin(), d.tables.end(), [&](const ReportTable& t) { return t.name == name; });
}

// ---- CSV --------------------------------------------------------------------------------------

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + '"';
}

std::string csv(const ReportTable& t) {
  std::string out;
  for (std::size_t i = 0; i < t.columns.size(); ++i) out += (i ? "," : "") + csv_field(t.columns[i]);
  out += "\r\n";
  for (const auto& row : t.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_field(cell_text(row[i]));
    out += "\r\n";
  }
  return out;
}

// ---- JSON -------------------------------------------------------------------------------------

json::array json_rows(const ReportTable& t) {
  json::array rows;
  for (const auto& row : t.rows) {
    json::object o;
    for (std::size_t i = 0; i < row.size(); ++i) o[t.columns[i]] = cell_json(row[i]);
    rows.push_back(std::move(o));
  }
  return rows;
}

std::string json_report(const ReportData& d, const ReportRequest& req) {
  json::object tables;
  for (const auto& t : d.tables)
    if (req.table.empty() || req.table == t.name) tables[t.name] = json_rows(t);
  json::object doc{{"from", req.from}, {"to", req.to}};
  if (!req.tenant.empty()) doc["tenant"] = req.tenant;
  doc["tables"] = std::move(tables);
  return json::serialize(doc) + "\n";
}

// ---- HTML -------------------------------------------------------------------------------------

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters are not allowed in XML 1.0; keep tab, LF, CR.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
          out += ' ';
        else
          out += ch;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Series {
  std::string name, css;
  std::vector<std::int64_t> values;
};

// A grouped bar chart: one group of bars (one per series) per label.
std::string bar_chart(const std::string& id, const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<Series>& series, double slot, bool rotate_labels) {
  std::int64_t max = 0;
  for (const auto& s : series)
    for (auto v : s.values) max = std::max(max, v);
  // A "nice" axis: steps of 1, 2 or 5 times a power of ten, about four of them.
  double step = 1;
  if (max > 4) {
    const double raw = static_cast<double>(max) / 4, mag = std::pow(10, std::floor(std::log10(raw)));
    step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
  }
  const double top = std::max(1.0, std::ceil(static_cast<double>(max) / step) * step);
  const double left = 48, right = 16, plot_top = 28, plot_h = 180, bottom = rotate_labels ? 80 : 28;
  const double legend_h = series.size() > 1 ? 22 : 0;
  const double width = left + right + slot * static_cast<double>(std::max<std::size_t>(labels.size(), 1));
  const double height = plot_top + plot_h + bottom + legend_h;
  const double k = static_cast<double>(series.size());
  const double bar_w = std::min(28.0, (slot - 6) / k);
  auto y_of = [&](double v) { return plot_top + plot_h - v / top * plot_h; };

  std::string s = "<svg class=\"chart\" width=\"" + num(width) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " +
                  num(width) + " " + num(height) + "\" role=\"img\" aria-labelledby=\"" + id + "-title\">\n";
  s += "<title id=\"" + id + "-title\">" + esc(title) + "</title>\n";
  for (double v = 0; v <= top + step / 2; v += step) {
    const double y = y_of(v);
    s += "<line class=\"grid\" x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(width - right) + "\" y2=\"" +
         num(y) + "\"/>";
    s += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
         std::to_string(static_cast<std::int64_t>(std::llround(v))) + "</text>\n";
  }
  s += "<line class=\"axis\" x1=\"" + num(left) + "\" y1=\"" + num(y_of(0)) + "\" x2=\"" + num(width - right) +
       "\" y2=\"" + num(y_of(0)) + "\"/>\n";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double x0 = left + slot * static_cast<double>(i) + (slot - bar_w * k) / 2;
    for (std::size_t j = 0; j < series.size(); ++j) {
      const double v = static_cast<double>(series[j].values[i]);
      const double x = x0 + bar_w * static_cast<double>(j), y = y_of(v);
      s += "<rect class=\"" + series[j].css + "\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" +
           num(bar_w - 1) + "\" height=\"" + num(y_of(0) - y) + "\"><title>" + esc(labels[i]) +
           (series.size() > 1 ? ", " + esc(series[j].name) : std::string()) + ": " +
           std::to_string(series[j].values[i]) + "</title></rect>";
      if (series[j].values[i] > 0)
        s += "<text class=\"value\" x=\"" + num(x + (bar_w - 1) / 2) + "\" y=\"" + num(y - 3) +
             "\" text-anchor=\"middle\">" + std::to_string(series[j].values[i]) + "</text>";
      s += "\n";
    }
    const double lx = left + slot * (static_cast<double>(i) + 0.5), ly = y_of(0) + 14;
    if (rotate_labels)
      s += "<text class=\"label\" x=\"" + num(lx) + "\" y=\"" + num(ly) + "\" text-anchor=\"end\" transform=\"rotate(-60 " +
           num(lx) + " " + num(ly) + ")\">" + esc(labels[i]) + "</text>\n";
    else
      s += "<text class=\"label\" x=\"" + num(lx) + "\" y=\"" + num(ly) + "\" text-anchor=\"middle\">" + esc(labels[i]) +
           "</text>\n";
  }
  if (labels.empty())
    s += "<text class=\"label\" x=\"" + num(left + 8) + "\" y=\"" + num(plot_top + plot_h / 2) + "\">No data</text>\n";
  if (series.size() > 1) {
    double x = left;
    const double y = height - 8;
    for (const auto& se : series) {
      s += "<rect class=\"" + se.css + "\" x=\"" + num(x) + "\" y=\"" + num(y - 10) + "\" width=\"10\" height=\"10\"/>";
      s += "<text class=\"legend\" x=\"" + num(x + 14) + "\" y=\"" + num(y) + "\">" + esc(se.name) + "</text>\n";
      x += 24 + 7 * static_cast<double>(se.name.size());
    }
  }
  return s + "</svg>\n";
}

std::string days_chart(const ReportData& d, const ReportRequest& req) {
  std::map<std::string, std::int64_t> per_day;
  for (const auto& row : table(d, "invocations_by_hook_day").rows) per_day[cell_text(row[0])] += as_int(row[2]);
  std::vector<std::string> days;
  // Every day of a range up to about a quarter (empty days show as gaps); longer ranges: the
  // days with invocations.
  auto parse = [](const std::string& s) {
    return std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year{std::stoi(s.substr(0, 4))},
                                                             std::chrono::month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                                                             std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}});
  };
  const auto first = parse(req.from), last = parse(req.to);
  if ((last - first).count() < 92) {
    for (auto day = first; day <= last; day += std::chrono::days{1}) {
      const std::chrono::year_month_day ymd(day);
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                    static_cast<unsigned>(ymd.day()));
      days.emplace_back(buf);
    }
  } else {
    for (const auto& [day, n] : per_day) days.push_back(day);
  }
  Series s{"Invocations", "bar-inv", {}};
  for (const auto& day : days) s.values.push_back(per_day.count(day) ? per_day[day] : 0);
  return bar_chart("chart-days", "Invocations per day", days, {s}, 18, true);
}

std::string outcomes_chart(const ReportData& d) {
  std::vector<std::string> rules;
  Series acc{"Accepted", "bar-acc", {}}, ovr{"Overridden", "bar-ovr", {}}, none{"No feedback", "bar-none", {}};
  for (const auto& row : table(d, "card_outcomes_by_rule").rows) {
    rules.push_back(cell_text(row[0]));
    acc.values.push_back(as_int(row[2]));
    ovr.values.push_back(as_int(row[3]));
    none.values.push_back(as_int(row[4]));
  }
  return bar_chart("chart-outcomes", "Card outcomes per rule", rules, {acc, ovr, none}, 200, false);
}

constexpr const char* kStyle = R"css(
body { font-family: "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 2em auto; max-width: 72em; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
p.meta { color: #444; margin-top: 0; }
p.desc { color: #444; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: #666; font-style: italic; }
td.wrap { word-break: break-all; }
figure { margin: 1em 0; overflow-x: auto; }
svg.chart { max-width: 100%; height: auto; font-size: 11px; }
svg .grid { stroke: #ddd; stroke-width: 1; }
svg .axis { stroke: #333; stroke-width: 1; }
svg .tick, svg .label, svg .legend { fill: #333; }
svg .value { fill: #111; font-size: 10px; }
.bar-inv { fill: #3b6ea8; }
.bar-acc { fill: #1f6b35; }
.bar-ovr { fill: #d08a2e; }
.bar-none { fill: #b8bcc2; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; color: #000; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  th { background: #eee; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  svg rect { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure { overflow: visible; }
}
)css";

std::string html_table(const ReportTable& t) {
  std::string s = "<table id=\"" + t.name + "\">\n<thead><tr>";
  for (const auto& c : t.columns) s += "<th scope=\"col\">" + esc(c) + "</th>";
  s += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    s += "<tr>";
    for (const auto& c : row) {
      const bool number = std::holds_alternative<std::int64_t>(c);
      s += number ? "<td class=\"num\">" : "<td>";
      s += esc(cell_text(c)) + "</td>";
    }
    s += "</tr>\n";
  }
  if (t.rows.empty())
    s += "<tr><td class=\"empty\" colspan=\"" + std::to_string(t.columns.size()) + "\">No rows in this period.</td></tr>\n";
  return s + "</tbody>\n</table>\n";
}

std::string html_report(const ReportData& d, const ReportRequest& req, const std::string& now) {
  const std::string title = "Knee OA regenerative-injection CDS: compliance report " + req.from + " to " + req.to;
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" + esc(title) +
                  "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  s += "<h1>Knee OA regenerative-injection CDS: compliance report</h1>\n";
  s += "<p class=\"meta\">Period: " + esc(req.from) + " to " + esc(req.to) + " (inclusive, UTC days). Tenant: " +
       (req.tenant.empty() ? std::string("all") : esc(req.tenant)) + ". Generated: " + esc(now) + ".</p>\n";
  const auto& t = d.totals;
  s += "<p class=\"meta\">Invocations: " + std::to_string(t.invocations) + ". Cards: " + std::to_string(t.cards) +
       " (accepted " + std::to_string(t.cards_accepted) + "). Critical cards on order-sign: " +
       std::to_string(t.order_sign_critical) + " (with an accepted suggestion " +
       std::to_string(t.order_sign_critical_accepted) + ").</p>\n";
  s += "<h2>Invocations per day</h2>\n<figure>\n" + days_chart(d, req) + "</figure>\n";
  s += "<h2>Card outcomes per rule</h2>\n<figure>\n" + outcomes_chart(d) + "</figure>\n";
  for (const auto& tab : d.tables) {
    s += "<section>\n<h2>" + esc(tab.title) + "</h2>\n<p class=\"desc\">" + esc(tab.description) + "</p>\n";
    s += html_table(tab) + "</section>\n";
  }
  return s + "</body>\n</html>\n";
}

// ---- FHIR MeasureReport -----------------------------------------------------------------------

json::object population(std::string_view code, std::string_view display, std::int64_t count) {
  return json::object{
      {"code", json::object{{"coding", json::array{json::object{
                                           {"system", "http://terminology.hl7.org/CodeSystem/measure-population"},
                                           {"code", code},
                                           {"display", display}}}}}},
      {"count", count}};
}

json::object group(const std::string& base, const std::string& id, const std::string& text, std::int64_t initial,
                   std::optional<std::int64_t> denominator, std::int64_t numerator) {
  json::array pops{population("initial-population", "Initial Population", initial)};
  if (denominator) pops.push_back(population("denominator", "Denominator", *denominator));
  pops.push_back(population("numerator", "Numerator", numerator));
  return json::object{
      {"id", id},
      {"code", json::object{{"coding", json::array{json::object{{"system", base + "/fhir/CodeSystem/compliance-report-group"},
                                                                {"code", id},
                                                                {"display", text}}}},
                            {"text", text}}},
      {"population", std::move(pops)}};
}

std::string measure_report(const ReportData& d, const ReportRequest& req, const std::string& now) {
  std::string base = req.base_url.empty() ? "https://example.org" : req.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const auto& t = d.totals;
  json::array groups;
  groups.push_back(group(base, "critical-card-follow-up",
                         "Critical cards; denominator: on order-sign; numerator: with an accepted suggestion",
                         t.critical_cards, t.order_sign_critical, t.order_sign_critical_accepted));
  groups.push_back(group(base, "card-acceptance", "Cards; numerator: accepted", t.cards, t.cards, t.cards_accepted));
  for (const auto& row : table(d, "card_outcomes_by_rule").rows) {
    const std::string rule = cell_text(row[0]);
    groups.push_back(group(base, "rule-" + rule, "Cards of rule " + rule + "; numerator: accepted", as_int(row[1]),
                           as_int(row[1]), as_int(row[2])));
  }
  json::object doc{{"resourceType", "MeasureReport"},
                   {"status", "complete"},
                   {"type", "summary"},
                   {"measure", base + "/fhir/Measure/knee-oa-regenerative-cds"},
                   {"date", now},
                   {"period", json::object{{"start", req.from}, {"end", req.to}}}};
  if (!req.tenant.empty())
    doc["extension"] = json::array{
        json::object{{"url", base + "/fhir/StructureDefinition/report-tenant"}, {"valueString", req.tenant}}};
  doc["group"] = std::move(groups);
  return json::serialize(doc) + "\n";
}

}  // namespace

std::variant<std::vector<ReportFile>, std::string> compliance_report(const std::filesystem::path& db,
                                                                     const ReportRequest& req) {
  if (auto err = validate_report_request(req)) return *err;
  auto queried = query_report(db, req);
  if (auto* err = std::get_if<std::string>(&queried)) return *err;
  const ReportData& data = std::get<ReportData>(queried);
  const std::string now = req.now.empty() ? current_time() : req.now;

  std::vector<ReportFile> files;
  if (req.format == "csv") {
    for (const auto& t : data.tables)
      if (req.table.empty() || req.table == t.name)
        files.push_back({t.name + ".csv", "text/csv; charset=utf-8; header=present", csv(t)});
  } else if (req.format == "json") {
    files.push_back({"compliance-report.json", "application/json", json_report(data, req)});
  } else if (req.format == "html") {
    files.push_back({"compliance-report.html", "text/html; charset=utf-8", html_report(data, req, now)});
  } else {
    files.push_back({"measure-report.json", "application/fhir+json", measure_report(data, req, now)});
  }
  return files;
}

}  // namespace cds
