// Every card's source.url and its evidence link lead to the evidence page: the regulatory
// facts and the studies, readable on a phone, with nothing unverified or internal in it.
#include "test_server.hpp"

namespace cdstest {
namespace {

TEST(EvidencePage, CardSourceUrlAndEvidenceLinkServeIt) {
  TestServer server;
  Client client(server);
  auto res = client.post(kSignService, fixture_request(kFixture01));
  ASSERT_EQ(res.result_int(), 200);
  const json::value body = parse_json(res.body());
  const std::string base = "https://127.0.0.1:" + std::to_string(server.port());
  for (const auto& card : body.at("cards").as_array()) {
    const std::string url(card.at("source").at("url").as_string());
    EXPECT_EQ(url, base + "/docs/evidence/knee-oa");
    const auto& links = card.at("links").as_array();
    EXPECT_EQ(links.back().at("url").as_string(), url);
    EXPECT_NE(std::string(card.at("detail").as_string()).find("](" + url + ")"), std::string::npos);
  }

  auto page = client.get("/docs/evidence/knee-oa");
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  const std::string& html = page.body();
  EXPECT_NE(html.find("name=\"viewport\" content=\"width=device-width"), std::string::npos);  // a phone's width
  EXPECT_NE(html.find("21 CFR Part 1271"), std::string::npos);
  EXPECT_NE(html.find("L39118"), std::string::npos);
  EXPECT_NE(html.find("https://www.fda.gov/vaccines-blood-biologics/consumers-biologics/"
                      "important-patient-and-consumer-information-about-regenerative-medicine-therapies"),
            std::string::npos);
  for (std::string_view doi : {"10.1177/1759720X14566618", "10.2147/JPR.S127633", "10.4137/CMAMD.S10951",
                               "10.1016/j.biomaterials.2016.11.049", "10.4061/2011/429187"})
    EXPECT_NE(html.find("https://doi.org/" + std::string(doi)), std::string::npos) << doi;
  EXPECT_NE(html.find("Rezasoltani Z, Taheri M"), std::string::npos);  // full citations
  EXPECT_NE(html.find("Type 3"), std::string::npos);
  EXPECT_NE(html.find("href=\"/docs/rules/knee-oa\""), std::string::npos);
  std::string lower = html;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower.find("verif"), std::string::npos);
  EXPECT_EQ(lower.find("<script"), std::string::npos);
}

TEST(EvidencePage, OnlyGet) {
  TestServer server;
  Client client(server);
  auto res = client.post("/docs/evidence/knee-oa", "{}");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "GET, OPTIONS");
}

}  // namespace
}  // namespace cdstest
