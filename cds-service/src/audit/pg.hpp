#pragma once
// Thin RAII over libpq for the PostgreSQL audit store, the reports and cds-audit: a connection
// and a result that free themselves, parameters passed as text, errors as values.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cds::pg {

struct ResultFree {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  // A command that completed (with or without rows).
  bool ok() const noexcept {
    const auto s = r_ ? PQresultStatus(r_.get()) : PGRES_FATAL_ERROR;
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
  int rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
  int columns() const noexcept { return r_ ? PQnfields(r_.get()) : 0; }
  bool null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  std::int64_t integer(int row, int col) const { return std::stoll(PQgetvalue(r_.get(), row, col)); }
  // Rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t affected() const {
    const char* n = r_ ? PQcmdTuples(r_.get()) : "";
    return *n ? std::stoull(n) : 0;
  }
  // SQLSTATE, e.g. "23505" for a unique violation; empty without one.
  std::string sqlstate() const {
    const char* s = r_ ? PQresultErrorField(r_.get(), PG_DIAG_SQLSTATE) : nullptr;
    return s ? s : "";
  }
  // The one-line message without DETAIL (which quotes the values of a violated key): for logs.
  std::string primary() const {
    const char* m = r_ ? PQresultErrorField(r_.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    return m ? m : error();
  }
  std::string error() const {
    if (!r_) return "no result (connection lost)";
    std::string e = PQresultErrorMessage(r_.get());
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }

 private:
  std::unique_ptr<PGresult, ResultFree> r_;
};

struct ConnFree {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

class Connection {
 public:
  // Connects to `uri` (libpq URI or key=value syntax). A connect time-out and TCP keepalives are
  // set unless the URI says otherwise, so a database host that vanishes costs seconds, not the
  // kernel's minutes. Error text, without the password, on failure.
  static std::variant<Connection, std::string> open(const std::string& uri, const char* application_name);

  Connection() = default;
  bool ok() const noexcept { return c_ && PQstatus(c_.get()) == CONNECTION_OK; }
  PGconn* get() const noexcept { return c_.get(); }
  std::string error() const {
    if (!c_) return "not connected";
    std::string e = PQerrorMessage(c_.get());
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }

  Result exec(const char* sql) const { return Result(PQexec(c_.get(), sql)); }
  // Parameters as text (nullopt: SQL NULL); an unnamed statement.
  Result exec(const std::string& sql, const std::vector<std::optional<std::string>>& params) const;
  bool prepare(const char* name, const char* sql, std::string& error) const;
  Result run(const char* name, const std::vector<std::optional<std::string>>& params) const;

 private:
  explicit Connection(PGconn* c) : c_(c) {}
  std::unique_ptr<PGconn, ConnFree> c_;
};

}  // namespace cds::pg
