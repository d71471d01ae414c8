// Feedback round trip (CDS Hooks 2.0) over HTTPS, each validation error, and the audit's
// refusal to advise without a record (503, /readyz failing) while the store cannot be written.
#include "test_server.hpp"

namespace cdstest {
namespace {

constexpr const char* kFeedback = "/cds-services/knee-oa-order-sign/feedback";

class FeedbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>();
    Client client(*server_);
    auto res = client.post(kSignService, fixture_request(kFixture01));
    ASSERT_EQ(res.result_int(), 200) << res.body();
    const json::value body = parse_json(res.body());  // kept: the loop below views into it
    for (const auto& c : body.at("cards").as_array())
      if (c.at("indicator") == "critical") critical_ = c.as_object();
    ASSERT_FALSE(critical_.empty());
  }
  std::string card_uuid() const { return std::string(critical_.at("uuid").as_string()); }
  std::string suggestion_uuid(std::size_t i = 0) const {
    return std::string(critical_.at("suggestions").as_array().at(i).at("uuid").as_string());
  }
  json::object reason(std::size_t i = 0) const {
    const auto& r = critical_.at("overrideReasons").as_array().at(i).as_object();
    return json::object{{"system", r.at("system")}, {"code", r.at("code")}, {"display", r.at("display")}};
  }
  Response post_feedback(const json::value& item, const char* path = kFeedback) {
    Client client(*server_);
    return client.post(path, json::serialize(json::object{{"feedback", json::array{item}}}));
  }
  json::object accepted() const {
    return json::object{{"card", card_uuid()},
                        {"outcome", "accepted"},
                        {"acceptedSuggestions", json::array{json::object{{"id", suggestion_uuid()}}}},
                        {"outcomeTimestamp", "2026-11-25T12:05:00Z"}};
  }
  json::object overridden() const {
    return json::object{{"card", card_uuid()},
                        {"outcome", "overridden"},
                        {"overrideReason", json::object{{"reason", reason()}, {"userComment", "patient prefers it"}}},
                        {"outcomeTimestamp", "2026-11-25T12:06:00Z"}};
  }

  std::unique_ptr<TestServer> server_;
  json::object critical_;
};

TEST_F(FeedbackTest, AcceptedAndOverriddenAreStoredWithoutFreeText) {
  auto a = post_feedback(accepted());
  EXPECT_EQ(a.result_int(), 200) << a.body();
  auto o = post_feedback(overridden());
  EXPECT_EQ(o.result_int(), 200) << o.body();
  AuditDb db(server_->audit_db());
  auto rows = db.rows(
      "SELECT card_uuid, service_id, outcome, accepted_suggestions, override_reason, has_user_comment, outcome_timestamp "
      "FROM feedback ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (AuditDb::Row{card_uuid(), "knee-oa-order-sign", "accepted", "[\"" + suggestion_uuid() + "\"]", "",
                                   "0", "2026-11-25T12:05:00Z"}));
  const auto r = reason();
  EXPECT_EQ(rows[1], (AuditDb::Row{card_uuid(), "knee-oa-order-sign", "overridden", "[]",
                                   std::string(r.at("system").as_string()) + "|" + std::string(r.at("code").as_string()),
                                   "1", "2026-11-25T12:06:00Z"}));
  EXPECT_EQ(db.count("feedback WHERE override_reason LIKE '%prefers%'"), 0);
}

TEST_F(FeedbackTest, EachInvalidItemIsRefusedNamingIt) {
  auto expect_400 = [&](const json::value& item, const std::string& names, const char* path = kFeedback) {
    auto res = post_feedback(item, path);
    std::string message = error_message(res, 400);
    EXPECT_NE(message.find(names), std::string::npos) << message;
  };
  auto unknown = accepted();
  unknown["card"] = "00000000-0000-0000-0000-000000000000";
  expect_400(unknown, "feedback[0].card");
  expect_400(accepted(), "issued by service knee-oa-order-sign", "/cds-services/knee-oa-order-select/feedback");
  auto bad_reason = overridden();
  bad_reason["overrideReason"].as_object()["reason"] =
      json::object{{"system", "https://example.org/other"}, {"code", "made-up"}, {"display", "x"}};
  expect_400(bad_reason, "overrideReason.reason");
  auto no_suggestions = accepted();
  no_suggestions.erase("acceptedSuggestions");
  expect_400(no_suggestions, "acceptedSuggestions");
  auto foreign_suggestion = accepted();
  foreign_suggestion["acceptedSuggestions"] = json::array{json::object{{"id", "not-a-suggestion"}}};
  expect_400(foreign_suggestion, "acceptedSuggestions[0].id");
  auto bad_outcome = accepted();
  bad_outcome["outcome"] = "ignored";
  expect_400(bad_outcome, "outcome");
  auto bad_time = accepted();
  bad_time["outcomeTimestamp"] = "yesterday";
  expect_400(bad_time, "outcomeTimestamp");
  Client client(*server_);
  EXPECT_NE(error_message(client.post(kFeedback, R"({"feedback": []})"), 400).find("feedback"), std::string::npos);
  AuditDb db(server_->audit_db());
  EXPECT_EQ(db.count("feedback"), 0);
}

TEST_F(FeedbackTest, OneBadItemStoresNothing) {
  Client client(*server_);
  auto bad = accepted();
  bad["outcome"] = "nope";
  auto res = client.post(kFeedback, json::serialize(json::object{{"feedback", json::array{accepted(), bad}}}));
  EXPECT_NE(error_message(res, 400).find("feedback[1]"), std::string::npos);
  AuditDb db(server_->audit_db());
  EXPECT_EQ(db.count("feedback"), 0);
}

// While another writer holds the database, the service cannot commit: it refuses advice (503)
// and reports not ready; once the lock goes, it recovers on its own.
TEST_F(FeedbackTest, AdviceWithoutARecordIsRefused) {
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(server_->audit_db().c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  Client client(*server_, 15s);
  auto res = client.post(kSignService, fixture_request(kFixture01));
  EXPECT_NE(error_message(res, 503).find("audit"), std::string::npos);
  EXPECT_EQ(res[http::field::retry_after], "5");
  auto ready = client.get("/readyz");
  EXPECT_EQ(ready.result_int(), 503);
  EXPECT_EQ(parse_json(ready.body()).at("auditWritable"), false);
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  auto again = client.post(kSignService, fixture_request(kFixture01));
  EXPECT_EQ(again.result_int(), 200) << again.body();
  EXPECT_EQ(client.get("/readyz").result_int(), 200);
}

}  // namespace
}  // namespace cdstest
