#include "rules/detail/patient_type.hpp"

#include "rules_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace rules::detail;
namespace json = boost::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fhir::Instant kNow = rules_test::instant("2026-11-25T12:00:00Z");

json::object coding(std::string_view system, std::string_view code) {
  return json::object{{"system", system}, {"code", code}};
}
json::object cc_text(std::string_view text) { return json::object{{"text", text}}; }
json::object cc_code(std::string_view system, std::string_view code, std::string_view text = {}) {
  json::object o{{"coding", json::array{coding(system, code)}}};
  if (!text.empty()) o["text"] = text;
  return o;
}
constexpr std::string_view kIcd = "http://hl7.org/fhir/sid/icd-10-cm";
constexpr std::string_view kCpt = "http://www.ama-assn.org/go/cpt";

json::object condition(std::string_view id, json::object code, std::string_view onset) {
  json::object c{{"resourceType", "Condition"},
                 {"id", id},
                 {"clinicalStatus", cc_code("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")},
                 {"code", std::move(code)}};
  if (!onset.empty()) c["onsetDateTime"] = onset;
  return c;
}
json::object knee_oa(std::string_view onset) { return condition("koa", cc_code(kIcd, "M17.11"), onset); }
json::object acl_sprain(std::string_view onset) { return condition("acl", cc_code(kIcd, "S83.511A"), onset); }

json::object procedure(std::string_view id, json::object code, std::string_view date, std::string_view status = "completed") {
  return json::object{{"resourceType", "Procedure"}, {"id", id}, {"status", status}, {"code", std::move(code)},
                      {"performedDateTime", date}};
}
json::object observation(std::string_view id, std::string_view text, json::object value) {
  json::object o{{"resourceType", "Observation"}, {"id", id}, {"status", "final"}, {"code", cc_text(text)},
                 {"effectiveDateTime", "2026-10-01"}};
  for (auto& kv : value) o[kv.key()] = kv.value();
  return o;
}
json::object kl(int grade) { return observation("kl", "Kellgren-Lawrence grade, right knee", {{"valueInteger", grade}}); }

json::value bundle(json::array resources) {
  json::array entries;
  for (auto& r : resources) entries.push_back(json::object{{"resource", r}});
  return json::object{{"resourceType", "Bundle"}, {"type", "searchset"}, {"entry", std::move(entries)}};
}

struct Case {
  std::optional<std::string> birth_date = "1960-01-01";
  json::array conditions = {};
  json::array procedures = {};
  json::array observations = {};
  json::array drafts = {};
};

PatientTyping type_of(const Case& c) {
  json::object prefetch;
  if (c.birth_date) prefetch["patient"] = json::object{{"resourceType", "Patient"}, {"id", "p"}, {"birthDate", *c.birth_date}};
  prefetch["conditions"] = c.conditions.empty() ? json::value(nullptr) : bundle(c.conditions);
  prefetch["procedures"] = c.procedures.empty() ? json::value(nullptr) : bundle(c.procedures);
  prefetch["observations"] = c.observations.empty() ? json::value(nullptr) : bundle(c.observations);
  json::object context{{"userId", "Practitioner/1"}, {"patientId", "p"}};
  if (!c.drafts.empty()) context["draftOrders"] = bundle(c.drafts);
  const json::value doc = json::object{{"hook", "order-sign"}, {"context", context}, {"prefetch", prefetch}};
  const rules::HookInput in = rules_test::order_sign_input(doc);
  ClinicalRecord record;
  collect_record(in, record);
  ConceptMatcher m(rules_test::real_rules());
  return type_patient(record, knee_oa_conditions(record, m), m, kNow);
}

TEST(PatientType, Type3ByKellgrenLawrenceGrade4) {
  auto t = type_of({.conditions = {knee_oa("2024-01-01")}, .observations = {kl(4)}});
  EXPECT_EQ(t.type, "3");
  ASSERT_EQ(t.reasons.size(), 1u);
  EXPECT_THAT(t.reasons[0], HasSubstr("Kellgren-Lawrence grade 4"));
  EXPECT_THAT(t.evidence, ElementsAre("Observation/kl"));
}

TEST(PatientType, KellgrenLawrenceGradeFromStringOrCodedValue) {
  EXPECT_EQ(type_of({.observations = {observation("kl", "KL grade", {{"valueString", "Grade 4"}})}}).type, "3");
  EXPECT_EQ(type_of({.observations = {observation("kl", "Kellgren", {{"valueCodeableConcept", cc_code("http://example.org/kl", "KL4")}})}}).type, "3");
  EXPECT_EQ(type_of({.observations = {observation("kl", "Kellgren", {{"valueQuantity", json::object{{"value", 4}}}})}}).type, "3");
  EXPECT_NE(type_of({.observations = {kl(3)}}).type, "3");
}

// A grade off the 0-4 scale is no grade (1e308 once rounded to an unspecified value that read
// as grade 0, "imaging known").
TEST(PatientType, KellgrenLawrenceGradeOffTheScaleIsNoGrade) {
  for (double off : {1e308, 5.0, -1.0})
    EXPECT_THAT(type_of({.conditions = {knee_oa("")},
                         .observations = {observation("kl", "Kellgren", {{"valueQuantity", json::object{{"value", off}}}})}})
                    .missing,
                Contains(HasSubstr("no imaging grade")))
        << off;
  EXPECT_EQ(type_of({.observations = {observation("kl", "Kellgren", {{"valueQuantity", json::object{{"value", 3.7}}}})}}).type,
            "3");  // rounds to 4
}

TEST(PatientType, Type3ByBoneOnBoneText) {
  auto t = type_of({.conditions = {condition("c", cc_code(kIcd, "M17.11", "Bone-on-bone osteoarthritis of right knee"), "2023-01-01")},
                    .observations = {kl(3)}});
  EXPECT_EQ(t.type, "3");
  EXPECT_THAT(t.reasons[0], HasSubstr("bone"));
}

TEST(PatientType, NegatedBoneOnBoneDoesNotCount) {
  auto t = type_of({.conditions = {condition("c", cc_code(kIcd, "M17.11", "Knee OA, no bone on bone changes"), "2025-01-01")},
                    .observations = {kl(2)}});
  EXPECT_NE(t.type, "3");
}

TEST(PatientType, Type3ByKneeReplacementOrder) {
  json::object tka{{"resourceType", "ServiceRequest"}, {"id", "tka"}, {"status", "draft"}, {"intent", "order"},
                   {"code", cc_code(kCpt, "27447")}};
  EXPECT_EQ(type_of({.observations = {kl(2)}, .drafts = {tka}}).type, "3");
  tka["status"] = "completed";  // a past replacement request is not a recommendation now
  EXPECT_NE(type_of({.observations = {kl(2)}, .drafts = {tka}}).type, "3");
}

TEST(PatientType, Type3ByLongOaWithTwoKindsOfPriorInjections) {
  Case c{.conditions = {knee_oa("2014-01-01")},
         .procedures = {procedure("s", cc_text("Intra-articular corticosteroid injection"), "2019-01-01"),
                        procedure("h", cc_text("Hyaluronic acid injection"), "2020-01-01")},
         .observations = {kl(3)}};
  auto t = type_of(c);
  EXPECT_EQ(t.type, "3");
  EXPECT_THAT(t.reasons[0], HasSubstr("12 years"));
  // Under 10 years the same history is not type 3; the two injection kinds are also conservative care.
  c.conditions = {knee_oa("2020-01-01")};
  EXPECT_EQ(type_of(c).type, "2");
}

TEST(PatientType, Type2ByOldInjuryAndConservativeCare) {
  json::object nsaid{{"resourceType", "MedicationRequest"}, {"id", "n"}, {"status", "completed"}, {"intent", "order"},
                     {"medicationCodeableConcept", cc_text("Naproxen 500 mg")}};
  auto t = type_of({.conditions = {acl_sprain("2021-05-01"), knee_oa("2025-09-01")},
                    .procedures = {procedure("pt", cc_text("Physical therapy program"), "2021-07-01"), nsaid},
                    .observations = {kl(2)}});
  EXPECT_EQ(t.type, "2");
  EXPECT_THAT(t.reasons.back(), HasSubstr("NSAIDs"));
  EXPECT_THAT(t.reasons.back(), HasSubstr("physical therapy"));
}

TEST(PatientType, Type2NeedsTwoKindsOfConservativeCare) {
  auto t = type_of({.conditions = {knee_oa("2020-01-01")},
                    .procedures = {procedure("pt", cc_text("Physical therapy program"), "2021-07-01")},
                    .observations = {kl(2)}});
  EXPECT_EQ(t.type, "unknown");
  EXPECT_THAT(t.missing, ElementsAre("the record fits none of the three patient types"));
}

TEST(PatientType, NotDoneProceduresAreNotHistory) {
  auto t = type_of({.conditions = {knee_oa("2020-01-01")},
                    .procedures = {procedure("pt", cc_text("Physical therapy program"), "2021-07-01"),
                                   procedure("s", cc_text("Corticosteroid injection"), "2022-07-01", "not-done")},
                    .observations = {kl(2)}});
  EXPECT_EQ(t.type, "unknown");
}

// A procedure dated after now is no history at all: neither a kind of prior care nor "some
// procedure history", wherever it stands among the others.
TEST(PatientType, ProceduresAfterNowAreNotHistory) {
  const json::object future_injection = procedure("s-future", cc_text("Corticosteroid injection"), "2027-01-01");
  auto t = type_of({.birth_date = "1961-08-19", .conditions = {knee_oa("2025-10-01")}, .procedures = {future_injection}});
  EXPECT_THAT(t.missing, ElementsAre(HasSubstr("no imaging grade"), "no procedure history"));

  Case c{.conditions = {knee_oa("2014-01-01")},
         .procedures = {procedure("x", cc_text("Dental cleaning"), "2019-01-01"), future_injection,
                        procedure("h", cc_text("Hyaluronic acid injection"), "2020-01-01")},
         .observations = {kl(3)}};
  EXPECT_NE(type_of(c).type, "3");  // one kind of prior injection before now
  c.procedures.push_back(procedure("s", cc_text("Corticosteroid injection"), "2021-01-01"));
  auto t3 = type_of(c);
  EXPECT_EQ(t3.type, "3");
  EXPECT_THAT(t3.evidence, ElementsAre("Condition/koa", "Procedure/h", "Procedure/s"));
}

TEST(PatientType, Type1YoungerWithRecentInjury) {
  auto t = type_of({.birth_date = "1991-06-14", .conditions = {acl_sprain("2026-07-20"), knee_oa("2026-09-15")}});
  EXPECT_EQ(t.type, "1");
  EXPECT_THAT(t.reasons, ElementsAre("age 35", HasSubstr("within the last 12 months")));
}

TEST(PatientType, Type1AgeLimitIsExclusive) {
  auto t = type_of({.birth_date = "1976-11-25", .conditions = {acl_sprain("2026-07-20"), knee_oa("2026-09-15")}});
  EXPECT_NE(t.type, "1");  // 50 today
}

TEST(PatientType, RecentInjuryNeedsAnOnsetNotJustARecordedDate) {
  json::object injury = acl_sprain("");
  injury["recordedDate"] = "2026-08-01";
  auto t = type_of({.birth_date = "1991-06-14", .conditions = {injury, knee_oa("2026-09-15")}});
  EXPECT_EQ(t.type, "unknown");
}

TEST(PatientType, UnknownNamesEveryMissingPieceOfData) {
  auto t = type_of({.birth_date = std::nullopt, .conditions = {knee_oa("")}});
  EXPECT_EQ(t.type, "unknown");
  EXPECT_THAT(t.missing, ElementsAre("no birth date", HasSubstr("no imaging grade"), "no procedure history",
                                     HasSubstr("no onset date")));
  EXPECT_TRUE(t.reasons.empty());
}

TEST(PatientType, UnknownWithBirthDateDoesNotClaimItIsMissing) {
  auto t = type_of({.birth_date = "1961-08-19", .conditions = {knee_oa("2025-10-01")}});
  EXPECT_EQ(t.type, "unknown");
  EXPECT_THAT(t.missing, ElementsAre(HasSubstr("no imaging grade"), "no procedure history"));
}

}  // namespace
