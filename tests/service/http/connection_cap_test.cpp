// The connection cap over real sockets: past limits.max_connections a new connection closes
// the longest-idle one (a stalled handshake, an idle keep-alive) and is served; a connection
// with a request in progress is never chosen; /metrics counts it all.
#include "test_server.hpp"

#include <memory>
#include <vector>

namespace cdstest {
namespace {

std::uint64_t metric(Client& client, const std::string& name) {
  const std::string text = client.get("/metrics").body();
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) {
    ADD_FAILURE() << name << " missing from /metrics";
    return 0;
  }
  return std::stoull(text.substr(at + name.size() + 2));
}

TEST(ConnectionCap, TheLongestIdleConnectionMakesRoomForANewCall) {
  TestServer server([](cds::Config& c) { c.limits.max_connections = 3; });
  // Three connections that never start their TLS handshake: a flood's idle sockets.
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<Client>(server.port(), Client::Mode::tcp_only));
  std::this_thread::sleep_for(100ms);  // all three accepted and counted
  Client caller(server);  // the fourth: the oldest idle one is closed to make room
  EXPECT_EQ(caller.post(kSignService, fixture_request(kFixture01)).result_int(), 200);
  EXPECT_TRUE(closed_by_peer(idle[0]->wait_closed(3s))) << "the longest-idle connection was left open";
  EXPECT_EQ(metric(caller, "cds_connections_max"), 3u);
  EXPECT_GE(metric(caller, "cds_connections_evicted_total"), 1u);
  EXPECT_LE(metric(caller, "cds_connections_open"), 3u);
}

TEST(ConnectionCap, AConnectionWithARequestInProgressIsNotClosedToMakeRoom) {
  TestServer server([](cds::Config& c) { c.limits.max_connections = 1; });
  Client busy(server);
  // Half a request: the connection is busy until its answer is written.
  const std::string body = fixture_request(kFixture01);
  const std::string head = std::string("POST ") + kSignService +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_FALSE(busy.write_raw(head + body.substr(0, body.size() / 2)));
  std::this_thread::sleep_for(100ms);
  // No idle connection to close: the newcomer is refused at once.
  Client refused(server.port(), Client::Mode::tcp_only);
  EXPECT_TRUE(closed_by_peer(refused.wait_closed(3s))) << "a connection past the cap was kept";
  ASSERT_FALSE(busy.write_raw(body.substr(body.size() / 2)));
  ReadResult r = busy.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.response.result_int(), 200);
  EXPECT_GE(metric(busy, "cds_connections_refused_total"), 1u);
}

}  // namespace
}  // namespace cdstest
