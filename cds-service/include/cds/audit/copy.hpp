#pragma once
// Moving a one-node SQLite audit into PostgreSQL (cds-audit copy). Rows keep their ids, so
// cards and orders keep their place under their invocation and feedback its card. Idempotent:
// a row already there with the same id and the same values is left alone; one with the same id
// but other values stops the copy (nothing is written: one transaction). Afterwards the
// counts are checked table by table.
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace cds {

struct CopiedTable {
  std::string table;
  std::int64_t source_rows = 0;  // in the SQLite file
  std::int64_t copied = 0;       // inserted now
  std::int64_t present = 0;      // already in PostgreSQL, identical
};

// Copies `sqlite_file` (migrated to the current schema first) into the PostgreSQL database
// `postgres_uri` (its schema created if missing). The tables copied, or error text.
std::variant<std::vector<CopiedTable>, std::string> copy_sqlite_to_postgres(const std::filesystem::path& sqlite_file,
                                                                           const std::string& postgres_uri);

}  // namespace cds
