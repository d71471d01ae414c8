#pragma once
// Test harness for the fallback FHIR client:
//  - FhirTestServer: an HTTPS FHIR server on 127.0.0.1:0 (own io_context + thread, Beast, TLS
//    with the dev-certs script's server certificate) serving fixture resources for a patient:
//    GET /fhir/Patient/{id} and searchset paging (`_count`, absolute `next` links carrying
//    `_offset`) for /fhir/{Condition,Procedure,Observation}?patient=...; records every request
//    and counts accepted TCP connections; per-path modes (delay, error status, garbage body,
//    OperationOutcome body, `next` links to another origin). Keep-alive supported.
//  - lazily generated certificates (the trusted set and a second, unrelated CA);
//  - https_post / https_get: a minimal bounded HTTPS client for the CDS service.
// Every network wait is bounded; only 127.0.0.1 is ever used.
#include "fhir/json.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace fhirtest {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------
// Files and certificates.

inline fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Two certificate sets, generated on first use by the project's script and removed after the
// last test: set 0 is the one clients trust; set 1 is an unrelated CA (its server certificate
// is "untrusted" for a client given set 0's CA).
class FhirCertsEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(mutex_);
    for (auto& d : dirs_) {
      std::error_code ec;
      if (!d.empty()) fs::remove_all(d, ec);
      d.clear();
    }
  }
  static fs::path dir(int which) {
    std::lock_guard lock(mutex_);
    fs::path& d = dirs_[which];
    if (d.empty()) {
      fs::path fresh = make_temp_dir("cds-fhir-certs");
      const std::string cmd = "bash '" CDS_CERTS_SCRIPT "' '" + fresh.string() + "' >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0 || !fs::exists(fresh / "server.key") || !fs::exists(fresh / "ca.crt"))
        throw std::runtime_error("certificate script failed: " + cmd);
      d = fresh;
    }
    return d;
  }

 private:
  static inline std::mutex mutex_;
  static inline fs::path dirs_[2];
};

inline ::testing::Environment* const g_fhir_certs_environment =
    ::testing::AddGlobalTestEnvironment(new FhirCertsEnvironment);

inline fs::path certs() { return FhirCertsEnvironment::dir(0); }
inline fs::path other_certs() { return FhirCertsEnvironment::dir(1); }

// ---------------------------------------------------------------------------------------
// The FHIR server.

struct RecordedRequest {
  std::string method;
  std::string target;         // as sent: path and query
  std::string authorization;  // the Authorization header's value ("" when absent)
  std::string accept;
  std::string host;           // the Host header
  std::string sni;            // the TLS server name the client sent ("" when none)
  Clock::time_point at;       // when it had been read completely
};

// How the server answers on one path (e.g. "/fhir/Procedure"); the default is normal data.
struct PathMode {
  std::chrono::milliseconds delay{0};  // wait this long before answering
  unsigned status = 200;               // not 200: this status with an OperationOutcome body
  bool garbage = false;                // 200 with a body that is not JSON
  bool operation_outcome = false;      // 200 with an OperationOutcome instead of data
  std::string body;                    // set: 200 with this body instead of data
  std::string next_origin;             // set ("https://127.0.0.1:N"): `next` links point there
};

class FhirTestServer {
 public:
  // `cert_dir` holds server.crt/server.key; `page_size` is the searchset page size when the
  // request has no `_count`.
  explicit FhirTestServer(const fs::path& cert_dir = certs(), std::size_t page_size = 50)
      : page_size_(page_size), tls_(ssl::context::tls_server), acceptor_(ioc_) {
    tls_.use_certificate_chain_file((cert_dir / "server.crt").string());
    tls_.use_private_key_file((cert_dir / "server.key").string(), ssl::context::pem);
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, accept_loop(), net::detached);
    work_.emplace(ioc_.get_executor());
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~FhirTestServer() { stop(); }
  FhirTestServer(const FhirTestServer&) = delete;
  FhirTestServer& operator=(const FhirTestServer&) = delete;

  // Stops answering: open connections and pending delays are abandoned.
  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    ioc_.stop();
    thread_.join();
    beast::error_code ec;
    acceptor_.close(ec);
  }

  unsigned short port() const { return port_; }
  std::string origin() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string base() const { return origin() + "/fhir"; }

  // A Patient is readable by id; other resources are found by searching their type with
  // `patient=` (matched against subject/patient references), in the order added.
  void add(const json::value& resource) {
    std::lock_guard lock(mutex_);
    const json::object& r = resource.as_object();
    const std::string type(r.at("resourceType").as_string());
    if (type == "Patient") patients_[std::string(r.at("id").as_string())] = r;
    else by_type_[type].push_back(r);
  }
  // Every resource of a CDS Hooks prefetch object (resources and searchset Bundles).
  void add_prefetch(const json::object& prefetch) {
    for (const auto& kv : prefetch) {
      const json::object* o = kv.value().if_object();
      if (o == nullptr) continue;
      if (fhir::string_field(o, "resourceType") != "Bundle") {
        add(kv.value());
        continue;
      }
      if (const json::array* entries = fhir::array_field(o, "entry"))
        for (const auto& e : *entries) add(e.at("resource"));
    }
  }
  void set_mode(const std::string& path, PathMode mode) {
    std::lock_guard lock(mutex_);
    modes_[path] = std::move(mode);
  }
  void set_page_size(std::size_t n) {
    std::lock_guard lock(mutex_);
    page_size_ = n;
  }
  // How long a kept-alive connection may sit idle before the server closes it.
  void set_idle_timeout(std::chrono::milliseconds t) {
    std::lock_guard lock(mutex_);
    idle_timeout_ = t;
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> targets() const {
    std::vector<std::string> out;
    for (const auto& r : requests()) out.push_back(r.target);
    return out;
  }
  void clear_requests() {
    std::lock_guard lock(mutex_);
    requests_.clear();
  }
  std::size_t connections() const { return connections_.load(); }

 private:
  using Stream = ssl::stream<beast::tcp_stream>;
  using Response = http::response<http::string_body>;

  net::awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket(ioc_);
      try {
        co_await acceptor_.async_accept(socket, net::use_awaitable);
      } catch (const std::exception&) {
        co_return;  // closed
      }
      ++connections_;
      net::co_spawn(ioc_, session(std::move(socket)), net::detached);
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    Stream stream(std::move(socket), tls_);
    try {
      beast::get_lowest_layer(stream).expires_after(5s);
      co_await stream.async_handshake(ssl::stream_base::server, net::use_awaitable);
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        std::chrono::milliseconds idle;
        {
          std::lock_guard lock(mutex_);
          idle = idle_timeout_;
        }
        beast::get_lowest_layer(stream).expires_after(idle);
        co_await http::async_read(stream, buffer, req, net::use_awaitable);
        beast::get_lowest_layer(stream).expires_never();
        RecordedRequest rec{std::string(req.method_string()),
                            std::string(req.target()),
                            std::string(req[http::field::authorization]),
                            std::string(req[http::field::accept]),
                            std::string(req[http::field::host]),
                            sni ? std::string(sni) : std::string(),
                            Clock::now()};
        PathMode mode;
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(rec);
          auto path = rec.target.substr(0, rec.target.find('?'));
          for (const auto& [prefix, m] : modes_)
            if (path == prefix || path.starts_with(prefix + "/")) mode = m;
        }
        if (mode.delay > 0ms) {
          net::steady_timer timer(co_await net::this_coro::executor);
          timer.expires_after(mode.delay);
          co_await timer.async_wait(net::use_awaitable);
        }
        Response res = answer(req, mode);
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        beast::get_lowest_layer(stream).expires_after(5s);
        co_await http::async_write(stream, res, net::use_awaitable);
        if (!res.keep_alive()) break;
      }
      beast::get_lowest_layer(stream).expires_after(1s);
      co_await stream.async_shutdown(net::use_awaitable);
    } catch (const std::exception&) {
      // the peer left, a time-out, or a failed handshake: the connection just ends
    }
  }

  static json::object outcome(std::string_view code, std::string_view text) {
    return json::object{{"resourceType", "OperationOutcome"},
                        {"issue", json::array{json::object{{"severity", "error"}, {"code", code}, {"diagnostics", text}}}}};
  }

  static Response json_response(unsigned status, const json::value& body) {
    Response res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/fhir+json");
    res.body() = json::serialize(body);
    return res;
  }

  static bool refers_to(const json::object& r, const std::string& patient) {
    for (const char* field : {"subject", "patient"})
      if (fhir::string_field(fhir::object_field(&r, field), "reference") == "Patient/" + patient) return true;
    return false;
  }

  static std::string encode(std::string_view v) { return boost::urls::encode(v, boost::urls::unreserved_chars); }

  Response answer(const http::request<http::string_body>& req, const PathMode& mode) {
    if (mode.status != 200) {
      Response res = json_response(mode.status, outcome(mode.status == 401 ? "login" : "exception", "test mode"));
      if (mode.status == 401) res.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
      return res;
    }
    if (mode.garbage) {
      Response res{http::status::ok, 11};
      res.set(http::field::content_type, "application/fhir+json");
      res.body() = "<html>this is not JSON {";
      return res;
    }
    if (mode.operation_outcome) return json_response(200, outcome("processing", "test mode"));
    if (!mode.body.empty()) {
      Response res{http::status::ok, 11};
      res.set(http::field::content_type, "application/fhir+json");
      res.body() = mode.body;
      return res;
    }
    if (req.method() != http::verb::get) return json_response(405, outcome("not-supported", "GET only"));

    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) return json_response(400, outcome("invalid", "bad target"));
    std::vector<std::string> segs;
    for (auto s : url->segments()) segs.push_back(s);
    if (segs.size() < 2 || segs[0] != "fhir") return json_response(404, outcome("not-found", "unknown path"));

    std::lock_guard lock(mutex_);
    if (segs.size() == 3) {  // read
      if (segs[1] != "Patient") return json_response(404, outcome("not-found", "unknown resource"));
      auto it = patients_.find(segs[2]);
      if (it == patients_.end()) return json_response(404, outcome("not-found", "no such patient"));
      return json_response(200, it->second);
    }
    if (segs.size() != 2) return json_response(404, outcome("not-found", "unknown path"));
    // search
    const std::string& type = segs[1];
    std::optional<std::string> patient;
    std::size_t count = page_size_, offset = 0;
    for (auto p : url->params()) {
      if (p.key == "patient") patient = std::string(p.value);
      else if (p.key == "_count") count = std::stoul(std::string(p.value));
      else if (p.key == "_offset") offset = std::stoul(std::string(p.value));
    }
    if (!patient) return json_response(400, outcome("required", "patient is required"));
    std::vector<const json::object*> matches;
    if (auto it = by_type_.find(type); it != by_type_.end())
      for (const auto& r : it->second)
        if (refers_to(r, *patient)) matches.push_back(&r);
    const std::string path = "/fhir/" + type;
    auto page_url = [&](const std::string& origin, std::size_t off) {
      return origin + path + "?patient=" + encode(*patient) + "&_count=" + std::to_string(count) +
             "&_offset=" + std::to_string(off);
    };
    json::array links{json::object{{"relation", "self"}, {"url", origin() + std::string(req.target())}}};
    if (count > 0 && offset + count < matches.size())
      links.push_back(json::object{{"relation", "next"},
                                   {"url", page_url(mode.next_origin.empty() ? origin() : mode.next_origin, offset + count)}});
    json::array entries;
    for (std::size_t i = offset; i < matches.size() && i < offset + count; ++i)
      entries.push_back(json::object{
          {"fullUrl", origin() + path + "/" + std::string(fhir::string_field(matches[i], "id"))},
          {"resource", *matches[i]},
          {"search", json::object{{"mode", "match"}}}});
    json::object bundle{{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", matches.size()}, {"link", links}};
    if (!entries.empty()) bundle["entry"] = std::move(entries);
    return json_response(200, bundle);
  }

  mutable std::mutex mutex_;
  std::size_t page_size_;
  std::chrono::milliseconds idle_timeout_{10'000};
  std::map<std::string, json::object> patients_;
  std::map<std::string, std::vector<json::object>> by_type_;
  std::map<std::string, PathMode> modes_;
  std::vector<RecordedRequest> requests_;
  std::atomic<std::size_t> connections_{0};
  ssl::context tls_;
  net::io_context ioc_;  // after everything its handlers use: destroyed first
  tcp::acceptor acceptor_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  unsigned short port_ = 0;
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound, then released).
inline unsigned short closed_port() {
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// ---------------------------------------------------------------------------------------
// A minimal HTTPS client for the CDS service: one request per connection, everything bounded.

struct HttpsResult {
  beast::error_code ec;  // transport failure (then `response` is empty)
  http::response<http::string_body> response;
  std::chrono::milliseconds elapsed{0};  // from before connecting to the complete response
};

namespace detail {
inline net::awaitable<void> exchange(ssl::context* ctx, unsigned short port, http::request<http::string_body>* req,
                                     std::chrono::milliseconds timeout, HttpsResult* out) {
  auto ex = co_await net::this_coro::executor;
  ssl::stream<beast::tcp_stream> stream(ex, *ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await beast::get_lowest_layer(stream).async_connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
                                                        net::use_awaitable);
  co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
  co_await http::async_write(stream, *req, net::use_awaitable);
  beast::flat_buffer buffer;
  co_await http::async_read(stream, buffer, out->response, net::use_awaitable);
}
}  // namespace detail

inline HttpsResult https_request(unsigned short port, http::verb method, const std::string& target, std::string body,
                                 const fs::path& ca_file, std::chrono::milliseconds timeout = 5s) {
  HttpsResult out;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.load_verify_file(ca_file.string());
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::user_agent, "cds-fhir-test");
  req.keep_alive(false);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  bool done = false;
  const auto start = Clock::now();
  net::io_context ioc;
  net::co_spawn(ioc, detail::exchange(&ctx, port, &req, timeout, &out), [&](std::exception_ptr e) {
    done = true;
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const beast::system_error& se) {
      out.ec = se.code();
    } catch (...) {
      out.ec = net::error::fault;
    }
  });
  ioc.run_for(timeout + 2s);  // the stream's expiry ends it first; this is a second bound
  if (!done) out.ec = beast::error::timeout;
  return out;
}

inline HttpsResult https_post(unsigned short port, const std::string& target, std::string body, const fs::path& ca_file,
                              std::chrono::milliseconds timeout = 5s) {
  return https_request(port, http::verb::post, target, std::move(body), ca_file, timeout);
}

}  // namespace fhirtest
