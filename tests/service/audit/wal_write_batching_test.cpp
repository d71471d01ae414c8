// The audit writer's VFS gathers a transaction's WAL frames into one write. Real SQLite files,
// WAL and synchronous=FULL as the store uses them: what each commit wrote is in the files when
// the commit returns (a copy taken then, with the writer still open, has it), readers and a
// backup on the default VFS see every commit, the file stays intact through frames rewritten in
// one transaction, rollbacks, WAL resets and writes larger than the buffer, and the number of
// write system calls per commit falls.
#include "cds/audit/wal_write_batching.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Db {
  Db(const fs::path& file, const char* vfs, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, flags, vfs), SQLITE_OK) << file;
  }
  ~Db() { sqlite3_close(db); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  void exec(const std::string& sql) { ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db); }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out = "<error>";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }
  sqlite3* db = nullptr;
};

struct TempDir {
  TempDir() : root(cdstest::make_temp_dir("wal-batching")) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  const fs::path& path() const { return root; }
  fs::path root;
};

const char* batching() {
  const char* vfs = cds::detail::wal_write_batching_vfs();
  EXPECT_NE(vfs, nullptr);
  return vfs;
}

void open_like_the_store(Db& w) {
  w.exec("PRAGMA journal_mode=WAL");
  w.exec("PRAGMA synchronous=FULL");
  w.exec("PRAGMA wal_autocheckpoint=0");  // checkpoints only where a test asks
}

// write system calls (write, pwrite, ...) this process has made (/proc/self/io).
long write_calls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long value = 0;
  while (io >> key >> value)
    if (key == "syscw:") return value;
  return -1;
}

TEST(WalWriteBatching, EveryCommitIsInTheFilesWhenItReturnsAndReadersSeeIt) {
  TempDir dir;
  const fs::path file = dir.path() / "a.db";
  Db w(file, batching());
  open_like_the_store(w);
  w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  Db r(file, nullptr, SQLITE_OPEN_READONLY);
  for (int i = 1; i <= 60; ++i) {
    w.exec("BEGIN IMMEDIATE; INSERT INTO t(v) VALUES(printf('%0500d', " + std::to_string(i) + ")); COMMIT");
    ASSERT_EQ(r.text("SELECT count(*) FROM t"), std::to_string(i));
    if (i % 20 == 0) {
      // A copy of the files as they are now, the writer still open: what a crash would leave.
      const fs::path copy = dir.path() / ("copy" + std::to_string(i));
      fs::create_directories(copy);
      fs::copy_file(file, copy / "a.db");
      fs::copy_file(fs::path(file.string() + "-wal"), copy / "a.db-wal");
      Db c(copy / "a.db", nullptr);
      EXPECT_EQ(c.text("SELECT count(*) FROM t"), std::to_string(i));
      EXPECT_EQ(c.text("PRAGMA integrity_check"), "ok");
    }
  }
}

TEST(WalWriteBatching, RewrittenFramesRollbacksWalResetsAndLargeWritesKeepTheFileIntact) {
  TempDir dir;
  const fs::path file = dir.path() / "b.db";
  Db w(file, batching());
  open_like_the_store(w);
  w.exec("PRAGMA cache_size=4");  // spill pages mid-transaction: frames written, then rewritten
  w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
  w.exec("BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) "
         "INSERT INTO t SELECT i, randomblob(900) FROM n; UPDATE t SET v = zeroblob(700) WHERE id % 3 = 0; "
         "UPDATE t SET v = zeroblob(800) WHERE id % 3 = 0; COMMIT");
  w.exec("BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
         "INSERT INTO t SELECT 1000 + i, randomblob(900) FROM n; ROLLBACK");
  w.exec("INSERT INTO t VALUES(5000, randomblob(2000000))");  // 2 MB: larger than the buffer
  Db other(file, nullptr);
  other.exec("PRAGMA wal_checkpoint(TRUNCATE)");  // the WAL starts again from its header
  w.exec("INSERT INTO t VALUES(5001, zeroblob(10))");
  Db r(file, nullptr, SQLITE_OPEN_READONLY);
  EXPECT_EQ(r.text("SELECT count(*) FROM t"), "402");
  EXPECT_EQ(r.text("SELECT sum(length(v)) FROM t WHERE id % 3 = 0 AND id <= 400"), std::to_string(133 * 800));
  EXPECT_EQ(r.text("SELECT length(v) FROM t WHERE id = 5000"), "2000000");
  EXPECT_EQ(r.text("PRAGMA integrity_check"), "ok");
}

// An operator's backup of the running service's file: another connection on the default VFS.
TEST(WalWriteBatching, ABackupOnTheDefaultVfsCopiesEveryCommit) {
  TempDir dir;
  const fs::path file = dir.path() / "c.db";
  Db w(file, batching());
  open_like_the_store(w);
  w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  for (int i = 0; i < 25; ++i) w.exec("INSERT INTO t(v) VALUES(hex(randomblob(300)))");
  Db src(file, nullptr, SQLITE_OPEN_READONLY);
  Db dst(dir.path() / "backup.db", nullptr);
  sqlite3_backup* b = sqlite3_backup_init(dst.db, "main", src.db, "main");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(sqlite3_backup_step(b, -1), SQLITE_DONE);
  EXPECT_EQ(sqlite3_backup_finish(b), SQLITE_OK);
  EXPECT_EQ(dst.text("SELECT count(*) FROM t"), "25");
  EXPECT_EQ(dst.text("PRAGMA integrity_check"), "ok");
  w.exec("INSERT INTO t(v) VALUES('after the backup')");  // the writer goes on
  EXPECT_EQ(src.text("SELECT count(*) FROM t"), "26");
}

TEST(WalWriteBatching, ACommitOfSeveralPagesTakesFewerWriteCalls) {
  TempDir dir;
  auto calls_per_commit = [&](const char* vfs, const char* name) {
    Db w(dir.path() / name, vfs);
    open_like_the_store(w);
    // Four B-trees touched per commit, like an audit record: table, two indexes, a second table.
    w.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT); CREATE INDEX ta ON t(a); "
           "CREATE INDEX tb ON t(b); CREATE TABLE u(id INTEGER PRIMARY KEY, v TEXT)");
    for (int i = 0; i < 5; ++i) w.exec("INSERT INTO t(a, b) VALUES(hex(randomblob(16)), hex(randomblob(16)))");
    const long before = write_calls();
    for (int i = 0; i < 40; ++i)
      w.exec("BEGIN IMMEDIATE; INSERT INTO t(a, b) VALUES(hex(randomblob(16)), hex(randomblob(16))); "
             "INSERT INTO u(v) VALUES(hex(randomblob(200))); COMMIT");
    return static_cast<double>(write_calls() - before) / 40;
  };
  const double plain = calls_per_commit(nullptr, "plain.db");
  const double batched = calls_per_commit(batching(), "batched.db");
  ASSERT_GT(plain, 0) << "/proc/self/io has no syscw";
  // Four pages per commit: eight writes on the default VFS, one here.
  EXPECT_GE(plain, 7.0);
  EXPECT_LE(batched, 1.5);
}

}  // namespace
