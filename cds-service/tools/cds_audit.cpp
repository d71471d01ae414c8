// cds-audit: audit database maintenance.
//   cds-audit copy --from var/audit.db --to postgresql://user@host/db
// copies a one-node SQLite audit into the PostgreSQL database that replicas share (ids kept,
// idempotent, counts checked per table; the password from PGPASSFILE or PGPASSWORD).
#include "cds/audit/copy.hpp"
#include "cds/audit/store.hpp"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string command, from, to;
  po::options_description desc(
      "cds-audit: audit database maintenance\n\n"
      "Usage: cds-audit copy --from SQLITE_FILE --to postgresql://USER@HOST[:PORT]/DB\n\n"
      "copy: copies the SQLite audit into PostgreSQL, keeping ids; run it again to resume or check\n"
      "(rows already copied are left alone); stops, writing nothing, if PostgreSQL holds other rows\n"
      "with the same ids. Run it before the replicas write to the database.\n\nOptions");
  desc.add_options()("help,h", "print this help")("from", po::value(&from), "SQLite audit file")(
      "to", po::value(&to), "PostgreSQL URI (no password in it: use PGPASSFILE or PGPASSWORD)");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&command));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "cds-audit: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (command != "copy") {
    std::cerr << "cds-audit: unknown command '" << command << "' (cds-audit --help)\n";
    return 2;
  }
  if (from.empty() || !cds::is_postgres_uri(to)) {
    std::cerr << "cds-audit: copy needs --from SQLITE_FILE and --to postgresql://...\n";
    return 2;
  }
  auto copied = cds::copy_sqlite_to_postgres(from, to);
  if (auto* e = std::get_if<std::string>(&copied)) {
    std::cerr << "cds-audit: " << *e << "\n";
    return 1;
  }
  for (const auto& t : std::get<std::vector<cds::CopiedTable>>(copied))
    std::cout << t.table << ": " << t.source_rows << " rows in SQLite, all in PostgreSQL (" << t.copied
              << " copied now, " << t.present << " already there)\n";
  return 0;
}
