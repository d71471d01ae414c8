#pragma once
// The throw-away PostgreSQL cluster the tests share (tests/pg/pg_cluster.sh, started by a CTest
// fixture): its URI comes from CDS_TEST_PG_URI, or the `uri` file in CDS_TEST_PG_DIR. Each
// test gets a database of its own, dropped at its end, so tests run in parallel.
// Without a cluster these tests FAIL: they never pass by skipping.
#include "cds/audit/store.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace cdstest {

// The cluster's URI, or "" after a test failure saying why.
inline std::string pg_cluster_uri() {
  if (const char* uri = std::getenv("CDS_TEST_PG_URI"); uri && *uri) return uri;
  const char* dir = std::getenv("CDS_TEST_PG_DIR");
  if (dir == nullptr || *dir == 0) {
    ADD_FAILURE() << "no PostgreSQL for this test: set CDS_TEST_PG_URI or CDS_TEST_PG_DIR (ctest starts one)";
    return {};
  }
  std::ifstream in(std::string(dir) + "/uri");
  std::string uri;
  std::getline(in, uri);
  if (uri.empty()) ADD_FAILURE() << "no PostgreSQL cluster URI in " << dir << "/uri (did tests/pg/pg_cluster.sh start?)";
  return uri;
}

// Runs one SQL command on `uri`; its first value (or "" for none), failing the test on error.
inline std::string pg_exec(const std::string& uri, const std::string& sql) {
  PGconn* c = PQconnectdb(uri.c_str());
  std::string out;
  if (PQstatus(c) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << uri << ": " << PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
    else if (PQntuples(r) > 0 && PQnfields(r) > 0) out = PQgetvalue(r, 0, 0);
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

// A database of this test's own on the shared cluster, dropped (with its connections) at the end.
class PgDatabase {
 public:
  PgDatabase() {
    cluster_ = pg_cluster_uri();
    if (cluster_.empty()) return;
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
    pg_exec(cluster_, "CREATE DATABASE " + name_);
    const auto slash = cluster_.rfind('/');
    uri_ = cluster_.substr(0, slash + 1) + name_;
  }
  ~PgDatabase() {
    if (!name_.empty()) pg_exec(cluster_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;
  const std::string& uri() const { return uri_; }
  bool ok() const { return !uri_.empty(); }
  std::string query(const std::string& sql) const { return pg_exec(uri_, sql); }

 private:
  std::string cluster_, name_, uri_;
};

// Submits `record` and waits (at most 10 s) for its fate.
inline cds::Committed submit_and_wait_fate(cds::AuditStore& store, cds::AuditStore::Record record) {
  auto done = std::make_shared<std::promise<cds::Committed>>();
  auto result = done->get_future();
  store.submit(std::move(record), [done](cds::Committed fate) { done->set_value(fate); });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "the audit commit did not finish within 10 s";
    return cds::Committed(false);
  }
  return result.get();
}

}  // namespace cdstest
