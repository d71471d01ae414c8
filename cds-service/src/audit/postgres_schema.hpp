#pragma once
// The PostgreSQL audit schema and its migrations.
#include "audit/pg.hpp"

#include <string>

namespace cds::pg {

// Brings the database to the latest schema, in one transaction under an advisory lock, so that
// replicas starting together migrate once and the others wait, then find nothing to do. Error
// text on failure (also when the database is newer than this build).
std::string migrate(const Connection& db);

// The schema version this build writes.
int latest_schema_version() noexcept;

}  // namespace cds::pg
