#pragma once
// An SQLite VFS that writes a transaction's WAL frames with one system call instead of two per
// frame. SQLite's unix VFS writes each frame as two pwrite()s (its 24-byte header, then the
// page): ~13 calls per audit commit. This VFS sits on the default one and, for WAL files only,
// gathers writes that follow each other in the file and hands them down as one write before
// anything else touches the file: a sync (so a commit is durable exactly as before), a read,
// a truncate, a size query, a file control or close. Everything else, locks and the shared-memory
// WAL index included, is the default VFS's, untouched: other processes (an operator's
// `sqlite3 audit.db .backup`) see the same locks and the same file format.
#include <sqlite3.h>

namespace cds::detail {

// The VFS's name, registered (not as the default) on first use; null if SQLite refused it.
const char* wal_write_batching_vfs() noexcept;

}  // namespace cds::detail
