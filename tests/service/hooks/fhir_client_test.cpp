// cds::FhirClient against the in-test HTTPS FHIR server: reads, searchset paging, the resource,
// page and size caps, same-origin paging, failure texts, the deadline, concurrency, connection reuse, the
// bearer token and certificate verification.
#include "cds/hooks/fhir_client.hpp"
#include "fhir_test_server.hpp"

#include <future>
#include <set>

namespace fhirtest {
namespace {

json::value condition(const std::string& id, const std::string& patient) {
  return json::object{{"resourceType", "Condition"},
                      {"id", id},
                      {"subject", json::object{{"reference", "Patient/" + patient}}},
                      {"code", json::object{{"text", "condition " + id}}}};
}

json::value patient(const std::string& id) {
  return json::object{{"resourceType", "Patient"}, {"id", id}, {"gender", "female"}};
}

std::vector<std::string> entry_ids(const json::value& bundle) {
  std::vector<std::string> ids;
  if (const json::array* entries = fhir::array_field(bundle.if_object(), "entry"))
    for (const auto& e : *entries) ids.emplace_back(e.at("resource").at("id").as_string());
  return ids;
}

class FhirClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_.emplace(ioc_.get_executor());
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    // The I/O thread ends before the client goes: nothing of the client runs after it.
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
    client_.reset();
  }

  cds::FhirClient& client(std::size_t max_resources = 1000, fs::path ca = {}) {
    cds::FhirClientOptions o;
    o.ca_file = (ca.empty() ? certs() / "ca.crt" : ca).string();
    o.max_resources = max_resources;
    return client(std::move(o));
  }
  cds::FhirClient& client(cds::FhirClientOptions o) {
    if (o.ca_file.empty()) o.ca_file = (certs() / "ca.crt").string();
    client_ = std::make_unique<cds::FhirClient>(ioc_.get_executor(), std::move(o));
    return *client_;
  }

  // Runs one fetch and waits (bounded) for its single `done`.
  std::vector<cds::FhirResult> fetch(std::vector<cds::FhirQuery> queries, std::chrono::milliseconds budget = 3000ms,
                                     std::string token = "tok-123", std::chrono::milliseconds* elapsed = nullptr) {
    auto promise = std::make_shared<std::promise<std::vector<cds::FhirResult>>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto future = promise->get_future();
    const auto start = Clock::now();
    client_->fetch(std::move(queries), std::move(token), start + budget, [promise, calls](std::vector<cds::FhirResult> r) {
      if (calls->fetch_add(1) == 0) promise->set_value(std::move(r));
    });
    if (future.wait_for(budget + 3s) != std::future_status::ready) {
      ADD_FAILURE() << "fetch did not call done within its deadline + 3 s";
      return {};
    }
    if (elapsed) *elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    auto results = future.get();
    done_calls_ = calls;
    return results;
  }

  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::thread thread_;
  std::unique_ptr<cds::FhirClient> client_;
  std::shared_ptr<std::atomic<int>> done_calls_;
};

TEST_F(FhirClientTest, ReadsASingleResource) {
  FhirTestServer server;
  server.add(patient("p1"));
  client();
  auto results = fetch({{"patient", server.base() + "/Patient/p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].key, "patient");
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].truncated, "");
  ASSERT_TRUE(results[0].value.has_value());
  EXPECT_EQ(*results[0].value, patient("p1"));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/fhir/Patient/p1");
  EXPECT_EQ(server.requests()[0].accept, "application/fhir+json");
}

TEST_F(FhirClientTest, FollowsThreePagesIntoOneSearchsetBundle) {
  FhirTestServer server(certs(), 3);
  for (int i = 1; i <= 7; ++i) server.add(condition("c" + std::to_string(i), "p1"));
  server.add(condition("other-1", "p2"));
  client();
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].truncated, "");
  ASSERT_TRUE(results[0].value.has_value());
  const json::object& b = results[0].value->as_object();
  EXPECT_EQ(b.at("resourceType").as_string(), "Bundle");
  EXPECT_EQ(b.at("type").as_string(), "searchset");
  EXPECT_EQ(b.at("total").to_number<int>(), 7);
  EXPECT_EQ(entry_ids(*results[0].value), (std::vector<std::string>{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}));
  EXPECT_EQ(server.targets(), (std::vector<std::string>{"/fhir/Condition?patient=p1",
                                                        "/fhir/Condition?patient=p1&_count=3&_offset=3",
                                                        "/fhir/Condition?patient=p1&_count=3&_offset=6"}));
  EXPECT_EQ(server.connections(), 1u) << "pages of one query reuse the connection";
}

TEST_F(FhirClientTest, StopsAtMaxResourcesAndSaysTruncated) {
  FhirTestServer server(certs(), 3);
  for (int i = 1; i <= 7; ++i) server.add(condition("c" + std::to_string(i), "p1"));
  client(4);
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].truncated, "the resource cap");
  ASSERT_TRUE(results[0].value.has_value());
  EXPECT_EQ(results[0].value->at("total").to_number<int>(), 4);
  EXPECT_EQ(entry_ids(*results[0].value), (std::vector<std::string>{"c1", "c2", "c3", "c4"}));
  EXPECT_EQ(server.targets().size(), 2u) << "no page is fetched after the cap";
}

// An empty page whose next link is itself would be followed until the deadline, as fast as the
// server answers; the page cap ends it.
TEST_F(FhirClientTest, StopsAtThePageCapOnPagesThatAddNothing) {
  FhirTestServer server;
  const std::string self = server.base() + "/Condition?patient=p1";
  server.set_mode("/fhir/Condition", PathMode{.body = json::serialize(json::object{
                                                   {"resourceType", "Bundle"}, {"type", "searchset"},
                                                   {"link", json::array{json::object{{"relation", "next"}, {"url", self}}}}})});
  client(cds::FhirClientOptions{.max_pages = 5});
  std::chrono::milliseconds elapsed{};
  auto results = fetch({{"conditions", self}}, 3000ms, "tok-123", &elapsed);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].truncated, "the page cap");
  ASSERT_TRUE(results[0].value.has_value());
  EXPECT_EQ(results[0].value->at("total").to_number<int>(), 0);
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_LT(elapsed, 2000ms) << "ended by the cap, not by the deadline";
}

// The size cap is per query, across its pages: pages that fit are kept, the one that passes the
// cap is not; a single answer over the cap is a failure.
TEST_F(FhirClientTest, StopsAtTheSizeCapAcrossPages) {
  FhirTestServer server(certs(), 1);
  server.add(patient("p1"));
  for (int i = 1; i <= 7; ++i) server.add(condition("c" + std::to_string(i), "p1"));
  client(cds::FhirClientOptions{.max_response_bytes = 1500});
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].truncated, "the size cap");
  ASSERT_TRUE(results[0].value.has_value());
  const auto ids = entry_ids(*results[0].value);
  EXPECT_GE(ids.size(), 1u);
  EXPECT_LT(ids.size(), 7u);
  EXPECT_EQ(server.requests().size(), ids.size() + 1) << "the page over the cap was read, not kept";

  client(cds::FhirClientOptions{.max_response_bytes = 20});
  results = fetch({{"patient", server.base() + "/Patient/p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].value.has_value());
  EXPECT_EQ(results[0].failure, "response over 20 bytes");
}

TEST_F(FhirClientTest, ANextLinkToSomethingOtherThanAPageFails) {
  FhirTestServer server;
  server.add(patient("p1"));
  server.set_mode("/fhir/Condition",
                  PathMode{.body = json::serialize(json::object{
                               {"resourceType", "Bundle"}, {"type", "searchset"},
                               {"entry", json::array{json::object{{"resource", condition("c1", "p1")}}}},
                               {"link", json::array{json::object{{"relation", "next"}, {"url", server.base() + "/Patient/p1"}}}}})});
  client();
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].value.has_value());
  EXPECT_EQ(results[0].failure, "a Patient as a searchset page");
}

TEST_F(FhirClientTest, DoesNotFollowANextLinkToAnotherOrigin) {
  FhirTestServer elsewhere;
  for (int i = 1; i <= 7; ++i) elsewhere.add(condition("x" + std::to_string(i), "p1"));
  FhirTestServer server(certs(), 3);
  for (int i = 1; i <= 7; ++i) server.add(condition("c" + std::to_string(i), "p1"));
  server.set_mode("/fhir/Condition", PathMode{.next_origin = elsewhere.origin()});
  client();
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].truncated, "a next link to another origin");
  ASSERT_TRUE(results[0].value.has_value());
  EXPECT_EQ(entry_ids(*results[0].value), (std::vector<std::string>{"c1", "c2", "c3"}));
  EXPECT_EQ(results[0].value->at("total").to_number<int>(), 3);
  EXPECT_EQ(server.targets(), (std::vector<std::string>{"/fhir/Condition?patient=p1"}));
  EXPECT_EQ(elsewhere.requests().size(), 0u);
  EXPECT_EQ(elsewhere.connections(), 0u) << "the token must never reach another origin";
}

TEST_F(FhirClientTest, ReportsEachFailureModeByKey) {
  FhirTestServer server;
  server.add(patient("p1"));
  for (int i = 1; i <= 2; ++i) server.add(condition("c" + std::to_string(i), "p1"));
  server.set_mode("/fhir/Condition", PathMode{.status = 401});
  server.set_mode("/fhir/Procedure", PathMode{.status = 500});
  server.set_mode("/fhir/Observation", PathMode{.garbage = true});
  server.set_mode("/fhir/MedicationRequest", PathMode{.operation_outcome = true});
  server.set_mode("/fhir/AllergyIntolerance", PathMode{.status = 403});
  client();
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"},
                        {"procedures", server.base() + "/Procedure?patient=p1"},
                        {"observations", server.base() + "/Observation?patient=p1"},
                        {"meds", server.base() + "/MedicationRequest?patient=p1"},
                        {"allergies", server.base() + "/AllergyIntolerance?patient=p1"},
                        {"patient", server.base() + "/Patient/p1"},
                        {"plain", "http://127.0.0.1:" + std::to_string(server.port()) + "/fhir/Patient/p1"}});
  ASSERT_EQ(results.size(), 7u);
  const std::vector<std::pair<std::string, std::string>> want{
      {"conditions", "HTTP 401"}, {"procedures", "HTTP 500"},   {"observations", "invalid JSON"},
      {"meds", "OperationOutcome"}, {"allergies", "HTTP 403"}, {"patient", ""},
      {"plain", "not an https URL"}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].first);
    EXPECT_EQ(results[i].key, want[i].first);
    EXPECT_EQ(results[i].failure, want[i].second);
    EXPECT_EQ(results[i].value.has_value(), want[i].second.empty());
    EXPECT_EQ(results[i].truncated, "");
  }
  EXPECT_EQ(server.requests().size(), 6u) << "the http:// query is never sent";
}

TEST_F(FhirClientTest, SlowServerTimesOutAtTheDeadline) {
  FhirTestServer server;
  server.add(patient("p1"));
  server.set_mode("/fhir/Patient", PathMode{.delay = 1500ms});
  client();
  std::chrono::milliseconds elapsed{};
  auto results = fetch({{"patient", server.base() + "/Patient/p1"}}, 300ms, "tok-123", &elapsed);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].key, "patient");
  EXPECT_EQ(results[0].failure, "timeout");
  EXPECT_FALSE(results[0].value.has_value());
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 450ms);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(done_calls_->load(), 1) << "done is called exactly once";
}

TEST_F(FhirClientTest, DownServerFailsFastWithoutTimeout) {
  client();
  std::chrono::milliseconds elapsed{};
  auto results = fetch({{"patient", "https://127.0.0.1:" + std::to_string(closed_port()) + "/fhir/Patient/p1"}}, 2000ms,
                       "tok-123", &elapsed);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].value.has_value());
  EXPECT_EQ(results[0].failure, "Connection refused");
  EXPECT_LT(elapsed, 500ms);
}

TEST_F(FhirClientTest, RunsQueriesConcurrently) {
  FhirTestServer server;
  for (const char* type : {"Condition", "Procedure", "Observation"})
    server.set_mode(std::string("/fhir/") + type, PathMode{.delay = 300ms});
  client();
  std::chrono::milliseconds elapsed{};
  auto results = fetch({{"conditions", server.base() + "/Condition?patient=p1"},
                        {"procedures", server.base() + "/Procedure?patient=p1"},
                        {"observations", server.base() + "/Observation?patient=p1"}},
                       3000ms, "tok-123", &elapsed);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) {
    EXPECT_EQ(r.failure, "") << r.key;
    ASSERT_TRUE(r.value.has_value()) << r.key;
    EXPECT_EQ(r.value->at("total").to_number<int>(), 0);
  }
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 700ms) << "three 300 ms queries must overlap";
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  // All three had arrived before the first could have been answered.
  auto [first, last] = std::minmax_element(reqs.begin(), reqs.end(), [](auto& a, auto& b) { return a.at < b.at; });
  EXPECT_LT(last->at - first->at, 200ms);
  EXPECT_EQ(server.connections(), 3u);
}

TEST_F(FhirClientTest, ReusesOneConnectionForSequentialFetches) {
  FhirTestServer server;
  server.add(patient("p1"));
  server.add(condition("c1", "p1"));
  client();
  for (int i = 0; i < 4; ++i) {
    auto results = fetch({{"patient", server.base() + (i % 2 ? "/Condition?patient=p1" : "/Patient/p1")}});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].failure, "") << i;
  }
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(FhirClientTest, SendsTheBearerToken) {
  FhirTestServer server;
  server.add(patient("p1"));
  client();
  auto results = fetch({{"patient", server.base() + "/Patient/p1"}, {"conditions", server.base() + "/Condition?patient=p1"}},
                       3000ms, "eyJ.secret-token.42");
  ASSERT_EQ(results.size(), 2u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) EXPECT_EQ(r.authorization, "Bearer eyJ.secret-token.42") << r.target;
}

TEST_F(FhirClientTest, SendsNoAuthorizationHeaderWithoutAToken) {
  FhirTestServer server;
  server.add(patient("p1"));
  client();
  auto results = fetch({{"patient", server.base() + "/Patient/p1"}}, 3000ms, "");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].authorization, "") << "no \"Bearer \" with an empty token";
}

// RFC 9110 §7.2: Host carries the port when it is not the scheme's default; RFC 6066 §3: no IP
// literal as the TLS server name.
TEST_F(FhirClientTest, SendsHostWithPortAndNoIpLiteralAsServerName) {
  FhirTestServer server;
  server.add(patient("p1"));
  client();
  auto results = fetch({{"patient", server.base() + "/Patient/p1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.requests()[0].sni, "");
}

TEST_F(FhirClientTest, RetriesOnAFreshConnectionWhenThePooledOneWasClosed) {
  FhirTestServer server;
  server.add(patient("p1"));
  server.set_idle_timeout(100ms);
  client();
  auto first = fetch({{"patient", server.base() + "/Patient/p1"}});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].failure, "");
  std::this_thread::sleep_for(300ms);  // the server has closed the kept-alive connection
  auto second = fetch({{"patient", server.base() + "/Patient/p1"}});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].failure, "");
  EXPECT_TRUE(second[0].value.has_value());
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.connections(), 2u);
}

TEST_F(FhirClientTest, RefusesAServerCertificateFromAnotherCa) {
  FhirTestServer server(other_certs());
  server.add(patient("p1"));
  client(1000, certs() / "ca.crt");
  std::chrono::milliseconds elapsed{};
  auto results = fetch({{"patient", server.base() + "/Patient/p1"}}, 2000ms, "tok-123", &elapsed);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].value.has_value());
  EXPECT_NE(results[0].failure.find("certificate verify failed"), std::string::npos) << results[0].failure;
  EXPECT_LT(elapsed, 1000ms);
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(server.requests().size(), 0u) << "no HTTP request (and no token) over an unverified connection";
}

TEST_F(FhirClientTest, EmptyQueryListFinishesAtOnce) {
  client();
  std::chrono::milliseconds elapsed{};
  auto results = fetch({}, 2000ms, "tok-123", &elapsed);
  EXPECT_TRUE(results.empty());
  EXPECT_LT(elapsed, 200ms);
}

}  // namespace
}  // namespace fhirtest
