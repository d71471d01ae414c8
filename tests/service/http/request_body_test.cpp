// RequestBody, the body type the sessions read requests into: the same body as Beast's
// string_body for every way a body arrives (one piece, many small pieces, chunked), and the
// parser's body limit still stops a body that is too large before the reader sees it.
#include "cds/http/request_body.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <string>

namespace {

namespace http = boost::beast::http;
namespace net = boost::asio;

// Feeds `wire` to a parser `step` bytes at a time, as reads would; the body it read, or the error.
template <class Body>
std::string parse(const std::string& wire, std::size_t step, boost::beast::error_code& ec,
                  std::uint64_t body_limit = 1 << 20) {
  http::request_parser<Body> parser;
  parser.body_limit(body_limit);
  std::string pending;
  for (std::size_t at = 0; at < wire.size() && !parser.is_done();) {
    pending.append(wire, at, step);
    at += step;
    // Each put() takes what it can (the header alone, then body bytes); the rest waits for more.
    while (!pending.empty() && !parser.is_done()) {
      const std::size_t used = parser.put(net::buffer(pending), ec);
      if (ec == http::error::need_more) ec = {};
      if (ec) return {};
      pending.erase(0, used);
      if (used == 0) break;
    }
  }
  if (!parser.is_done()) ec = http::error::partial_message;
  return parser.get().body();
}

std::string some_body(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i * 7 % 26));
  return s;
}

TEST(RequestBody, ReadsWhatStringBodyReadsWithContentLength) {
  const std::string body = some_body(43190);
  const std::string wire = "POST /cds-services/x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
  for (std::size_t step : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{7}}) {
    boost::beast::error_code ec, ec_ref;
    // EXPECT_TRUE, not EXPECT_EQ: a failure would print 43 KB twice.
    EXPECT_TRUE(parse<cds::RequestBody>(wire, step, ec) == body) << step;
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(parse<http::string_body>(wire, step, ec_ref) == body) << step;
  }
}

TEST(RequestBody, ReadsAChunkedBody) {
  const std::string a = some_body(1000), b = some_body(17);
  const std::string wire = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + a + "\r\n11\r\n" + b +
                           "\r\n0\r\n\r\n";
  for (std::size_t step : {std::size_t{1} << 20, std::size_t{5}}) {
    boost::beast::error_code ec;
    EXPECT_TRUE(parse<cds::RequestBody>(wire, step, ec) == a + b) << step;
    EXPECT_FALSE(ec) << ec.message();
  }
}

TEST(RequestBody, TheParsersBodyLimitStillApplies) {
  const std::string body = some_body(2000);
  const std::string wire = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n" + body;
  boost::beast::error_code ec;
  parse<cds::RequestBody>(wire, 512, ec, 1000);
  EXPECT_EQ(ec, http::error::body_limit);
  const std::string chunked = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + body + "\r\n0\r\n\r\n";
  parse<cds::RequestBody>(chunked, 512, ec, 1000);
  EXPECT_EQ(ec, http::error::body_limit);
}

}  // namespace
