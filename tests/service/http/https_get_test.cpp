// https_get (JWKS fetching): verified HTTPS only, bounded in time, body returned on 200 only.
#include "cds/http/https_get.hpp"
#include "fhir_test_server.hpp"

namespace fhirtest {
namespace {

TEST(HttpsGet, FetchesOverVerifiedTlsAndRefusesEverythingElse) {
  FhirTestServer server;
  server.add(json::object{{"resourceType", "Patient"}, {"id", "p1"}, {"gender", "female"}});
  cds::HttpsGetOptions trusted;
  trusted.ca_file = (certs() / "ca.crt").string();
  trusted.timeout = 2s;
  auto body = cds::https_get(server.base() + "/Patient/p1", trusted);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(json::parse(*body).at("gender"), "female");

  EXPECT_FALSE(cds::https_get(server.base() + "/Patient/nobody", trusted).has_value());  // 404
  cds::HttpsGetOptions other = trusted;
  other.ca_file = (other_certs() / "ca.crt").string();
  EXPECT_FALSE(cds::https_get(server.base() + "/Patient/p1", other).has_value());  // certificate not trusted
  EXPECT_FALSE(cds::https_get("http://127.0.0.1:" + std::to_string(server.port()) + "/fhir/Patient/p1", trusted));

  PathMode slow;
  slow.delay = 2s;
  server.set_mode("/fhir/Patient/p1", slow);
  trusted.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cds::https_get(server.base() + "/Patient/p1", trusted).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
}  // namespace fhirtest
