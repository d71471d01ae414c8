#include "cds/hooks/fhir_client.hpp"

#include "cds/http/url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <map>
#include <mutex>

namespace cds {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Stream = ssl::stream<beast::tcp_stream>;

namespace {

struct Origin {
  std::string host, port;
  std::string authority;  // the Host header: host[:port] as in the URL
  std::string key() const { return host + ":" + port; }
};

struct Target {
  Origin origin;
  std::string target;  // path and query
};

std::optional<Target> split(const std::string& url) {
  auto u = parse_http_url(url);
  if (!u || u->scheme() != "https") return std::nullopt;
  Target t;
  t.origin.host = std::string(u->host_address());
  t.origin.port = u->has_port() ? std::string(u->port()) : "443";
  t.origin.authority = std::string(u->encoded_host_and_port());
  t.target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) t.target += "?" + std::string(u->encoded_query());
  return t;
}

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string error;       // transport failure
  bool too_large = false;  // the body passed the limit it was read with
};

}  // namespace

struct FhirClient::Impl : std::enable_shared_from_this<FhirClient::Impl> {
  net::any_io_executor executor;
  FhirClientOptions options;
  ssl::context tls{ssl::context::tls_client};
  std::once_flag trust_loaded;
  std::mutex pool_mutex;
  std::map<std::string, std::vector<std::unique_ptr<Stream>>> idle;  // by origin

  Impl(net::any_io_executor ex, FhirClientOptions o) : executor(std::move(ex)), options(std::move(o)) {
    tls.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  }

  // The trust store is read on first use, not at start-up: parsing the system bundle takes
  // tens of milliseconds, and many deployments always send prefetch and never fetch.
  void load_trust() {
    std::call_once(trust_loaded, [this] {
      beast::error_code ec;
      if (options.ca_file.empty()) tls.set_default_verify_paths(ec);
      else tls.load_verify_file(options.ca_file, ec);
    });
  }

  std::unique_ptr<Stream> take(const Origin& o) {
    std::lock_guard lock(pool_mutex);
    auto& list = idle[o.key()];
    if (list.empty()) return nullptr;
    auto s = std::move(list.back());
    list.pop_back();
    return s;
  }
  void give_back(const Origin& o, std::unique_ptr<Stream> s) {
    std::lock_guard lock(pool_mutex);
    auto& list = idle[o.key()];
    if (list.size() < options.max_idle_per_origin) list.push_back(std::move(s));
  }

  net::awaitable<std::unique_ptr<Stream>> connect(const Origin& o, std::chrono::steady_clock::time_point deadline) {
    load_trust();
    auto s = std::make_unique<Stream>(net::make_strand(executor), tls);
    // SNI only for a DNS name: RFC 6066 §3 does not allow an IP literal there.
    beast::error_code not_ip;
    net::ip::make_address(o.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(s->native_handle(), o.host.c_str()))
      throw beast::system_error(net::error::invalid_argument);
    s->set_verify_callback(ssl::host_name_verification(o.host));
    tcp::resolver resolver(s->get_executor());
    auto endpoints = co_await resolver.async_resolve(o.host, o.port, net::use_awaitable);
    beast::get_lowest_layer(*s).expires_at(deadline);
    co_await beast::get_lowest_layer(*s).async_connect(endpoints, net::use_awaitable);
    co_await s->async_handshake(ssl::stream_base::client, net::use_awaitable);
    co_return s;
  }

  // One GET on a pooled or new connection. A pooled connection the server has closed fails
  // at once; that attempt is retried on a fresh connection.
  net::awaitable<Reply> get(const Target& t, const std::string& bearer, std::size_t body_limit,
                            std::chrono::steady_clock::time_point deadline) {
    Reply reply;
    for (int attempt = 0; attempt < 2; ++attempt) {
      reply = Reply{};  // a retry that succeeds must not carry the failed attempt's error
      std::unique_ptr<Stream> s = attempt == 0 ? take(t.origin) : nullptr;
      const bool reused = s != nullptr;
      try {
        if (!s) s = co_await connect(t.origin, deadline);
        beast::get_lowest_layer(*s).expires_at(deadline);
        http::request<http::empty_body> req{http::verb::get, t.target, 11};
        req.set(http::field::host, t.origin.authority);
        req.set(http::field::accept, options.accept);
        if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
        req.set(http::field::user_agent, "cds-knee-oa");
        req.keep_alive(true);
        co_await http::async_write(*s, req, net::use_awaitable);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        co_await http::async_read(*s, buffer, parser, net::use_awaitable);
        auto& res = parser.get();
        reply.status = res.result_int();
        reply.body = std::move(res.body());
        if (res.keep_alive()) give_back(t.origin, std::move(s));
        co_return reply;
      } catch (const beast::system_error& e) {
        reply.too_large = e.code() == http::error::body_limit;
        reply.error = e.code() == beast::error::timeout ? "timeout"
                      : reply.too_large                 ? "response over " + std::to_string(body_limit) + " bytes"
                                                        : e.code().message();
        if (reply.too_large) co_return reply;  // a fresh connection would get the same body
        if (!reused || e.code() == beast::error::timeout) co_return reply;
      }
    }
    co_return reply;
  }

  net::awaitable<FhirResult> run_query(FhirQuery q, std::string bearer, std::chrono::steady_clock::time_point deadline) {
    FhirResult result;
    result.key = q.key;
    auto first = split(q.url);
    if (!first) {
      result.failure = "not an https URL";
      co_return result;
    }
    const std::string origin = first->origin.key();
    std::optional<Target> next = std::move(first);
    json::array entries;
    json::value single;
    bool is_bundle = false;
    std::size_t bytes_left = options.max_response_bytes, pages = 0;
    // Paging ends at the last page, or early (result.truncated says why) at a cap or at a next
    // link we will not follow.
    while (next) {
      Reply r = co_await get(*next, bearer, bytes_left, deadline);
      ++pages;
      next.reset();
      if (r.too_large && is_bundle) {
        result.truncated = "the size cap";
        break;
      }
      if (!r.error.empty()) {
        result.failure = r.error;
        co_return result;
      }
      if (r.status != 200) {
        result.failure = "HTTP " + std::to_string(r.status);
        co_return result;
      }
      bytes_left -= r.body.size();
      boost::system::error_code ec;
      json::value doc = json::parse(r.body, ec);
      const json::object* o = doc.if_object();
      if (ec || o == nullptr) {
        result.failure = "invalid JSON";
        co_return result;
      }
      const auto type = fhir::string_field(o, "resourceType");
      if (type == "OperationOutcome") {
        result.failure = "OperationOutcome";
        co_return result;
      }
      if (type != "Bundle") {
        if (is_bundle) {  // a next link that led to something other than a page
          result.failure = "a " + (type.empty() ? std::string("JSON object") : std::string(type)) + " as a searchset page";
          co_return result;
        }
        single = std::move(doc);
        break;
      }
      is_bundle = true;
      if (const json::array* page = fhir::array_field(o, "entry"))
        for (const json::value& e : *page) {
          if (entries.size() >= options.max_resources) {
            result.truncated = "the resource cap";
            break;
          }
          entries.push_back(e);
        }
      std::string_view next_url;
      if (const json::array* links = fhir::array_field(o, "link"))
        for (const json::value& l : *links)
          if (fhir::string_field(l.if_object(), "relation") == "next") next_url = fhir::string_field(l.if_object(), "url");
      if (next_url.empty() || !result.truncated.empty()) break;
      auto n = split(std::string(next_url));
      // Paging stays on the server we were sent to: a next link elsewhere is not followed
      // (SSRF, and the token must not leave that origin).
      if (!n || n->origin.key() != origin) {
        result.truncated = "a next link to another origin";
        break;
      }
      // The resource cap bounds pages that add entries; this bounds the ones that do not.
      if (pages >= options.max_pages) {
        result.truncated = "the page cap";
        break;
      }
      next = std::move(n);
    }
    if (is_bundle)
      result.value = json::object{{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", entries.size()},
                                  {"entry", std::move(entries)}};
    else
      result.value = std::move(single);
    co_return result;
  }
};

namespace {

// Collects the results of one fetch; finishes once, at the last result or the deadline.
struct Batch : std::enable_shared_from_this<Batch> {
  Batch(net::any_io_executor ex, std::size_t n, FhirClient::Done d)
      : strand(net::make_strand(ex)), timer(strand), results(n), pending(n), done(std::move(d)) {}
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  std::vector<FhirResult> results;
  std::size_t pending;
  bool finished = false;
  FhirClient::Done done;

  void finish() {
    if (finished) return;
    finished = true;
    timer.cancel();
    for (auto& r : results)
      if (!r.value && r.failure.empty()) r.failure = "timeout";
    done(std::move(results));
  }
};

}  // namespace

FhirClient::FhirClient(net::any_io_executor executor, FhirClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

FhirClient::~FhirClient() = default;

void FhirClient::fetch(std::vector<FhirQuery> queries, std::string bearer, std::chrono::steady_clock::time_point deadline,
                       Done done) {
  auto batch = std::make_shared<Batch>(impl_->executor, queries.size(), std::move(done));
  net::dispatch(batch->strand, [batch, queries = std::move(queries), bearer = std::move(bearer), deadline,
                                impl = impl_]() mutable {
    if (queries.empty()) return batch->finish();
    for (std::size_t i = 0; i < queries.size(); ++i) batch->results[i].key = queries[i].key;
    batch->timer.expires_at(deadline);
    batch->timer.async_wait([batch](beast::error_code ec) {
      if (!ec) batch->finish();
    });
    for (std::size_t i = 0; i < queries.size(); ++i) {
      net::co_spawn(batch->strand, impl->run_query(std::move(queries[i]), bearer, deadline),
                    [batch, i](std::exception_ptr e, FhirResult r) {
                      if (batch->finished) return;
                      if (e) {
                        r.key = batch->results[i].key;
                        r.failure = "connection failed";
                      }
                      batch->results[i] = std::move(r);
                      if (--batch->pending == 0) batch->finish();
                    });
    }
  });
}

}  // namespace cds
