// GET /reports/compliance: only for admin-token holders (not EHR JWTs), same tables as cds-report.
#include "test_server.hpp"

#include <openssl/evp.h>

namespace cdstest {
namespace {

std::string sha256_hex(std::string_view s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += hex[d[i] >> 4], out += hex[d[i] & 15];
  return out;
}

std::string today() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class ReportsEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>([](cds::Config& c) { c.admin_token_sha256 = {sha256_hex("admin-secret")}; });
    Client client(*server_);
    ASSERT_EQ(client.post(kSignService, fixture_request(kFixture01)).result_int(), 200);
  }
  Response report(const std::string& query, const std::string& token = "admin-secret") {
    Client client(*server_);
    Headers h;
    if (!token.empty()) h.push_back({"Authorization", "Bearer " + token});
    return client.get("/reports/compliance?" + query, h);
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(ReportsEndpoint, RefusesCallersWithoutTheAdminToken) {
  const std::string q = "from=" + today() + "&to=" + today() + "&format=json";
  EXPECT_NE(error_message(report(q, ""), 401).find("admin token"), std::string::npos);
  EXPECT_EQ(report(q, "wrong").result_int(), 401);
}

TEST_F(ReportsEndpoint, ServesTheJsonTablesForTheDay) {
  auto res = report("from=" + today() + "&to=" + today() + "&format=json");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[http::field::content_type], "application/json");
  const json::value doc = parse_json(res.body());
  const auto& rows = doc.at("tables").at("invocations_by_hook_day").as_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("hook"), "order-sign");
  EXPECT_EQ(rows[0].at("invocations"), 1);
  const auto& flagged = doc.at("tables").at("signed_after_critical").as_array();
  ASSERT_EQ(flagged.size(), 1u);  // a critical card, no accepted suggestion yet
}

TEST_F(ReportsEndpoint, CsvNeedsATableAndOtherFormatsHaveTheirTypes) {
  const std::string range = "from=" + today() + "&to=" + today();
  EXPECT_NE(error_message(report(range + "&format=csv"), 400).find("table"), std::string::npos);
  auto csv = report(range + "&format=csv&table=invocations_by_hook_day");
  EXPECT_EQ(csv.result_int(), 200);
  EXPECT_EQ(csv[http::field::content_type].substr(0, 8), "text/csv");
  auto html = report(range + "&format=html");
  EXPECT_EQ(html[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(html.body().find("<svg"), std::string::npos);
  auto measure = report(range + "&format=measure");
  EXPECT_EQ(parse_json(measure.body()).at("resourceType"), "MeasureReport");
  EXPECT_NE(error_message(report(range + "&format=json&colour=blue"), 400).find("colour"), std::string::npos);
  EXPECT_EQ(report("from=2026-13-01&to=2026-12-01&format=json").result_int(), 400);
}

}  // namespace
}  // namespace cdstest
