// GET /cds-services: the discovery document (CDS Hooks 2.0 §Discovery).
#include "test_server.hpp"

#include <map>

namespace cdstest {
namespace {

const json::value kPrefetch = json::parse(R"({
  "patient": "Patient/{{context.patientId}}",
  "conditions": "Condition?patient={{context.patientId}}",
  "procedures": "Procedure?patient={{context.patientId}}",
  "observations": "Observation?patient={{context.patientId}}"
})");

TEST(Discovery, ListsTheThreeServicesWithHooksAndPrefetch) {
  TestServer server;
  Client client(server);
  Response res = client.get("/cds-services");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[http::field::content_type], "application/json");
  json::value doc = parse_json(res.body());
  ASSERT_TRUE(doc.is_object());
  ASSERT_EQ(doc.as_object().size(), 1u) << res.body();
  const json::array& services = doc.at("services").as_array();
  ASSERT_EQ(services.size(), 3u);

  std::map<std::string, std::string> hooks;  // id -> hook
  for (const json::value& s : services) {
    const json::object& o = s.as_object();
    SCOPED_TRACE(json::serialize(o.at("id")));
    // Exactly the spec's fields we fill; nothing null or empty.
    EXPECT_EQ(o.size(), 5u) << json::serialize(o);
    for (const char* key : {"hook", "id", "title", "description"}) {
      ASSERT_TRUE(o.contains(key) && o.at(key).is_string()) << key;
      EXPECT_FALSE(o.at(key).get_string().empty()) << key;
    }
    EXPECT_EQ(std::string(o.at("title").get_string()).rfind("Knee OA: ", 0), 0u) << o.at("title");
    EXPECT_GT(o.at("description").get_string().size(), 40u);
    EXPECT_EQ(o.at("prefetch"), kPrefetch);
    hooks[std::string(o.at("id").get_string())] = std::string(o.at("hook").get_string());
  }
  EXPECT_EQ(hooks, (std::map<std::string, std::string>{{"knee-oa-order-select", "order-select"},
                                                       {"knee-oa-order-sign", "order-sign"},
                                                       {"knee-oa-patient-view", "patient-view"}}));
}

TEST(Discovery, TrailingSlashAndQueryServeTheSameDocument) {
  TestServer server;
  Client client(server);
  Response plain = client.get("/cds-services");
  Response slash = client.get("/cds-services/");
  Response query = client.get("/cds-services?x=1");
  ASSERT_EQ(plain.result_int(), 200);
  EXPECT_EQ(slash.result_int(), 200);
  EXPECT_EQ(query.result_int(), 200);
  EXPECT_EQ(slash.body(), plain.body());
  EXPECT_EQ(query.body(), plain.body());
}

TEST(Discovery, PostIs405WithAllowGet) {
  TestServer server;
  Client client(server);
  Response res = client.post("/cds-services", "{}");
  EXPECT_EQ(res[http::field::allow], "GET, OPTIONS");
  EXPECT_EQ(error_message(res, 405), "use GET on /cds-services");
  // A refused method does not end the connection.
  EXPECT_EQ(client.get("/cds-services").result_int(), 200);
}

TEST(Discovery, EveryAdvertisedServiceAcceptsPost) {
  TestServer server;
  Client client(server);
  json::value doc = parse_json(client.get("/cds-services").body());
  for (const json::value& s : doc.at("services").as_array()) {
    const std::string target = "/cds-services/" + std::string(s.at("id").as_string());
    // An empty object is refused for its content (400), not for its route (404/405).
    Response res = client.post(target, "{}");
    EXPECT_EQ(error_message(res, 400), "missing required field 'hook'") << target;
  }
}

}  // namespace
}  // namespace cdstest
