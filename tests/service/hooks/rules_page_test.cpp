// Cards link to the rules' documentation page (source.url); that page must exist and show the
// rules in force, with unverified codes marked.
#include "test_server.hpp"

namespace cdstest {
namespace {

TEST(RulesPage, CardSourceUrlServesTheRulesInForce) {
  TestServer server;
  Client client(server);
  auto res = client.post(kSignService, fixture_request(kFixture01));
  ASSERT_EQ(res.result_int(), 200);
  const json::value body = parse_json(res.body());
  const std::string url(body.at("cards").as_array().at(0).at("source").at("url").as_string());
  const std::string base = "https://127.0.0.1:" + std::to_string(server.port());
  ASSERT_EQ(url.rfind(base, 0), 0u) << url;

  auto page = client.get(url.substr(base.size()));
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  const std::string version(parse_json(client.get("/readyz").body()).at("rulesVersion").as_string());
  EXPECT_NE(page.body().find(version), std::string::npos);
  EXPECT_NE(page.body().find("(unverified)"), std::string::npos);         // e.g. the HCPCS Q codes
  EXPECT_NE(page.body().find("Q4206"), std::string::npos);
  EXPECT_NE(page.body().find("https://doi.org/10.1177/1759720X14566618"), std::string::npos);
  EXPECT_EQ(page.body().find("<script"), std::string::npos);
}

}  // namespace
}  // namespace cdstest
