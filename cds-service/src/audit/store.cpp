#include "cds/audit/store.hpp"
#include "cds/audit/postgres_store.hpp"
#include "cds/audit/sqlite_store.hpp"

namespace cds {

std::variant<std::unique_ptr<AuditStore>, std::string> open_audit_store(const std::string& db) {
  if (is_postgres_uri(db)) {
    auto opened = PostgresAuditStore::open(db);
    if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
    return std::unique_ptr<AuditStore>(std::move(std::get<std::unique_ptr<PostgresAuditStore>>(opened)));
  }
  auto opened = SqliteAuditStore::open(db);
  if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
  return std::unique_ptr<AuditStore>(std::move(std::get<std::unique_ptr<SqliteAuditStore>>(opened)));
}

}  // namespace cds
