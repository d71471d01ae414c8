#include "cds/https_get.hpp"

#include "cds/http_url.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <boost/url/parse.hpp>

namespace cds {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

net::awaitable<void> fetch(ssl::context& ctx, std::string host, std::string port, std::string target,
                           const HttpsGetOptions& options, std::optional<std::string>& out) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  ssl::stream<beast::tcp_stream> stream(executor, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) co_return;
  stream.set_verify_callback(ssl::host_name_verification(host));
  auto endpoints = co_await resolver.async_resolve(host, port, net::use_awaitable);
  co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::use_awaitable);
  co_await stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::accept, options.accept);
  req.set(http::field::user_agent, "cds-knee-oa");
  co_await http::async_write(stream, req, net::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body);
  co_await http::async_read(stream, buffer, parser, net::use_awaitable);
  // Redirects are not followed: a JWKS must be served where it was configured.
  if (parser.get().result() == http::status::ok) out = std::move(parser.get().body());
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

std::optional<std::string> https_get(const std::string& url, const HttpsGetOptions& options) {
  auto u = parse_http_url(url);
  if (!u || u->scheme() != "https") return std::nullopt;
  std::string host(u->host_address());
  std::string port = u->has_port() ? std::string(u->port()) : "443";
  std::string target(u->encoded_path().empty() ? "/" : std::string_view(u->encoded_path()));
  if (u->has_query()) target += "?" + std::string(u->encoded_query());

  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  if (options.ca_file.empty()) ctx.set_default_verify_paths(ec);
  else ctx.load_verify_file(options.ca_file, ec);
  if (ec) return std::nullopt;

  std::optional<std::string> out;  // outlives the io_context, which may hold the coroutine frame
  net::io_context ioc;
  net::co_spawn(ioc, fetch(ctx, host, port, target, options, out), [](std::exception_ptr) {});
  // The deadline covers resolve, connect, handshake, write and read together.
  ioc.run_for(options.timeout);
  if (!ioc.stopped()) {
    ioc.stop();
    return std::nullopt;
  }
  return out;
}

}  // namespace cds
