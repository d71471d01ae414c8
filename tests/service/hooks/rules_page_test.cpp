// The rules page (for rule authors and reviewers) shows the rules in force, with unverified
// codes marked, and the ConText triggers that decide what an order is for.
#include "test_server.hpp"

namespace cdstest {
namespace {

TEST(RulesPage, ServesTheRulesInForce) {
  TestServer server;
  Client client(server);
  auto page = client.get("/docs/rules/knee-oa");
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  const std::string version(parse_json(client.get("/readyz").body()).at("rulesVersion").as_string());
  EXPECT_NE(page.body().find(version), std::string::npos);
  EXPECT_NE(page.body().find("(unverified)"), std::string::npos);         // e.g. the HCPCS Q codes
  EXPECT_NE(page.body().find("Q4206"), std::string::npos);
  EXPECT_NE(page.body().find("https://doi.org/10.1177/1759720X14566618"), std::string::npos);
  EXPECT_EQ(page.body().find("<script"), std::string::npos);
}

TEST(RulesPage, ListsTheContextTriggersAndHowToAddOne) {
  TestServer server;
  Client client(server);
  const std::string body = client.get("/docs/rules/knee-oa").body();
  for (std::string_view want : {"ConText", "<h3>negated</h3>", "<h3>historical</h3>", "<h3>hypothetical</h3>",
                                "<h3>experiencer</h3>", "<td>declined</td>", "<td>s/p</td>", "<td>r/o</td>",
                                "<td>backward</td>", "prior to", "context.modifiers.&lt;modifier&gt;.triggers"})
    EXPECT_NE(body.find(want), std::string::npos) << want;
}

}  // namespace
}  // namespace cdstest
