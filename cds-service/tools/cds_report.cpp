// cds-report: compliance reports from the audit database (read-only; safe beside a running service).
//   cds-report --db audit.db --from 2026-11-01 --to 2026-11-30 --format csv|json|html|measure
//              [--tenant T] [--table NAME] [--out FILE_OR_DIR] [--base-url URL] [--rules DIR]
#include "cds/reports/report.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

int usage_error(const std::string& message) {
  std::cerr << "cds-report: " << message << "\n(cds-report --help for usage)\n";
  return 2;
}

bool write_file(const fs::path& path, const std::string& body) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out) {
    std::cerr << "cds-report: cannot write " << path.string() << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, out, rules_dir;
  cds::ReportRequest req;
  std::string tables;
  for (const auto& n : cds::report_table_names()) tables += (tables.empty() ? "" : ", ") + n;
  po::options_description desc(
      "cds-report: compliance reports from the CDS audit database (opened read-only)\n\n"
      "Usage: cds-report --db FILE --from DATE --to DATE --format csv|json|html|measure [options]\n\n"
      "Options");
  desc.add_options()("help,h", "print this help")("db", po::value(&db), "audit SQLite database (required)")(
      "from", po::value(&req.from), "first day, YYYY-MM-DD (UTC, inclusive; required)")(
      "to", po::value(&req.to), "last day, YYYY-MM-DD (UTC, inclusive; required)")(
      "format", po::value(&req.format), "csv | json | html | measure (required)")(
      "tenant", po::value(&req.tenant), "only this tenant's invocations")(
      "table", po::value(&req.table), ("csv/json: only this table (" + tables + ")").c_str())(
      "out", po::value(&out),
      "output file; for csv with several tables, a directory (created if missing). Default: stdout")(
      "base-url", po::value(&req.base_url), "measure: canonical base URL of the Measure (default https://example.org)")(
      "rules", po::value(&rules_dir), "rules data directory, for override reason displays (optional)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  for (const char* required : {"db", "from", "to", "format"})
    if (!vm.count(required)) return usage_error(std::string("--") + required + " is required");
  if (auto err = cds::validate_report_request(req)) return usage_error(*err);
  if (!rules_dir.empty()) {
    auto displays = cds::load_override_reason_displays(rules_dir);
    if (auto* err = std::get_if<std::string>(&displays)) return usage_error(*err);
    req.reason_displays = std::move(std::get<0>(displays));
  }
  const bool several = req.format == "csv" && req.table.empty();
  if (several && out.empty()) return usage_error("csv with all tables writes one file per table: give --out DIR or --table NAME");

  auto result = cds::compliance_report(db, req);
  if (auto* err = std::get_if<std::string>(&result)) {
    std::cerr << "cds-report: " << *err << "\n";
    return 1;
  }
  const auto& files = std::get<std::vector<cds::ReportFile>>(result);
  if (out.empty()) {
    std::cout << files.front().body;
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  std::error_code ec;
  if (several) {
    fs::create_directories(out, ec);
    if (!fs::is_directory(out, ec)) return usage_error("--out " + out + " is not a directory");
    for (const auto& f : files)
      if (!write_file(fs::path(out) / f.name, f.body)) return 1;
    return 0;
  }
  const fs::path target = fs::is_directory(out, ec) ? fs::path(out) / files.front().name : fs::path(out);
  return write_file(target, files.front().body) ? 0 : 1;
}
