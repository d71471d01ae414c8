#include "cds/audit/store.hpp"
#include "cds/audit/sqlite_store.hpp"

namespace cds {

std::variant<std::unique_ptr<AuditStore>, std::string> open_audit_store(const std::string& db) {
  auto opened = SqliteAuditStore::open(db);
  if (auto* error = std::get_if<std::string>(&opened)) return std::move(*error);
  return std::unique_ptr<AuditStore>(std::move(std::get<std::unique_ptr<SqliteAuditStore>>(opened)));
}

}  // namespace cds
