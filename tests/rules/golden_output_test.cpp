// The whole evaluation output (cards as serialized, card and order records, patient type) for
// every fixture request and the benchmark request, byte for byte against golden files made by
// the engine before its performance work (8e3b4a0): optimisations must not change a character.
// fixtures_test checks what the cards mean; this checks that nothing else moved.
//
// To regenerate after an intended output change: CDS_WRITE_GOLDEN=1 rules_tests
// --gtest_filter='GoldenOutput.*' (then review the diff).
#include "rules_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(CDS_FIXTURES_DIR).parent_path() / "rules" / "golden";

struct Case {
  std::string name;
  fs::path request;
  std::string service;
  std::string now;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& e : fs::directory_iterator(fs::path(CDS_FIXTURES_DIR) / "expected")) {
    const json::object expected = json::parse(rules_test::read_file(e.path())).as_object();
    out.push_back({e.path().stem().string(), fs::path(CDS_FIXTURES_DIR) / "requests" / e.path().filename(),
                   std::string(expected.at("service").as_string()), std::string(expected.at("now").as_string())});
  }
  out.push_back({"bench-order-sign-60", fs::path(CDS_RULES_DIR).parent_path().parent_path() / "bench" / "data" / "order-sign-60.json",
                 "knee-oa-order-sign", "2026-11-25T12:00:00Z"});
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return out;
}

std::string output_of(const Case& c) {
  auto request = rules_test::request_from_json(rules_test::read_file(c.request), c.service);
  const auto ev = rules::evaluate(request->input, rules_test::real_rules(),
                                  rules_test::options(rules_test::instant(c.now), c.name));
  json::array records, orders;
  for (const auto& r : ev.card_records) {
    json::array refs;
    for (const auto& t : r.triggered_by) refs.emplace_back(t);
    records.push_back(json::object{{"uuid", r.uuid}, {"ruleId", r.rule_id}, {"indicator", r.indicator},
                                   {"summary", r.summary}, {"triggeredBy", std::move(refs)}});
  }
  for (const auto& o : ev.orders) {
    json::array codes;
    for (const auto& k : o.codes) codes.emplace_back(k);
    orders.push_back(json::object{{"reference", o.reference}, {"codes", std::move(codes)}, {"category", o.category}});
  }
  // One member per line keeps a diff readable; the cards are kept exactly as serialized.
  std::string out = "{\"patientType\": " + json::serialize(json::value(ev.patient_type)) + ",\n";
  out += "\"orders\": " + json::serialize(orders) + ",\n";
  out += "\"cardRecords\": " + json::serialize(records) + ",\n";
  out += "\"cards\": " + ev.cards_json + "}\n";
  return out;
}

TEST(GoldenOutput, EveryFixtureAndTheBenchmarkRequestUnchanged) {
  const bool write = std::getenv("CDS_WRITE_GOLDEN") != nullptr;
  const auto all = cases();
  ASSERT_GE(all.size(), 31u);
  for (const Case& c : all) {
    const std::string got = output_of(c);
    const fs::path golden = kGoldenDir / (c.name + ".json");
    if (write) {
      fs::create_directories(kGoldenDir);
      std::ofstream(golden, std::ios::binary) << got;
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden;
    EXPECT_EQ(got, rules_test::read_file(golden)) << c.name;
  }
}

}  // namespace
