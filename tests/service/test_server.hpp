#pragma once
// Integration-test harness: the real cds::Server in-process on an ephemeral loopback port
// (TLS with a CA + server certificate generated once per test binary run), a small Beast
// HTTPS/HTTP client whose every network operation is bounded by a time-out, fixture loading
// and a read-only view of the audit SQLite file.
#include "cds/log.hpp"
#include "cds/http/server.hpp"
#include "fhir/json.hpp"
#include "temp_dir.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace cdstest {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Response = http::response<http::string_body>;
using Request = http::request<http::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------------------
// The once-per-run certificates (temporary directories: temp_dir.hpp).

// Generates a fresh development CA + server certificate into a temp dir before the first test
// and removes it after the last one.
class CertsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    cds::set_log_level(cds::LogLevel::error);  // keep test output readable
    dir_ = make_temp_dir("cds-it-certs");
    const std::string cmd = "bash '" CDS_CERTS_SCRIPT "' '" + dir_.string() + "' >/dev/null 2>&1";
    const int rc = std::system(cmd.c_str());
    ASSERT_EQ(rc, 0) << "certificate script failed: " << cmd;
    for (const char* f : {"ca.crt", "server.crt", "server.key"})
      ASSERT_TRUE(fs::exists(dir_ / f)) << "certificate script did not create " << f;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  static const fs::path& dir() { return dir_; }

 private:
  static inline fs::path dir_;
};

inline ::testing::Environment* const g_certs_environment =
    ::testing::AddGlobalTestEnvironment(new CertsEnvironment);

inline fs::path certs_dir() {
  if (CertsEnvironment::dir().empty()) throw std::runtime_error("certificates were not generated");
  return CertsEnvironment::dir();
}

// ---------------------------------------------------------------------------------------
// Fixtures and JSON.

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A request fixture from tests/fixtures/requests/, e.g. "01-amniotic-fluid-order-sign-type3".
inline std::string fixture_request(const std::string& name) {
  return read_file(fs::path(CDS_FIXTURES_DIR) / "requests" / (name + ".json"));
}
inline json::value fixture_expected(const std::string& name) {
  return json::parse(read_file(fs::path(CDS_FIXTURES_DIR) / "expected" / (name + ".json")));
}

inline constexpr const char* kFixture01 = "01-amniotic-fluid-order-sign-type3";
inline constexpr const char* kFixture01HookInstance = "0773c595-5af5-5f54-956c-36887bf1c24e";
inline constexpr const char* kSignService = "/cds-services/knee-oa-order-sign";

// Parses a response body; an unparsable body is a test failure (returns null).
inline json::value parse_json(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) ADD_FAILURE() << "response body is not JSON: " << ec.message() << "\n" << body;
  return v;
}

// ---------------------------------------------------------------------------------------
// The server under test.

class TestServer {
 public:
  using Tweak = std::function<void(cds::Config&)>;

  // Starts cds::Server on 127.0.0.1:0 with TLS (unless the tweak turns it off), the real rule
  // data and a fresh audit file. Throws with the server's own error text on failure.
  explicit TestServer(const Tweak& tweak = {}) : dir_(make_temp_dir("cds-it-server")) {
    config_.listen_host = "127.0.0.1";
    config_.listen_port = 0;
    config_.threads = 2;
    config_.tls_enabled = true;
    config_.tls_cert = certs_dir() / "server.crt";
    config_.tls_key = certs_dir() / "server.key";
    config_.rules_dir = CDS_RULES_DIR;
    config_.audit_db = dir_ / "audit.db";
    // These suites test HTTP behaviour, not authentication (see authenticator_test.cpp).
    config_.auth.enabled = false;
    // Generous defaults so no time-out fires by accident; tests that need one shorten it.
    config_.limits.header_timeout = 5s;
    config_.limits.body_timeout = 5s;
    config_.limits.idle_timeout = 10s;
    if (tweak) tweak(config_);
    auto created = cds::Server::create(config_);
    if (auto* err = std::get_if<std::string>(&created)) {
      cleanup();
      throw std::runtime_error("cds::Server::create failed: " + *err);
    }
    server_ = std::get<std::unique_ptr<cds::Server>>(std::move(created));
    port_ = server_->port();
    server_->start();
  }
  ~TestServer() {
    stop();
    cleanup();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // What SIGHUP does: reload rules, JWKS files and the TLS certificate.
  std::string reload() { return server_->reload(); }
  void stop() {
    if (server_) {
      server_->stop();
      server_.reset();
    }
  }
  unsigned short port() const { return port_; }
  bool tls() const { return config_.tls_enabled; }
  const cds::Config& config() const { return config_; }
  const fs::path& audit_db() const { return config_.audit_db; }

 private:
  void cleanup() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  cds::Config config_;
  std::unique_ptr<cds::Server> server_;
  unsigned short port_ = 0;
};

// ---------------------------------------------------------------------------------------
// The client. Every operation runs asynchronously on the client's own io_context with the
// tcp_stream's expiry armed, and the io_context itself is run for a bounded time, so no test can
// hang on the network.

struct ReadResult {
  beast::error_code ec;
  Response response;
};

class Client {
 public:
  enum class Mode {
    tls,       // TCP + TLS handshake (CA verified, certificate checked for 127.0.0.1)
    plain,     // TCP only, HTTP in the clear
    tcp_only,  // TCP connected to a TLS port, no handshake (to test stalled handshakes)
  };

  Client(unsigned short port, Mode mode, std::chrono::milliseconds timeout = 5s)
      : port_(port), mode_(mode), timeout_(timeout), tls_ctx_(ssl::context::tls_client) {
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), port};
    beast::tcp_stream stream(ioc_);
    stream.expires_after(timeout_);
    beast::error_code ec = run([&](auto handler) { stream.async_connect(ep, std::move(handler)); }, stream);
    if (ec) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message());
    if (mode_ != Mode::tls) {
      plain_.emplace(std::move(stream));
      return;
    }
    tls_ctx_.set_verify_mode(ssl::verify_peer);
    tls_ctx_.load_verify_file((certs_dir() / "ca.crt").string());
    tls_.emplace(std::move(stream), tls_ctx_);
    // The server certificate must be valid for the address we dialled (its SAN has IP:127.0.0.1).
    // No SNI: RFC 6066 does not allow IP literals there.
    tls_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    lowest().expires_after(timeout_);
    ec = run([&](auto handler) { tls_->async_handshake(ssl::stream_base::client, std::move(handler)); }, lowest());
    if (ec) throw std::runtime_error("TLS handshake failed: " + ec.message());
  }

  // For servers started by TestServer: TLS or plain as the server is configured.
  explicit Client(const TestServer& server, std::chrono::milliseconds timeout = 5s)
      : Client(server.port(), server.tls() ? Mode::tls : Mode::plain, timeout) {}

  Request make_request(http::verb method, std::string_view target, std::string body = {},
                       const Headers& headers = {}, unsigned version = 11) const {
    Request req{method, target, version};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    req.set(http::field::user_agent, "cds-integration-test");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) {  // an empty value removes the header
      if (value.empty()) req.erase(name);
      else req.set(name, value);
    }
    req.body() = std::move(body);
    if (method == http::verb::post || !req.body().empty()) req.prepare_payload();
    return req;
  }

  // Sends one request and reads its response; a network error throws (a test failure).
  Response send(const Request& req) {
    write(req);
    ReadResult r = read_response();
    if (r.ec) throw std::runtime_error("reading the response to " + std::string(req.target()) + " failed: " + r.ec.message());
    return std::move(r.response);
  }

  Response request(http::verb method, std::string_view target, std::string body = {}, const Headers& headers = {},
                   unsigned version = 11) {
    return send(make_request(method, target, std::move(body), headers, version));
  }
  Response get(std::string_view target, const Headers& headers = {}) { return request(http::verb::get, target, {}, headers); }
  Response post(std::string_view target, std::string body, const Headers& headers = {}) {
    return request(http::verb::post, target, std::move(body), headers);
  }

  void write(const Request& req) {
    beast::error_code ec = with_stream([&](auto& s) {
      lowest().expires_after(timeout_);
      return run([&](auto handler) { http::async_write(s, req, std::move(handler)); }, lowest());
    });
    if (ec) throw std::runtime_error("writing the request failed: " + ec.message());
  }

  // Writes bytes as they are (malformed or partial requests). Returns the error, if any.
  beast::error_code write_raw(std::string_view bytes) {
    return with_stream([&](auto& s) {
      lowest().expires_after(timeout_);
      return run([&](auto handler) { net::async_write(s, net::buffer(bytes.data(), bytes.size()), std::move(handler)); },
                 lowest());
    });
  }

  ReadResult read_response() {
    ReadResult r;
    r.ec = with_stream([&](auto& s) {
      lowest().expires_after(timeout_);
      return run([&](auto handler) { http::async_read(s, buffer_, r.response, std::move(handler)); }, lowest());
    });
    note_read_error(r.ec);
    return r;
  }

  // Reads (and discards) until the server closes the connection or `bound` passes. Returns the
  // error that ended the read: eof / stream_truncated / reset when the server closed it,
  // beast::error::timeout when it was still open after `bound`. `received` gets any bytes read.
  beast::error_code wait_closed(std::chrono::milliseconds bound, std::string* received = nullptr) {
    // Asio (edge-triggered epoll) does not report an end of stream twice: remember the first.
    if (ended_) return ended_;
    const auto deadline = Clock::now() + bound;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return beast::error::timeout;
      char chunk[4096];
      std::size_t n = 0;
      beast::error_code ec = with_stream([&](auto& s) {
        lowest().expires_after(left);
        return run(
            [&](auto handler) {
              s.async_read_some(net::buffer(chunk), [&n, h = std::move(handler)](beast::error_code e, std::size_t k) mutable {
                n = k;
                h(e, k);
              });
            },
            lowest());
      });
      if (received) received->append(chunk, n);
      note_read_error(ec);
      if (ec) return ec;
    }
  }

  // The client-side address of this connection: equal across requests means the same socket.
  tcp::endpoint local_endpoint() { return lowest().socket().local_endpoint(); }
  bool is_open() { return lowest().socket().is_open(); }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void note_read_error(const beast::error_code& ec) {
    if (ec == net::error::eof || ec == http::error::end_of_stream || ec == ssl::error::stream_truncated ||
        ec == net::error::connection_reset)
      ended_ = ec;
  }

  template <class F>
  beast::error_code with_stream(F&& f) {
    if (tls_) return f(*tls_);
    return f(*plain_);
  }

  // Starts one asynchronous operation and runs the io_context until it completes. The stream's
  // expiry (armed by the caller) ends it on time; the run_for bound is a second safety net.
  template <class Start>
  beast::error_code run(Start&& start, beast::tcp_stream& stream) {
    bool done = false;
    beast::error_code result;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    const auto deadline = Clock::now() + timeout_ + 5s;
    while (!done && Clock::now() < deadline) ioc_.run_one_for(100ms);
    if (!done) {  // should be unreachable: the stream's own expiry fires first
      stream.cancel();
      stream.close();
      ioc_.restart();
      ioc_.run_for(1s);
      if (!done) throw std::runtime_error("client operation did not finish");
      return beast::error::timeout;
    }
    return result;
  }

  unsigned short port_;
  Mode mode_;
  std::chrono::milliseconds timeout_;
  net::io_context ioc_;
  ssl::context tls_ctx_;
  std::optional<ssl::stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
  beast::error_code ended_;  // how the peer ended the connection, once it did
};

// True for the errors a read reports when the peer closed the connection (as opposed to our own
// time-out).
inline bool closed_by_peer(const beast::error_code& ec) {
  return ec && ec != beast::error::timeout && ec != net::error::operation_aborted;
}

// Checks {"error":{"status":N,"message":"..."}} and returns the message.
inline std::string error_message(const Response& res, unsigned status) {
  EXPECT_EQ(res.result_int(), status) << res.body();
  EXPECT_EQ(res[http::field::content_type], "application/json");
  json::value v = parse_json(res.body());
  const json::object* root = v.if_object();
  if (!root || root->size() != 1 || !root->contains("error") || !root->at("error").is_object()) {
    ADD_FAILURE() << "not an error document: " << res.body();
    return {};
  }
  const json::object& e = root->at("error").get_object();
  EXPECT_EQ(e.size(), 2u) << res.body();
  const json::value* st = e.if_contains("status");
  EXPECT_TRUE(st && st->is_number() && st->to_number<std::int64_t>() == static_cast<std::int64_t>(status)) << res.body();
  const json::value* msg = e.if_contains("message");
  if (!msg || !msg->is_string() || msg->get_string().empty()) {
    ADD_FAILURE() << "error without a message: " << res.body();
    return {};
  }
  return std::string(msg->get_string());
}

// A fixture request body with one change applied to its JSON.
inline std::string edited_fixture(const std::string& name, const std::function<void(json::object&)>& edit) {
  json::value v = json::parse(fixture_request(name));
  edit(v.as_object());
  return json::serialize(v);
}

// ---------------------------------------------------------------------------------------
// The audit file, read-only, opened after responses have arrived.

class AuditDb {
 public:
  explicit AuditDb(const fs::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open audit db " + file.string() + ": " + err);
    }
    sqlite3_busy_timeout(db_, 2000);
  }
  ~AuditDb() { sqlite3_close(db_); }
  AuditDb(const AuditDb&) = delete;
  AuditDb& operator=(const AuditDb&) = delete;

  using Row = std::vector<std::string>;  // NULL reads as ""
  std::vector<Row> rows(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error("audit query failed: " + std::string(sqlite3_errmsg(db_)) + ": " + sql);
    std::vector<Row> out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Row r;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        r.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(r));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) throw std::runtime_error("audit query failed: " + std::string(sqlite3_errmsg(db_)));
    return out;
  }
  long long count(const std::string& table_and_where) {
    auto r = rows("SELECT COUNT(*) FROM " + table_and_where);
    return std::stoll(r.at(0).at(0));
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace cdstest
