// CORS: pre-flight on every path, the Access-Control-Allow-Origin of ordinary responses, and the
// origin allowlist (echo only listed origins, with Vary: Origin; never credentials).
#include "test_server.hpp"

namespace cdstest {
namespace {

constexpr const char* kEhr = "https://ehr.example.org";

Response preflight(Client& client, std::string_view target, const std::string& origin) {
  return client.request(http::verb::options, target, {},
                        {{"Origin", origin},
                         {"Access-Control-Request-Method", "POST"},
                         {"Access-Control-Request-Headers", "authorization, content-type"}});
}

void expect_preflight_answer(const Response& res) {
  EXPECT_EQ(res.result_int(), 204);
  const std::string methods(res[http::field::access_control_allow_methods]);
  EXPECT_EQ(methods, "GET, POST, OPTIONS");
  const std::string headers(res[http::field::access_control_allow_headers]);
  EXPECT_NE(headers.find("Authorization"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Content-Type"), std::string::npos) << headers;
  EXPECT_EQ(res[http::field::access_control_max_age], "600");
  EXPECT_EQ(res.count(http::field::access_control_allow_credentials), 0u);
  EXPECT_TRUE(res.body().empty());
  // RFC 9110 §8.6: no Content-Length in a 204.
  EXPECT_EQ(res.count(http::field::content_length), 0u);
}

TEST(Cors, PreflightOnAServiceAllowsAnyOriginByDefault) {
  TestServer server;
  Client client(server);
  Response res = preflight(client, kSignService, kEhr);
  expect_preflight_answer(res);
  EXPECT_EQ(res[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(res.count(http::field::vary), 0u);
  EXPECT_TRUE(res.keep_alive());
  // The connection is still usable after the bodiless 204.
  EXPECT_EQ(client.get("/healthz").result_int(), 200);
}

TEST(Cors, PreflightIsAnsweredOnEveryPath) {
  TestServer server;
  Client client(server);
  for (const char* target : {"/cds-services", "/cds-services/knee-oa-patient-view", "/cds-services/unknown", "/healthz",
                             "/readyz", "/some/other/path"}) {
    Response res = preflight(client, target, kEhr);
    SCOPED_TRACE(target);
    expect_preflight_answer(res);
    EXPECT_EQ(res[http::field::access_control_allow_origin], "*");
  }
}

TEST(Cors, OrdinaryResponsesCarryAllowOrigin) {
  TestServer server;
  Client client(server);
  const Headers origin{{"Origin", kEhr}};
  EXPECT_EQ(client.get("/cds-services", origin)[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(client.get("/healthz", origin)[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(client.get("/nope", origin)[http::field::access_control_allow_origin], "*");  // errors too
  Response invoked = client.post(kSignService, fixture_request("12-knee-xray-only"), origin);
  EXPECT_EQ(invoked.result_int(), 200);
  EXPECT_EQ(invoked[http::field::access_control_allow_origin], "*");
  // No Origin, no CORS headers: they are for browsers.
  EXPECT_EQ(client.get("/cds-services").count(http::field::access_control_allow_origin), 0u);
}

TEST(Cors, AllowlistEchoesOnlyListedOriginsWithVary) {
  TestServer server([](cds::Config& c) { c.cors_allowed_origins = {kEhr}; });
  Client client(server);

  Response allowed = preflight(client, kSignService, kEhr);
  expect_preflight_answer(allowed);
  EXPECT_EQ(allowed[http::field::access_control_allow_origin], kEhr);
  EXPECT_EQ(allowed[http::field::vary], "Origin");

  Response other = preflight(client, kSignService, "https://evil.example.com");
  EXPECT_EQ(other.result_int(), 204);
  EXPECT_EQ(other.count(http::field::access_control_allow_origin), 0u) << other[http::field::access_control_allow_origin];
  EXPECT_EQ(other[http::field::vary], "Origin");

  Response get = client.get("/cds-services", {{"Origin", kEhr}});
  EXPECT_EQ(get.result_int(), 200);
  EXPECT_EQ(get[http::field::access_control_allow_origin], kEhr);
  EXPECT_EQ(get[http::field::vary], "Origin");
  Response get_other = client.get("/cds-services", {{"Origin", "https://ehr.example.org.evil.com"}});
  EXPECT_EQ(get_other.result_int(), 200);
  EXPECT_EQ(get_other.count(http::field::access_control_allow_origin), 0u);
}

TEST(Cors, SessionLevelErrorsCarryCorsHeadersToo) {
  TestServer server([](cds::Config& c) {
    c.cors_allowed_origins = {kEhr};
    c.limits.max_body_bytes = 1024;
  });
  Client client(server);
  ASSERT_FALSE(client.write_raw(std::string("POST ") + kSignService +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://ehr.example.org\r\n"
                                "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"));
  ReadResult r = client.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.response.result_int(), 413);
  EXPECT_EQ(r.response[http::field::access_control_allow_origin], kEhr);
  EXPECT_EQ(r.response[http::field::vary], "Origin");
}

}  // namespace
}  // namespace cdstest
