#pragma once
// A SQLite connection's last error as an operator needs it in the log: the extended result
// code and its message, and the OS errno behind an I/O error (a full disk is SQLITE_FULL, with
// ENOSPC when SQLite kept it). No PHI: codes and SQLite's own text only.
#include <sqlite3.h>

#include <cstring>
#include <string>

namespace cds::detail {

inline std::string describe_sqlite_error(sqlite3* db) {
  const int code = sqlite3_extended_errcode(db);
  std::string text = "SQLite error " + std::to_string(code) + " (" + sqlite3_errstr(code) + ")";
  const char* message = sqlite3_errmsg(db);
  if (message && std::strcmp(message, sqlite3_errstr(code)) != 0) text += ": " + std::string(message);
  if (const int err = sqlite3_system_errno(db); err != 0)
    text += "; errno " + std::to_string(err) + " (" + std::strerror(err) + ")";
  return text;
}

}  // namespace cds::detail
