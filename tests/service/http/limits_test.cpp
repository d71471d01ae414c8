// Size limits (413, 431) and time-outs (handshake, header, body, idle keep-alive): the server
// refuses or drops the connection on time and keeps serving others.
#include "test_server.hpp"

#include <gmock/gmock.h>

#include <thread>

namespace cdstest {
namespace {

constexpr std::size_t kSmallBody = 1024;

std::string header_block(const std::string& extra) {
  return std::string("POST ") + kSignService + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         extra + "\r\n";
}

// A JSON object of exactly `size` bytes that fails validation for a reason other than size.
std::string json_of_size(std::size_t size) {
  std::string head = R"({"hook":"order-sign","pad":")";
  std::string tail = R"("})";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

// cds_connections_timed_out_total from /metrics.
std::uint64_t timed_out_total(Client& client) {
  const std::string text = client.get("/metrics").body();
  const std::string name = "\ncds_connections_timed_out_total ";
  const auto at = text.find(name);
  if (at == std::string::npos) {
    ADD_FAILURE() << "cds_connections_timed_out_total missing from /metrics";
    return 0;
  }
  return std::stoull(text.substr(at + name.size()));
}

void expect_still_serving(const TestServer& server) {
  Client fresh(server);
  EXPECT_EQ(fresh.get("/healthz").result_int(), 200) << "the server stopped serving new connections";
}

TEST(Limits, DeclaredOversizeBodyIs413BeforeTheBodyIsSent) {
  TestServer server([](cds::Config& c) { c.limits.max_body_bytes = kSmallBody; });
  Client client(server);
  // Only the header: a server that waited for the 10 MB body would time out instead of answering.
  ASSERT_FALSE(client.write_raw(header_block("Content-Length: 10485760\r\n")));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_THAT(error_message(r.response, 413), ::testing::HasSubstr("exceeds the limit of 1024"));
  EXPECT_EQ(r.response[http::field::connection], "close");
  EXPECT_TRUE(closed_by_peer(client.wait_closed(3s))) << "connection left open after 413";
  expect_still_serving(server);
}

TEST(Limits, ExpectContinueWithOversizeBodyGets413NotContinue) {
  TestServer server([](cds::Config& c) { c.limits.max_body_bytes = kSmallBody; });
  Client client(server);
  ASSERT_FALSE(client.write_raw(header_block("Content-Length: 2048\r\nExpect: 100-continue\r\n")));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_THAT(error_message(r.response, 413), ::testing::HasSubstr("exceeds the limit of 1024"));
  EXPECT_EQ(r.response[http::field::connection], "close");
}

TEST(Limits, ExpectContinueWithinTheLimitGets100ThenTheAnswer) {
  TestServer server;
  Client client(server);
  const std::string body = fixture_request("12-knee-xray-only");
  ASSERT_FALSE(client.write_raw(header_block("Content-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n")));
  // The interim 100 response arrives before the body is sent; Beast reads it as a bodiless message.
  ReadResult cont = client.read_response();
  ASSERT_FALSE(cont.ec) << cont.ec.message();
  EXPECT_EQ(cont.response.result_int(), 100);
  ASSERT_FALSE(client.write_raw(body));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.response.result_int(), 200) << r.response.body();
}

TEST(Limits, ChunkedBodyGrowingOverTheLimitIs413) {
  TestServer server([](cds::Config& c) { c.limits.max_body_bytes = kSmallBody; });
  Client client(server);
  std::string raw = header_block("Transfer-Encoding: chunked\r\n");
  for (int i = 0; i < 4; ++i) raw += "190\r\n" + std::string(0x190, ' ') + "\r\n";  // 4 x 400 bytes
  raw += "0\r\n\r\n";
  ASSERT_FALSE(client.write_raw(raw));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(error_message(r.response, 413), "request body exceeds the limit of 1024 bytes");
  EXPECT_EQ(r.response[http::field::connection], "close");
  expect_still_serving(server);
}

TEST(Limits, ChunkedBodyWithinTheLimitIsAccepted) {
  TestServer server([](cds::Config& c) { c.limits.max_body_bytes = kSmallBody; });
  Client client(server);
  const std::string body = json_of_size(600);
  std::string raw = header_block("Transfer-Encoding: chunked\r\n");
  raw += "12c\r\n" + body.substr(0, 300) + "\r\n" + "12c\r\n" + body.substr(300) + "\r\n0\r\n\r\n";
  ASSERT_FALSE(client.write_raw(raw));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(error_message(r.response, 400), "missing required field 'hookInstance'");
}

TEST(Limits, BodyExactlyAtTheLimitIsReadOneByteMoreIs413) {
  TestServer server([](cds::Config& c) { c.limits.max_body_bytes = kSmallBody; });
  Client client(server);
  Response at = client.post(kSignService, json_of_size(kSmallBody));
  EXPECT_EQ(error_message(at, 400), "missing required field 'hookInstance'");
  Response over = client.post(kSignService, json_of_size(kSmallBody + 1));
  EXPECT_THAT(error_message(over, 413), ::testing::HasSubstr("exceeds the limit of 1024"));
}

TEST(Limits, OversizeHeadersAre431) {
  TestServer server;  // default limit: 16 KiB of headers
  ASSERT_EQ(server.config().limits.max_header_bytes, 16u * 1024);
  Client client(server);
  ASSERT_FALSE(client.write_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + std::string(20000, 'a') +
                                "\r\n\r\n"));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(error_message(r.response, 431), "request headers are too large");
  EXPECT_EQ(r.response[http::field::connection], "close");
  expect_still_serving(server);
  // Headers under the limit are fine.
  Client ok(server);
  EXPECT_EQ(ok.get("/healthz", {{"X-Filler", std::string(8000, 'a')}}).result_int(), 200);
}

TEST(Limits, RequestStalledMidHeadersIsClosedAfterTheHeaderTimeout) {
  TestServer server([](cds::Config& c) {
    c.limits.header_timeout = 300ms;
    c.limits.idle_timeout = 10s;  // so that only the header time-out can end it
  });
  Client client(server);
  ASSERT_FALSE(client.write_raw(std::string("POST ") + kSignService + " HTTP/1.1\r\nHost: x\r\n"));
  const auto start = Clock::now();
  std::string received;
  beast::error_code ec = client.wait_closed(5s, &received);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(closed_by_peer(ec)) << "still open after 5 s: " << ec.message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
  expect_still_serving(server);
  Client caller(server);
  EXPECT_EQ(timed_out_total(caller), 1u);
}

TEST(Limits, RequestStalledMidBodyIsClosedAfterTheBodyTimeout) {
  TestServer server([](cds::Config& c) {
    c.limits.body_timeout = 300ms;
    c.limits.header_timeout = 10s;
    c.limits.idle_timeout = 10s;
  });
  Client client(server);
  ASSERT_FALSE(client.write_raw(header_block("Content-Length: 100\r\n") + R"({"hook":)"));
  const auto start = Clock::now();
  beast::error_code ec = client.wait_closed(5s);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(closed_by_peer(ec)) << "still open after 5 s: " << ec.message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
  expect_still_serving(server);
}

TEST(Limits, TlsHandshakeThatNeverCompletesIsClosed) {
  TestServer server([](cds::Config& c) {
    c.limits.header_timeout = 300ms;  // also bounds the handshake
    c.limits.idle_timeout = 10s;
  });
  Client silent(server.port(), Client::Mode::tcp_only);
  const auto start = Clock::now();
  std::string received;
  beast::error_code ec = silent.wait_closed(5s, &received);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(closed_by_peer(ec)) << "still open after 5 s: " << ec.message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_TRUE(received.empty());
  expect_still_serving(server);
}

TEST(Limits, IdleKeepAliveConnectionIsClosed) {
  TestServer server([](cds::Config& c) {
    c.limits.idle_timeout = 300ms;
    c.limits.header_timeout = 10s;
  });
  Client client(server);
  Response res = client.get("/healthz");
  ASSERT_EQ(res.result_int(), 200);
  ASSERT_TRUE(res.keep_alive());
  const auto start = Clock::now();
  beast::error_code ec = client.wait_closed(5s);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(closed_by_peer(ec)) << "idle connection still open after 5 s: " << ec.message();
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 3s);
  expect_still_serving(server);
}

TEST(Limits, ConnectionUsedWithinTheIdleTimeoutStaysOpen) {
  TestServer server([](cds::Config& c) { c.limits.idle_timeout = 1500ms; });
  Client client(server);
  const auto local = client.local_endpoint();
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(client.get("/healthz").result_int(), 200);
  }
  EXPECT_EQ(client.local_endpoint(), local);
}

}  // namespace
}  // namespace cdstest
