// collect_record reads Bundle entries itself (one pass over each entry's members); it must
// gather exactly what fhir::for_each_resource yields.
#include "rules/detail/clinical_record.hpp"

#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace rules::detail;
namespace json = boost::json;

json::object resource(std::string_view type, std::string_view id) {
  return json::object{{"resourceType", type}, {"id", id}};
}

TEST(CollectRecord, GathersBundleEntriesAndSingleResourcesLikeForEachResource) {
  json::array entries{
      json::object{{"fullUrl", "urn:a"}, {"resource", resource("Condition", "c1")}, {"search", {{"mode", "match"}}}},
      json::object{{"search", {{"mode", "outcome"}}}, {"resource", resource("Condition", "skipped")}},
      json::object{{"fullUrl", "urn:no-resource"}},
      json::object{{"resource", "not an object"}},
      42,
      json::object{{"resource", resource("Procedure", "p1")}, {"search", "not an object"}},
      json::object{{"resource", resource("Observation", "o1")}, {"search", {{"mode", "include"}}}},
  };
  json::array drafts{json::object{{"resource", resource("ServiceRequest", "sr1")}},
                     json::object{{"resource", resource("Condition", "not-an-order")}}};
  const json::value doc = json::object{
      {"context", {{"patientId", "p"}, {"draftOrders", {{"resourceType", "Bundle"}, {"entry", drafts}}}}},
      {"prefetch",
       {{"patient", resource("Patient", "p")},
        {"conditions", {{"resourceType", "Bundle"}, {"entry", entries}}},
        {"empty", {{"resourceType", "Bundle"}}},
        {"missing", nullptr}}}};
  const rules::HookInput in = rules_test::order_sign_input(doc);

  ClinicalRecord record;
  collect_record(in, record);
  ASSERT_NE(record.patient, nullptr);
  ASSERT_EQ(record.conditions.size(), 1u);
  EXPECT_EQ(reference_of(*record.conditions[0]), "Condition/c1");
  ASSERT_EQ(record.procedures.size(), 1u);
  EXPECT_EQ(reference_of(*record.procedures[0]), "Procedure/p1");
  ASSERT_EQ(record.observations.size(), 1u);
  ASSERT_EQ(record.draft_orders.size(), 1u);
  EXPECT_EQ(reference_of(*record.draft_orders[0]), "ServiceRequest/sr1");
  EXPECT_NE(record.index.resolve("urn:a"), nullptr);
  EXPECT_NE(record.index.resolve("ServiceRequest/sr1"), nullptr);
}

}  // namespace
