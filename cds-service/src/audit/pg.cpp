#include "audit/pg.hpp"

namespace cds::pg {
namespace {

// Text parameters for libpq: pointers into `params`, which outlives the call.
std::vector<const char*> values_of(const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}

}  // namespace

std::variant<Connection, std::string> Connection::open(const std::string& uri, const char* application_name) {
  // Defaults first, the URI after: with expand_dbname its own settings override these.
  const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "application_name", "dbname", nullptr};
  const char* values[] = {"5", "1", "10", "3", "3", application_name, uri.c_str(), nullptr};
  Connection c(PQconnectdbParams(keys, values, 1));
  if (!c.c_) return std::string("out of memory connecting to PostgreSQL");
  if (PQstatus(c.c_.get()) != CONNECTION_OK) return "cannot connect to the PostgreSQL audit database: " + c.error();
  // Audit text is UTF-8 and timestamps are written by us as text: fix both for every server.
  if (PQsetClientEncoding(c.c_.get(), "UTF8") != 0) return "cannot set the client encoding: " + c.error();
  return c;
}

Result Connection::exec(const std::string& sql, const std::vector<std::optional<std::string>>& params) const {
  auto values = values_of(params);
  return Result(PQexecParams(c_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0));
}

bool Connection::prepare(const char* name, const char* sql, std::string& error) const {
  Result r(PQprepare(c_.get(), name, sql, 0, nullptr));
  if (!r.ok()) error = std::string("cannot prepare ") + name + ": " + r.error();
  return r.ok();
}

Result Connection::run(const char* name, const std::vector<std::optional<std::string>>& params) const {
  auto values = values_of(params);
  return Result(PQexecPrepared(c_.get(), name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
}

}  // namespace cds::pg
