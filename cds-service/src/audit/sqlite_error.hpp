#pragma once
// A SQLite connection's last error as an operator needs it in the log: the extended result
// code and its message, and the OS errno behind an I/O error (a full disk is SQLITE_FULL, with
// ENOSPC when SQLite kept it). No PHI: codes and SQLite's own text only.
#include <sqlite3.h>

#include <cstring>
#include <string>

namespace cds::detail {

// The errno of the last failed system call on the WAL (or rollback journal) or the database
// file, as SQLite's unix VFS keeps it per file; sqlite3_system_errno() alone reads errno after
// SQLite's clean-up calls, which have often reset it. 0 when none is known.
inline int sqlite_last_errno(sqlite3* db) {
  int err = 0;
  sqlite3_file* journal = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal) == SQLITE_OK && journal != nullptr &&
      journal->pMethods != nullptr && journal->pMethods->xFileControl(journal, SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK &&
      err != 0)
    return err;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &err) == SQLITE_OK && err != 0) return err;
  return sqlite3_system_errno(db);
}

inline std::string describe_sqlite_error(sqlite3* db) {
  const int code = sqlite3_extended_errcode(db);
  std::string text = "SQLite error " + std::to_string(code) + " (" + sqlite3_errstr(code) + ")";
  const char* message = sqlite3_errmsg(db);
  if (message && std::strcmp(message, sqlite3_errstr(code)) != 0) text += ": " + std::string(message);
  if (const int err = sqlite_last_errno(db); err != 0)
    text += "; errno " + std::to_string(err) + " (" + std::strerror(err) + ")";
  return text;
}

}  // namespace cds::detail
