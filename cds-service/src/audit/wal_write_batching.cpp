#include "cds/audit/wal_write_batching.hpp"

#include <cstring>
#include <memory>
#include <new>

namespace cds::detail {
namespace {

// Held writes go down when they reach this size: a one-record audit commit is ~6 frames of
// 4 KiB, a group commit under load several times that. It must stay below 128 KiB: the unix VFS
// writes at most 0x1ffff bytes per call and reports a shorter write as SQLITE_FULL.
constexpr int kBufferBytes = 64 * 1024;

sqlite3_vfs* parent_vfs = nullptr;

// A WAL file: our methods first (SQLite sees this struct), the default VFS's file after it.
struct BatchFile {
  sqlite3_file base;
  sqlite3_file* real;
  unsigned char* buffer;  // kBufferBytes, owned
  sqlite3_int64 offset;   // file offset of buffer[0]
  int length;             // bytes held
};

BatchFile* as_batch(sqlite3_file* f) { return reinterpret_cast<BatchFile*>(f); }

int flush(BatchFile* f) {
  if (f->length == 0) return SQLITE_OK;
  const int rc = f->real->pMethods->xWrite(f->real, f->buffer, f->length, f->offset);
  f->length = 0;  // on an error SQLite fails the transaction; the bytes were never acknowledged
  return rc;
}

int batch_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  BatchFile* f = as_batch(file);
  if (f->length > 0 && offset == f->offset + f->length && f->length + amount <= kBufferBytes) {
    std::memcpy(f->buffer + f->length, data, static_cast<std::size_t>(amount));
    f->length += amount;
    return SQLITE_OK;
  }
  // Not the next bytes (a frame rewritten in place, a new WAL header) or no room: what is held
  // goes down first, so the file sees every write in SQLite's order.
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (amount >= kBufferBytes) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  std::memcpy(f->buffer, data, static_cast<std::size_t>(amount));
  f->offset = offset;
  f->length = amount;
  return SQLITE_OK;
}

int batch_close(sqlite3_file* file) {
  BatchFile* f = as_batch(file);
  int rc = flush(f);
  const int closed = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  delete[] f->buffer;
  f->buffer = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int batch_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  BatchFile* f = as_batch(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int batch_truncate(sqlite3_file* file, sqlite3_int64 size) {
  BatchFile* f = as_batch(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int batch_sync(sqlite3_file* file, int flags) {
  BatchFile* f = as_batch(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int batch_file_size(sqlite3_file* file, sqlite3_int64* size) {
  BatchFile* f = as_batch(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int batch_lock(sqlite3_file* file, int level) {
  BatchFile* f = as_batch(file);
  return f->real->pMethods->xLock(f->real, level);
}

int batch_unlock(sqlite3_file* file, int level) {
  BatchFile* f = as_batch(file);
  return f->real->pMethods->xUnlock(f->real, level);
}

int batch_check_reserved(sqlite3_file* file, int* out) {
  BatchFile* f = as_batch(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int batch_file_control(sqlite3_file* file, int op, void* arg) {
  BatchFile* f = as_batch(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int batch_sector_size(sqlite3_file* file) {
  BatchFile* f = as_batch(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int batch_device_characteristics(sqlite3_file* file) {
  BatchFile* f = as_batch(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

// A WAL file has no shared memory and is not memory-mapped (SQLite maps only the database file),
// so the version 1 methods are the whole interface.
const sqlite3_io_methods kBatchMethods = {
    1,
    batch_close,
    batch_read,
    batch_write,
    batch_truncate,
    batch_sync,
    batch_file_size,
    batch_lock,
    batch_unlock,
    batch_check_reserved,
    batch_file_control,
    batch_sector_size,
    batch_device_characteristics,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
};

int batch_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  // Anything but a WAL file is the default VFS's own file at the same address.
  if ((flags & SQLITE_OPEN_WAL) == 0) return parent_vfs->xOpen(parent_vfs, name, file, flags, out_flags);
  BatchFile* f = as_batch(file);
  f->base.pMethods = nullptr;  // until the real file is open: SQLite then does not call xClose
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->buffer = new (std::nothrow) unsigned char[kBufferBytes];
  f->offset = 0;
  f->length = 0;
  if (f->buffer == nullptr) return SQLITE_NOMEM;
  const int rc = parent_vfs->xOpen(parent_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    delete[] f->buffer;
    f->buffer = nullptr;
    return rc;
  }
  f->base.pMethods = &kBatchMethods;
  return SQLITE_OK;
}

}  // namespace

const char* wal_write_batching_vfs() noexcept {
  static const char* const name = []() -> const char* {
    parent_vfs = sqlite3_vfs_find(nullptr);
    if (parent_vfs == nullptr) return nullptr;
    static sqlite3_vfs vfs = *parent_vfs;  // every other call is the default VFS's own
    vfs.zName = "cds-wal-write-batching";
    vfs.pNext = nullptr;
    vfs.szOsFile = static_cast<int>(sizeof(BatchFile)) + parent_vfs->szOsFile;
    vfs.xOpen = batch_open;
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK ? vfs.zName : nullptr;
  }();
  return name;
}

}  // namespace cds::detail
