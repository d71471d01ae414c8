// Data that could be had neither by prefetch nor by fetching must never become a flag: the
// single-shot warning rests on "no plan in the procedure history", which needs that history.
#include "rules_test_support.hpp"

namespace {

using namespace rules_test;

std::unique_ptr<Request> fixture(const std::string& name) {
  return request_from_json(read_file(std::filesystem::path(CDS_FIXTURES_DIR) / "requests" / (name + ".json")),
                           "knee-oa-order-sign");
}

int count_rule(const rules::Evaluation& ev, std::string_view rule) {
  return static_cast<int>(std::count_if(ev.card_records.begin(), ev.card_records.end(),
                                        [&](const rules::CardRecord& c) { return c.rule_id == rule; }));
}

TEST(UnavailableData, SingleShotWarningNeedsTheProcedureHistory) {
  auto req = fixture("05-single-shot-bmac-type3");
  const auto now = instant("2026-11-25T12:00:00Z");
  auto with_history = rules::evaluate(req->input, real_rules(), options(now));
  ASSERT_EQ(count_rule(with_history, "single-shot-cell-injection"), 1);

  const std::string_view missing[] = {"procedures"};
  req->input.unavailable = missing;
  auto without = rules::evaluate(req->input, real_rules(), options(now));
  EXPECT_EQ(count_rule(without, "single-shot-cell-injection"), 0);
  EXPECT_EQ(rules_test::cards_of(without).size(), 0u);
}

TEST(UnavailableData, DonorDerivedFlagDoesNotDependOnHistory) {
  auto req = fixture("01-amniotic-fluid-order-sign-type3");
  const std::string_view missing[] = {"procedures", "observations"};
  req->input.unavailable = missing;
  auto ev = rules::evaluate(req->input, real_rules(), options(instant("2026-11-25T12:00:00Z")));
  EXPECT_EQ(count_rule(ev, "donor-derived-product"), 1);
  EXPECT_EQ(count_rule(ev, "whole-joint-plan"), 1);
}

}  // namespace
