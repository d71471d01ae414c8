// evaluate() on small hand-built requests: the branches the fixtures do not isolate.
#include "rules_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using rules_test::cards_of;

const fhir::Instant kNow = rules_test::instant("2026-11-25T12:00:00Z");

json::object bmac_order() {
  return json::parse(R"({
    "resourceType": "ServiceRequest", "id": "sr-1", "status": "draft", "intent": "order",
    "code": {"text": "Autologous bone marrow aspirate concentrate (BMAC) injection"},
    "bodySite": [{"text": "Right knee"}],
    "quantityQuantity": {"value": 1}
  })").as_object();
}

json::object knee_oa_condition() {
  return json::parse(R"({
    "resourceType": "Condition", "id": "koa",
    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "M17.11"}]},
    "onsetDateTime": "2012-01-01"
  })").as_object();
}

json::value bundle(json::array resources) {
  json::array entries;
  for (auto& r : resources) entries.push_back(json::object{{"resource", r}});
  return json::object{{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", std::move(entries)}};
}

struct Req {
  std::string hook = "order-sign";
  json::array drafts{bmac_order()};
  json::array conditions{knee_oa_condition()};
  json::array procedures, observations, extra;
  json::array selections;
};

rules::Evaluation eval(const Req& r, std::unique_ptr<rules_test::Request>* keep = nullptr) {
  json::object context{{"userId", "Practitioner/1"}, {"patientId", "p1"}};
  if (r.hook != "patient-view") context["draftOrders"] = bundle(r.drafts);
  if (!r.selections.empty()) context["selections"] = r.selections;
  json::object prefetch{{"patient", json::object{{"resourceType", "Patient"}, {"id", "p1"}, {"birthDate", "1950-01-01"}}},
                        {"conditions", bundle(r.conditions)},
                        {"procedures", bundle(r.procedures)},
                        {"observations", bundle(r.observations)}};
  if (!r.extra.empty()) prefetch["other"] = bundle(r.extra);
  auto req = rules_test::request_from_json(
      json::serialize(json::object{{"hook", r.hook}, {"hookInstance", "h"}, {"context", context}, {"prefetch", prefetch}}));
  auto ev = rules::evaluate(req->input, rules_test::real_rules(), rules_test::options(kNow));
  if (keep) *keep = std::move(req);
  return ev;
}

std::vector<std::string> rules_fired(const rules::Evaluation& ev) {
  std::vector<std::string> out;
  for (const auto& c : ev.card_records) out.push_back(c.rule_id);
  return out;
}

// Card and suggestion ids are time-ordered (UUIDv7) by when the cards are issued, to the
// millisecond, so the audit's index of card ids grows at its end; without an issue time, `now`.
TEST(Evaluate, CardAndSuggestionIdsCarryTheIssueTime) {
  auto req = rules_test::request_from_json(rules_test::read_file(fs::path(CDS_FIXTURES_DIR) / "requests" /
                                                                 "01-amniotic-fluid-order-sign-type3.json"),
                                           "knee-oa-order-sign");
  auto ids = [](const rules::Evaluation& ev) {
    std::vector<std::string> out;
    for (const json::value& c : cards_of(ev)) {
      out.emplace_back(c.at("uuid").as_string());
      if (const json::array* sg = fhir::array_field(&c.as_object(), "suggestions"))
        for (const json::value& s : *sg) out.emplace_back(s.at("uuid").as_string());
    }
    return out;
  };
  rules::EvalOptions o = rules_test::options(kNow);
  const auto at_now = ids(rules::evaluate(req->input, rules_test::real_rules(), o));
  o.issued_at = std::chrono::sys_time<std::chrono::milliseconds>(kNow) + std::chrono::milliseconds(123);
  const auto issued = ids(rules::evaluate(req->input, rules_test::real_rules(), o));
  o.issued_at += std::chrono::milliseconds(1);
  const auto later = ids(rules::evaluate(req->input, rules_test::real_rules(), o));
  ASSERT_GE(at_now.size(), 3u);  // two cards and a suggestion at least
  ASSERT_EQ(issued.size(), at_now.size());
  for (std::size_t i = 0; i < at_now.size(); ++i) {
    // 2026-11-25T12:00:00Z = 1 795 608 000 000 ms = 0x01a2 1293 b600.
    EXPECT_EQ(at_now[i].substr(0, 13), "01a21293-b600") << at_now[i];
    EXPECT_EQ(issued[i].substr(0, 13), "01a21293-b67b") << issued[i];
    EXPECT_EQ(issued[i][14], '7') << issued[i];
    EXPECT_LT(issued[i], later[i]);
    EXPECT_EQ(issued[i].substr(15), later[i].substr(15));  // the same names: only the time moved
  }
}

TEST(Evaluate, SingleShotFiresWithAliasedIcd10System) {
  EXPECT_THAT(rules_fired(eval({})), ElementsAre("single-shot-cell-injection", "whole-joint-plan"));
}

TEST(Evaluate, OrderRecordsCarryCodesAndCategory) {
  Req r;
  r.drafts.push_back(json::parse(R"({"resourceType": "ServiceRequest", "id": "xr", "status": "draft", "intent": "order",
    "code": {"coding": [{"system": "http://loinc.org", "code": "24650-4"}], "text": "XR knee"}})"));
  auto ev = eval(r);
  ASSERT_EQ(ev.orders.size(), 2u);
  EXPECT_EQ(ev.orders[0].reference, "ServiceRequest/sr-1");
  EXPECT_EQ(ev.orders[0].category, "autologous");
  EXPECT_EQ(ev.orders[1].category, "");
  EXPECT_THAT(ev.orders[1].codes, ElementsAre("http://loinc.org|24650-4"));
}

TEST(Evaluate, NoKneeOaMeansNothingFires) {
  Req r;
  r.conditions.clear();
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

TEST(Evaluate, KneeOaReasonReferenceIsResolvedThroughThePrefetch) {
  Req r;
  auto& o = r.drafts[0].as_object();
  o.erase("bodySite");
  o["reasonReference"] = json::array{json::object{{"reference", "Condition/koa"}}};
  auto ev = eval(r);
  ASSERT_THAT(rules_fired(ev), ElementsAre("single-shot-cell-injection", "whole-joint-plan"));
  EXPECT_THAT(ev.card_records[0].triggered_by, ElementsAre("ServiceRequest/sr-1", "Condition/koa"));
  // Without the reference (and no site) the order is not aimed at the knee.
  o.erase("reasonReference");
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

TEST(Evaluate, SeriesByRepeatCountOrQuantityIsNotASingleShot) {
  Req r;
  r.drafts[0].as_object()["occurrenceTiming"] = json::parse(R"({"repeat": {"count": 2}})");
  EXPECT_TRUE(cards_of(eval(r)).empty());
  Req q;
  q.drafts[0].as_object()["quantityQuantity"] = json::parse(R"({"value": 2})");
  EXPECT_TRUE(cards_of(eval(q)).empty());
}

TEST(Evaluate, MedicationRequestSeriesInDosageTiming) {
  Req r;
  r.drafts[0] = json::parse(R"({"resourceType": "MedicationRequest", "id": "mr", "status": "draft", "intent": "order",
    "medicationCodeableConcept": {"text": "Autologous mesenchymal stem cells"},
    "dosageInstruction": [{"site": {"text": "Left knee"}, "timing": {"repeat": {"count": 3}}}]})");
  EXPECT_TRUE(cards_of(eval(r)).empty());
  r.drafts[0].as_object()["dosageInstruction"].as_array()[0].as_object().erase("timing");
  EXPECT_THAT(rules_fired(eval(r)), ElementsAre("single-shot-cell-injection", "whole-joint-plan"));
}

TEST(Evaluate, ActiveProlotherapyCarePlanIsAPlan) {
  Req r;
  r.extra.push_back(json::parse(R"({"resourceType": "CarePlan", "id": "cp", "status": "active", "intent": "plan",
    "activity": [{"detail": {"status": "in-progress", "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.285", "code": "M0076"}]}}}]})"));
  EXPECT_TRUE(cards_of(eval(r)).empty());
  r.extra[0].as_object()["status"] = "completed";
  EXPECT_FALSE(cards_of(eval(r)).empty());
}

TEST(Evaluate, ActiveProlotherapyServiceRequestSeriesIsAPlan) {
  Req r;
  r.extra.push_back(json::parse(R"({"resourceType": "ServiceRequest", "id": "prolo", "status": "active", "intent": "order",
    "code": {"text": "Dextrose prolotherapy, whole knee"}, "occurrenceTiming": {"repeat": {"count": 4}}})"));
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

TEST(Evaluate, OldProlotherapyProcedureIsNotACurrentPlan) {
  Req r;
  r.procedures.push_back(json::parse(R"({"resourceType": "Procedure", "id": "p", "status": "completed",
    "code": {"text": "Prolotherapy"}, "performedDateTime": "2023-01-10"})"));
  EXPECT_FALSE(cards_of(eval(r)).empty());
  r.procedures[0].as_object()["performedDateTime"] = "2026-06-01";
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

TEST(Evaluate, DonorWinsInTheSameOrderAndNeedsNoSingleShot) {
  Req r;
  auto& o = r.drafts[0].as_object();
  o["code"] = json::object{{"text", "Umbilical cord MSC injection"}};
  o["occurrenceTiming"] = json::parse(R"({"repeat": {"count": 3}})");
  auto ev = eval(r);
  EXPECT_THAT(rules_fired(ev), ElementsAre("donor-derived-product", "whole-joint-plan"));
  EXPECT_EQ(ev.orders[0].category, "donor-derived");
}

TEST(Evaluate, ProlotherapyNoteOnTheOrderItselfMakesItPartOfAPlan) {
  Req r;
  r.drafts[0].as_object()["note"] = json::array{json::object{{"text", "with periarticular dextrose prolotherapy"}}};
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

TEST(Evaluate, OrderSelectWithoutSelectionsEvaluatesNothing) {
  Req r;
  r.hook = "order-select";
  auto ev = eval(r);
  EXPECT_TRUE(cards_of(ev).empty());
  EXPECT_TRUE(ev.orders.empty());
}

TEST(Evaluate, MarkdownInOrderTextIsEscaped) {
  Req r;
  r.drafts[0].as_object()["code"] = json::object{{"text", "Stem cell [click](http://evil.example) knee"}};
  auto ev = eval(r);
  const json::array cards = cards_of(ev);
  ASSERT_FALSE(cards.empty());
  const std::string detail(cards[0].as_object().at("detail").as_string());
  EXPECT_EQ(detail.find("[click](http"), std::string::npos);
  EXPECT_NE(detail.find("\\[click\\]\\(http"), std::string::npos);
}

// A patient-view whose record has one completed stem cell injection into the knee, 2026-06-01.
Req patient_view_after_injection() {
  Req r;
  r.hook = "patient-view";
  r.procedures.push_back(json::parse(R"({"resourceType": "Procedure", "id": "inj", "status": "completed",
    "code": {"text": "Stem cell injection"}, "bodySite": [{"text": "knee"}], "performedDateTime": "2026-06-01"})"));
  return r;
}

TEST(Evaluate, PatientViewNeedsAReadingLateEnoughAfterTheInjection) {
  Req r = patient_view_after_injection();
  r.observations.push_back(json::parse(R"({"resourceType": "Observation", "id": "nrs", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]}, "effectiveDateTime": "2026-07-01", "valueInteger": 8})"));
  EXPECT_TRUE(cards_of(eval(r)).empty());  // one month after: too early to judge
  r.observations[0].as_object()["effectiveDateTime"] = "2026-10-01";
  auto ev = eval(r);
  EXPECT_THAT(rules_fired(ev), ElementsAre("whole-joint-plan"));
  EXPECT_TRUE(ev.orders.empty());
  // Already on a prolotherapy plan: nothing to add.
  r.procedures.push_back(json::parse(R"({"resourceType": "Procedure", "id": "prolo", "status": "in-progress",
    "code": {"text": "Prolotherapy series"}, "performedPeriod": {"start": "2026-11-01"}})"));
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

TEST(Evaluate, PatientViewImprovedPainIsQuiet) {
  Req r = patient_view_after_injection();
  auto nrs = [](std::string_view id, std::string_view date, int v) {
    json::object o = json::parse(R"({"resourceType": "Observation", "status": "final",
      "code": {"text": "Pain score, NRS"}})").as_object();
    o["id"] = id;
    o["effectiveDateTime"] = date;
    o["valueInteger"] = v;
    return o;
  };
  r.observations = {nrs("a", "2026-05-20", 4), nrs("b", "2026-10-01", 3)};  // 25% drop, below 5: persists
  EXPECT_FALSE(cards_of(eval(r)).empty());
  r.observations = {nrs("a", "2026-05-20", 4), nrs("b", "2026-10-01", 2)};  // 50% drop: improved
  EXPECT_TRUE(cards_of(eval(r)).empty());
}

// A reading off the 0-10 scale is an error in the record, not a pain score: it is not used
// (found by fuzzing: 1e308 was printed as "pain scored -9223372036854775808/10", 99 as "99/10").
TEST(Evaluate, PainReadingsOffTheScaleAreNotUsed) {
  Req r = patient_view_after_injection();
  json::object nrs = json::parse(R"({"resourceType": "Observation", "id": "nrs", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]}, "effectiveDateTime": "2026-10-01"})").as_object();
  for (const json::value& off : {json::value(99), json::value(1e308), json::value(-1), json::value(10.5)}) {
    nrs["valueQuantity"] = json::object{{"value", off}};
    r.observations = {nrs};
    EXPECT_TRUE(cards_of(eval(r)).empty()) << off;
  }
  nrs["valueQuantity"] = json::object{{"value", 10}};  // the top of the scale is on it
  r.observations = {nrs};
  const json::array cards = cards_of(eval(r));
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_NE(cards[0].at("detail").as_string().find("10/10"), std::string::npos);
}

TEST(Evaluate, UnknownHookOrMissingContextIsQuiet) {
  rules::HookInput in;
  in.hook = "encounter-start";
  EXPECT_TRUE(rules_test::cards_of(rules::evaluate(in, rules_test::real_rules(), rules_test::options(kNow))).empty());
}

}  // namespace
