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

// The terms of a concept are found role by role as asked (and its texts looked at only for the
// roles a word may start): the answer must stay that of the straightforward way, for any number
// of sources and any order of asking: the first source (text, then each coding display) with a
// term of the role, found by TermMatcher::find.
// A resource without an id (found by fuzzing a patient-view whose pain Observation had none):
// its reference is "Type/", and appending the absent id is no memcpy from a null pointer (the
// sanitized build aborts on that).
TEST(Reference, OfAResourceWithoutAnId) {
  const json::object observation{{"resourceType", "Observation"}};
  Reference ref;
  reference_of(observation, ref);
  EXPECT_EQ(ref.view(), "Observation/");
  EXPECT_EQ(reference_of(observation), "Observation/");
  ref.append(std::string_view{});
  ref.assign(std::string_view{});
  EXPECT_TRUE(ref.empty());
}

TEST(ConceptMatcher, ConceptTextIsTheFirstSourceWithATermOfTheRole) {
  const auto& rs = rules_test::real_rules();
  const std::vector<std::string> phrases{"unrelated words", "Right knee", "Amniotic membrane injection",
                                         "not amniotic; PRP", "Kellgren-Lawrence grade 4", "caf\xC3\xA9 knee",
                                         "Wharton's jelly"};
  for (std::size_t displays : {0u, 1u, 3u, 7u, 8u, 12u}) {
    json::array coding;
    std::vector<std::string> sources{"no terms here"};
    for (std::size_t i = 0; i < displays; ++i) {
      const std::string& d = phrases[(i * 5 + displays) % phrases.size()];
      coding.push_back(json::object{{"system", "http://example.org/cs"}, {"code", "c" + std::to_string(i)}, {"display", d}});
      sources.push_back(d);
    }
    const json::object concept_json{{"text", sources.front()}, {"coding", coding}};
    const fhir::CodeableConcept cc(&concept_json);
    auto expected = [&](Role r) -> std::string {
      for (const std::string& text : sources) {
        TokenizedText tokens(text);
        rs.context.mark(tokens, {});
        if (const Term* t = TermMatcher::find(tokens, rs.vs(r).terms, modifier_bit(Modifier::historical))) return t->text;
      }
      return "";
    };
    ConceptMatcher m(rs);
    for (int pass = 0; pass < 2; ++pass)  // the second time from the cache, in the other order
      for (std::size_t k = 0; k < kRoleCount; ++k) {
        const auto r = static_cast<Role>(pass == 0 ? k : kRoleCount - 1 - k);
        const ConceptMatcher::Hit h = m.concept_text(r, cc);
        EXPECT_EQ(h ? std::string(h.what) : std::string(), expected(r))
            << displays << " displays, role " << kRoleNames[static_cast<std::size_t>(r)];
      }
  }
}

}  // namespace
