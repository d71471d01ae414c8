// What the two documentation pages are made of: the evidence page (what a clinician reads behind
// a card's link) and the rules page (what a rule author reads, with the ConText triggers).
#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

namespace json = boost::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(DescribeEvidence, CitationsRegulatoryFactsAndPlansWithNothingUnverified) {
  const json::object d = rules::describe_evidence(rules_test::real_rules()).as_object();
  EXPECT_EQ(lower(json::serialize(d)).find("verif"), std::string::npos);
  EXPECT_EQ(d.at("rulesPath").as_string(), "/docs/rules/knee-oa");
  const auto& reg = d.at("regulatory").as_object();
  EXPECT_GE(reg.at("facts").as_array().size(), 4u);
  EXPECT_EQ(reg.at("links").as_array().at(0).at("url").as_string(),
            "https://www.fda.gov/vaccines-blood-biologics/consumers-biologics/"
            "important-patient-and-consumer-information-about-regenerative-medicine-therapies");
  for (const auto& e : d.at("evidence").as_array()) {
    EXPECT_FALSE(e.at("citation").as_string().empty()) << e.at("key");
    EXPECT_EQ(e.at("url").as_string().rfind("https://", 0), 0u) << e.at("key");
    EXPECT_NE(e.at("url").as_string(), "https://www.fda.gov");
  }
  const auto& plans = d.at("plans").as_array();
  ASSERT_EQ(plans.size(), 3u);
  for (const auto& p : plans) {
    EXPECT_GE(p.at("components").as_array().size(), 2u);
    EXPECT_FALSE(p.at("studies").as_array().empty());
  }
}

TEST(Describe, ListsTheContextTriggersOfEveryModifier) {
  const json::object d = rules::describe(rules_test::real_rules()).as_object();
  const auto& ctx = d.at("context").as_object();
  for (std::string_view m : {"negated", "historical", "hypothetical", "experiencer"}) {
    const auto& mod = ctx.at("modifiers").at(m).as_object();
    EXPECT_FALSE(mod.at("description").as_string().empty()) << m;
    EXPECT_FALSE(mod.at("triggers").as_array().empty()) << m;
  }
  const std::string all = json::serialize(ctx);
  for (std::string_view t : {"\"s/p\"", "\"r/o\"", "\"declined\"", "\"backward\"", "\"prior to\"", "\"pastDates\""})
    EXPECT_NE(all.find(t), std::string::npos) << t;
  EXPECT_FALSE(d.at("orderableRoles").as_array().empty());
}

}  // namespace
