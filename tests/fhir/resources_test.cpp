#include "fhir/resources.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono;
namespace json = boost::json;
using fhir::Instant;

constexpr std::string_view kClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
constexpr std::string_view kVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status";

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

Instant at(year_month_day d, int h = 0, int m = 0, int s = 0) {
  return sys_days{d} + hours{h} + minutes{m} + seconds{s};
}

json::object status_concept(std::string_view system, std::string_view code) {
  json::object coding{{"code", code}};
  if (!system.empty()) coding["system"] = system;
  return json::object{{"coding", json::array{coding}}};
}

json::object condition(std::string_view clinical, std::string_view verification = {}) {
  json::object c{{"resourceType", "Condition"}, {"id", "c1"}};
  if (!clinical.empty()) c["clinicalStatus"] = status_concept(kClinical, clinical);
  if (!verification.empty()) c["verificationStatus"] = status_concept(kVerification, verification);
  return c;
}

// ---------------------------------------------------------------- Resource / Patient

TEST(Resource, TypeIdAndIs) {
  auto o = obj(R"({"resourceType": "Patient", "id": "pat-1"})");
  fhir::Resource r(&o);
  EXPECT_EQ(r.resource_type(), "Patient");
  EXPECT_EQ(r.id(), "pat-1");
  EXPECT_TRUE(r.is("Patient"));
  EXPECT_FALSE(r.is("patient"));
  EXPECT_EQ(r.json(), &o);
}

TEST(Resource, NullAndWrongTypedBasicsReadEmpty) {
  fhir::Resource null_view(nullptr);
  EXPECT_EQ(null_view.resource_type(), "");
  EXPECT_EQ(null_view.id(), "");
  EXPECT_FALSE(null_view.is("Patient"));
  auto o = obj(R"({"resourceType": ["Patient"], "id": 7})");
  fhir::Resource r(&o);
  EXPECT_EQ(r.resource_type(), "");
  EXPECT_EQ(r.id(), "");
}

TEST(Patient, BirthDateAndGender) {
  auto o = obj(R"({"resourceType": "Patient", "id": "p", "birthDate": "1981-03-04", "gender": "female"})");
  fhir::Patient p(&o);
  auto b = p.birth_date();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->precision, fhir::Precision::day);
  EXPECT_EQ(b->start, at(1981y / March / 4));
  EXPECT_EQ(p.gender(), "female");
}

TEST(Patient, PartialBirthDate) {
  auto o = obj(R"({"resourceType": "Patient", "birthDate": "1981"})");
  auto b = fhir::Patient(&o).birth_date();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->precision, fhir::Precision::year);
  EXPECT_EQ(b->start, at(1981y / January / 1));
}

TEST(Patient, MalformedFieldsReadAsAbsent) {
  for (std::string_view text : {R"({"resourceType": "Patient", "birthDate": 19810304, "gender": 1})",
                                R"({"resourceType": "Patient", "birthDate": "1981-02-30"})",
                                R"({"resourceType": "Patient", "birthDate": null, "gender": null})",
                                R"({"resourceType": "Patient"})"}) {
    auto o = obj(text);
    fhir::Patient p(&o);
    EXPECT_FALSE(p.birth_date().has_value()) << text;
    EXPECT_EQ(p.gender(), "") << text;
  }
}

// ---------------------------------------------------------------- Condition

TEST(ConditionIsActive, ClinicalStatusCodes) {
  struct Case {
    std::string_view clinical;
    bool active;
  };
  for (Case c : {Case{"active", true}, Case{"recurrence", true}, Case{"relapse", true}, Case{"inactive", false},
                 Case{"remission", false}, Case{"resolved", false}, Case{"Active", false}}) {
    auto o = condition(c.clinical);
    EXPECT_EQ(fhir::Condition(&o).is_active(), c.active) << c.clinical;
  }
}

TEST(ConditionIsActive, VerificationStatus) {
  struct Case {
    std::string_view verification;
    bool active;
  };
  for (Case c : {Case{"confirmed", true}, Case{"provisional", true}, Case{"differential", true},
                 Case{"unconfirmed", true}, Case{"refuted", false}, Case{"entered-in-error", false}}) {
    auto o = condition("active", c.verification);
    EXPECT_EQ(fhir::Condition(&o).is_active(), c.active) << c.verification;
  }
}

TEST(ConditionIsActive, RefutedWinsEvenWithoutClinicalStatus) {
  auto o = condition({}, "refuted");
  EXPECT_FALSE(fhir::Condition(&o).is_active());
  auto e = condition({}, "entered-in-error");
  EXPECT_FALSE(fhir::Condition(&e).is_active());
}

TEST(ConditionIsActive, MissingClinicalStatusDependsOnAbatement) {
  auto none = condition({});
  EXPECT_TRUE(fhir::Condition(&none).is_active());

  auto confirmed = condition({}, "confirmed");
  EXPECT_TRUE(fhir::Condition(&confirmed).is_active());

  for (std::string_view key : {"abatementDateTime", "abatementAge", "abatementString"}) {
    auto abated = condition({});
    if (key == "abatementAge")
      abated[key] = json::object{{"value", 40}, {"unit", "a"}};
    else
      abated[key] = key == "abatementString" ? "resolved after surgery" : "2020-01-01";
    EXPECT_FALSE(fhir::Condition(&abated).is_active()) << key;
  }
  auto period = condition({});
  period["abatementPeriod"] = json::object{{"start", "2020-01-01"}};
  EXPECT_FALSE(fhir::Condition(&period).is_active());
  auto range = condition({});
  range["abatementRange"] = json::object{{"low", json::object{{"value", 30}}}};
  EXPECT_FALSE(fhir::Condition(&range).is_active());
}

TEST(ConditionIsActive, ExplicitActiveStatusIgnoresAbatement) {
  auto o = condition("active");
  o["abatementDateTime"] = "2020-01-01";
  EXPECT_TRUE(fhir::Condition(&o).is_active());
}

TEST(ConditionIsActive, CodesWithoutSystemAreAccepted) {
  auto active = condition({});
  active["clinicalStatus"] = status_concept({}, "active");
  EXPECT_TRUE(fhir::Condition(&active).is_active());

  auto resolved = condition({});
  resolved["clinicalStatus"] = status_concept({}, "resolved");
  EXPECT_FALSE(fhir::Condition(&resolved).is_active());

  auto refuted = condition("active");
  refuted["verificationStatus"] = status_concept({}, "refuted");
  EXPECT_FALSE(fhir::Condition(&refuted).is_active());
}

TEST(ConditionIsActive, TheStandardSystemWinsOverOtherCodings) {
  auto o = obj(R"({"resourceType": "Condition",
    "clinicalStatus": {"coding": [
      {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"},
      {"system": "urn:oid:1.2.3", "code": "resolved"}]}})");
  EXPECT_TRUE(fhir::Condition(&o).is_active());
  auto r = obj(R"({"resourceType": "Condition",
    "clinicalStatus": {"coding": [
      {"system": "urn:oid:1.2.3", "code": "active"},
      {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}]}})");
  EXPECT_FALSE(fhir::Condition(&r).is_active());
}

TEST(ConditionIsActive, ClinicalStatusWithoutCodesIsNotActive) {
  auto o = obj(R"({"resourceType": "Condition", "clinicalStatus": {"text": "Active"}})");
  EXPECT_FALSE(fhir::Condition(&o).is_active());
}

TEST(ConditionIsActive, WrongTypedClinicalStatusReadsAsMissing) {
  auto o = obj(R"({"resourceType": "Condition", "clinicalStatus": "resolved"})");
  EXPECT_TRUE(fhir::Condition(&o).is_active());  // absent: no abatement → active
  auto abated = obj(R"({"resourceType": "Condition", "clinicalStatus": "active", "abatementDateTime": "2020"})");
  EXPECT_FALSE(fhir::Condition(&abated).is_active());
}

TEST(Condition, CodeBodySiteOnsetAndRecordedDate) {
  auto o = obj(R"({
    "resourceType": "Condition", "id": "oa-1",
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.11"}], "text": "Right knee OA"},
    "bodySite": [{"text": "Right knee"}, "knee", {"coding": [{"system": "http://snomed.info/sct", "code": "72696002"}]}],
    "onsetDateTime": "2015-06",
    "recordedDate": "2016-01-02T03:04:05+01:00"
  })");
  fhir::Condition c(&o);
  EXPECT_EQ(c.code().code_in("http://hl7.org/fhir/sid/icd-10-cm"), "M17.11");
  std::vector<std::string> sites;
  for (auto s : c.body_sites()) sites.emplace_back(s.text());
  EXPECT_EQ(sites, (std::vector<std::string>{"Right knee", ""}));
  auto onset = c.onset();
  ASSERT_TRUE(onset.start && onset.end);
  EXPECT_EQ(*onset.start, at(2015y / June / 1));
  EXPECT_EQ(*onset.end, at(2015y / July / 1));
  auto rec = c.recorded_date();
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->start, at(2016y / January / 2, 2, 4, 5));
  EXPECT_FALSE(c.onset_age().has_value());
}

TEST(Condition, OnsetPeriodAndAge) {
  auto o = obj(R"({"resourceType": "Condition", "onsetPeriod": {"start": "2010-01-01", "end": "2010-12-31"},
                   "onsetAge": {"value": 52, "unit": "a"}})");
  fhir::Condition c(&o);
  auto p = c.onset();
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, at(2010y / January / 1));
  EXPECT_EQ(*p.end, at(2011y / January / 1));
  auto age = c.onset_age();
  ASSERT_TRUE(age.has_value());
  EXPECT_EQ(age->value, 52.0);
  EXPECT_EQ(age->unit, "a");
}

TEST(Condition, OnsetDateTimeWinsOverPeriod) {
  auto o = obj(R"({"resourceType": "Condition", "onsetDateTime": "2012-05-05",
                   "onsetPeriod": {"start": "2010-01-01"}})");
  auto p = fhir::Condition(&o).onset();
  ASSERT_TRUE(p.start.has_value());
  EXPECT_EQ(*p.start, at(2012y / May / 5));
}

TEST(Condition, WrongTypesReadAsAbsent) {
  auto o = obj(R"({"resourceType": "Condition", "code": "M17.11", "bodySite": {"text": "knee"},
                   "onsetDateTime": 2015, "onsetPeriod": "2015", "recordedDate": ["2016"],
                   "onsetAge": {"value": "52"}})");
  fhir::Condition c(&o);
  EXPECT_FALSE(c.code().present());
  EXPECT_TRUE(c.body_sites().empty());
  EXPECT_FALSE(c.onset().start.has_value());
  EXPECT_FALSE(c.onset().end.has_value());
  EXPECT_FALSE(c.recorded_date().has_value());
  EXPECT_FALSE(c.onset_age().has_value());
}

TEST(Condition, UnparseableOnsetDateTimeFallsBackToPeriod) {
  auto o = obj(R"({"resourceType": "Condition", "onsetDateTime": "2015-13",
                   "onsetPeriod": {"start": "2014-02-03"}})");
  auto p = fhir::Condition(&o).onset();
  ASSERT_TRUE(p.start.has_value());
  EXPECT_EQ(*p.start, at(2014y / February / 3));
  EXPECT_FALSE(p.end.has_value());
}

// ---------------------------------------------------------------- Procedure

TEST(Procedure, Fields) {
  auto o = obj(R"({
    "resourceType": "Procedure", "id": "pr-1", "status": "completed",
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "20610"}], "text": "Corticosteroid injection"},
    "bodySite": [{"text": "Left knee"}],
    "performedDateTime": "2024-03-10T09:00:00Z",
    "reasonCode": [{"text": "Knee pain"}, {"text": "OA"}]
  })");
  fhir::Procedure p(&o);
  EXPECT_EQ(p.status(), "completed");
  EXPECT_TRUE(p.code().has_code("http://www.ama-assn.org/go/cpt", "20610"));
  ASSERT_EQ(p.body_sites().size(), 1u);
  EXPECT_EQ((*p.body_sites().begin()).text(), "Left knee");
  auto when = p.performed();
  ASSERT_TRUE(when.start && when.end);
  EXPECT_EQ(*when.start, at(2024y / March / 10, 9));
  EXPECT_EQ(*when.end, at(2024y / March / 10, 9, 0, 1));
  EXPECT_EQ(p.reason_codes().size(), 2u);
}

TEST(Procedure, PerformedPeriodWithOpenEnd) {
  auto o = obj(R"({"resourceType": "Procedure", "status": "in-progress", "performedPeriod": {"start": "2026-11-04"}})");
  auto when = fhir::Procedure(&o).performed();
  ASSERT_TRUE(when.start.has_value());
  EXPECT_EQ(*when.start, at(2026y / November / 4));
  EXPECT_FALSE(when.end.has_value());
}

TEST(Procedure, WrongTypesReadAsAbsent) {
  auto o = obj(R"({"resourceType": "Procedure", "status": 1, "code": [], "bodySite": "knee",
                   "performedDateTime": {"start": "2020"}, "reasonCode": {"text": "x"}})");
  fhir::Procedure p(&o);
  EXPECT_EQ(p.status(), "");
  EXPECT_FALSE(p.code().present());
  EXPECT_TRUE(p.body_sites().empty());
  EXPECT_FALSE(p.performed().start.has_value());
  EXPECT_TRUE(p.reason_codes().empty());
}

// ---------------------------------------------------------------- Observation

TEST(Observation, ValueInteger) {
  auto o = obj(R"({"resourceType": "Observation", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]}, "valueInteger": 7})");
  fhir::Observation ob(&o);
  EXPECT_TRUE(ob.code().has_code("http://loinc.org", "72514-3"));
  auto n = ob.value().number();
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 7.0);
  EXPECT_FALSE(ob.value().quantity().has_value());
  EXPECT_FALSE(ob.value().concept_value().present());
  EXPECT_TRUE(ob.is_usable());
}

TEST(Observation, ValueQuantityIntAndDouble) {
  auto i = obj(R"({"resourceType": "Observation", "valueQuantity": {"value": 6, "unit": "{score}"}})");
  auto q = fhir::Observation(&i).value().quantity();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->value, 6.0);
  EXPECT_EQ(q->unit, "{score}");
  EXPECT_EQ(fhir::Observation(&i).value().number(), std::optional<double>(6.0));

  auto d = obj(R"({"resourceType": "Observation", "valueQuantity": {"value": 6.5, "unit": "{score}"}})");
  EXPECT_EQ(fhir::Observation(&d).value().number(), std::optional<double>(6.5));
}

TEST(Observation, ValueIntegerWinsOverQuantity) {
  auto o = obj(R"({"resourceType": "Observation", "valueInteger": 3, "valueQuantity": {"value": 9}})");
  EXPECT_EQ(fhir::Observation(&o).value().number(), std::optional<double>(3.0));
}

TEST(Observation, ValueCodeableConceptStringAndBoolean) {
  auto o = obj(R"({"resourceType": "Observation",
                   "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260385009", "display": "Negative"}]},
                   "valueString": "bone-on-bone", "valueBoolean": false})");
  fhir::ObservedValue v = fhir::Observation(&o).value();
  EXPECT_TRUE(v.concept_value().has_code("http://snomed.info/sct", "260385009"));
  EXPECT_TRUE(v.concept_value().text_equals("negative"));
  EXPECT_EQ(v.string(), "bone-on-bone");
  EXPECT_EQ(v.boolean(), std::optional<bool>(false));
  EXPECT_FALSE(v.number().has_value());
}

TEST(Observation, WrongTypedValuesReadAsAbsent) {
  auto o = obj(R"({"resourceType": "Observation", "status": 3, "valueInteger": "7", "valueQuantity": 7,
                   "valueCodeableConcept": "Negative", "valueString": 5, "valueBoolean": "true",
                   "component": {"code": {"text": "x"}}, "bodySite": [{"text": "knee"}],
                   "effectiveDateTime": 20200101})");
  fhir::Observation ob(&o);
  EXPECT_FALSE(ob.value().number().has_value());
  EXPECT_FALSE(ob.value().quantity().has_value());
  EXPECT_FALSE(ob.value().concept_value().present());
  EXPECT_EQ(ob.value().string(), "");
  EXPECT_FALSE(ob.value().boolean().has_value());
  EXPECT_TRUE(ob.components().empty());
  EXPECT_FALSE(ob.body_site().present());
  EXPECT_FALSE(ob.effective().start.has_value());
  EXPECT_EQ(ob.status(), "");
  EXPECT_TRUE(ob.is_usable());  // no status is not a cancelled status
}

TEST(Observation, FractionalValueIntegerIsNotAnInteger) {
  auto o = obj(R"({"resourceType": "Observation", "valueInteger": 7.5})");
  EXPECT_FALSE(fhir::Observation(&o).value().number().has_value());
}

TEST(Observation, Components) {
  auto o = obj(R"({"resourceType": "Observation", "component": [
      {"code": {"text": "Pain at rest"}, "valueInteger": 4},
      42,
      {"code": {"text": "Pain walking"}, "valueQuantity": {"value": 6.5}},
      {"code": {"text": "Swelling"}, "valueCodeableConcept": {"text": "Moderate"}}
  ]})");
  fhir::Observation ob(&o);
  ASSERT_EQ(ob.components().size(), 3u);
  std::vector<std::string> codes;
  std::vector<std::optional<double>> values;
  for (auto c : ob.components()) {
    codes.emplace_back(c.code().text());
    values.push_back(c.value().number());
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"Pain at rest", "Pain walking", "Swelling"}));
  EXPECT_EQ(values, (std::vector<std::optional<double>>{4.0, 6.5, std::nullopt}));
  auto it = ob.components().begin();
  ++it;
  ++it;
  EXPECT_EQ((*it).value().concept_value().text(), "Moderate");
  EXPECT_FALSE(ob.value().number().has_value());  // the observation itself has no value
}

TEST(Observation, EffectiveDateTime) {
  auto o = obj(R"({"resourceType": "Observation", "effectiveDateTime": "2026-07-25T10:00:00-07:00"})");
  auto p = fhir::Observation(&o).effective();
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, at(2026y / July / 25, 17));
  EXPECT_EQ(*p.end, at(2026y / July / 25, 17, 0, 1));
}

TEST(Observation, EffectiveDateOnly) {
  auto o = obj(R"({"resourceType": "Observation", "effectiveDateTime": "2026-07-25"})");
  auto p = fhir::Observation(&o).effective();
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, at(2026y / July / 25));
  EXPECT_EQ(*p.end, at(2026y / July / 26));
}

TEST(Observation, EffectivePeriod) {
  auto o = obj(R"({"resourceType": "Observation", "effectivePeriod": {"start": "2026-07-01", "end": "2026-07"}})");
  auto p = fhir::Observation(&o).effective();
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, at(2026y / July / 1));
  EXPECT_EQ(*p.end, at(2026y / August / 1));
}

TEST(Observation, EffectiveInstant) {
  auto o = obj(R"({"resourceType": "Observation", "effectiveInstant": "2026-07-25T10:00:00.250Z"})");
  auto p = fhir::Observation(&o).effective();
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, at(2026y / July / 25, 10));
  EXPECT_EQ(*p.end, at(2026y / July / 25, 10, 0, 1));
}

TEST(Observation, EffectiveDateTimeWinsOverInstantAndPeriod) {
  auto o = obj(R"({"resourceType": "Observation", "effectiveDateTime": "2026-01-01",
                   "effectiveInstant": "2025-01-01T00:00:00Z", "effectivePeriod": {"start": "2024-01-01"}})");
  EXPECT_EQ(*fhir::Observation(&o).effective().start, at(2026y / January / 1));
  o.erase("effectiveDateTime");
  EXPECT_EQ(*fhir::Observation(&o).effective().start, at(2025y / January / 1));
  o.erase("effectiveInstant");
  EXPECT_EQ(*fhir::Observation(&o).effective().start, at(2024y / January / 1));
  o.erase("effectivePeriod");
  EXPECT_FALSE(fhir::Observation(&o).effective().start.has_value());
}

TEST(Observation, IsUsable) {
  for (auto [status, usable] : std::vector<std::pair<std::string_view, bool>>{
           {"final", true}, {"amended", true}, {"preliminary", true}, {"cancelled", false}, {"entered-in-error", false}}) {
    json::object o{{"resourceType", "Observation"}, {"status", status}};
    EXPECT_EQ(fhir::Observation(&o).is_usable(), usable) << status;
  }
}

TEST(Observation, BodySite) {
  auto o = obj(R"({"resourceType": "Observation", "bodySite": {"text": "Right knee"}})");
  EXPECT_EQ(fhir::Observation(&o).body_site().text(), "Right knee");
}

// ---------------------------------------------------------------- Order

const json::object kServiceRequest = obj(R"({
  "resourceType": "ServiceRequest", "id": "sr-bmac-1", "status": "draft", "intent": "order",
  "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0232T"}], "text": "BMAC injection right knee"},
  "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "49076000"}], "text": "Right knee"}, "left"],
  "quantityQuantity": {"value": 1, "unit": "injection"},
  "occurrenceTiming": {"repeat": {"count": 2, "countMax": 3, "period": 2, "periodUnit": "wk"}},
  "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.11"}]}],
  "reasonReference": [{"reference": "Condition/oa-1"}, {"reference": "Observation/kl-1"}],
  "basedOn": [{"reference": "CarePlan/cp-1"}],
  "note": [{"text": "Patient prefers morning"}, {"text": "Series of three"}],
  "authoredOn": "2026-11-25T12:00:00Z"
})");

const json::object kMedicationRequest = obj(R"({
  "resourceType": "MedicationRequest", "id": "mr-wharton-1", "status": "draft", "intent": "order",
  "medicationCodeableConcept": {"text": "Wharton's jelly allograft"},
  "code": {"text": "not read for a MedicationRequest"},
  "dosageInstruction": [
    {"site": {"text": "Right knee"}, "timing": {"repeat": {"count": 1}}},
    {"text": "no site here", "timing": {"repeat": {"countMax": 4}}},
    "junk",
    {"site": {"text": "Left knee"}, "timing": {"repeat": {"count": 2}}}
  ],
  "dispenseRequest": {"quantity": {"value": 2.5, "unit": "mL"}},
  "authoredOn": "2026-11-20"
})");

TEST(Order, IsOrder) {
  for (std::string_view t : {"ServiceRequest", "MedicationRequest", "Procedure"}) {
    json::object o{{"resourceType", t}};
    EXPECT_TRUE(fhir::Order::is_order(&o)) << t;
  }
  for (std::string_view t : {"Observation", "Condition", "NutritionOrder", "serviceRequest", ""}) {
    json::object o{{"resourceType", t}};
    EXPECT_FALSE(fhir::Order::is_order(&o)) << t;
  }
  EXPECT_FALSE(fhir::Order::is_order(nullptr));
}

TEST(Order, ServiceRequest) {
  fhir::Order o(&kServiceRequest);
  EXPECT_EQ(o.status(), "draft");
  EXPECT_EQ(o.intent(), "order");
  EXPECT_TRUE(o.code().has_code("http://www.ama-assn.org/go/cpt", "0232T"));
  EXPECT_EQ(o.code().text(), "BMAC injection right knee");
  std::vector<std::string> sites;
  o.for_each_body_site([&](fhir::CodeableConcept c) { sites.emplace_back(c.text()); });
  EXPECT_EQ(sites, (std::vector<std::string>{"Right knee"}));
  EXPECT_EQ(o.quantity(), std::optional<double>(1.0));
  EXPECT_EQ(o.repeat_count(), std::optional<long long>(3));  // countMax 3 > count 2
  ASSERT_EQ(o.reason_codes().size(), 1u);
  EXPECT_EQ((*o.reason_codes().begin()).code_in("http://hl7.org/fhir/sid/icd-10-cm"), "M17.11");
  std::vector<std::string> reasons, based, notes;
  for (auto r : o.reason_references()) reasons.emplace_back(r.reference());
  for (auto r : o.based_on()) based.emplace_back(r.reference());
  for (auto n : o.notes()) notes.emplace_back(n.text());
  EXPECT_EQ(reasons, (std::vector<std::string>{"Condition/oa-1", "Observation/kl-1"}));
  EXPECT_EQ(based, (std::vector<std::string>{"CarePlan/cp-1"}));
  EXPECT_EQ(notes, (std::vector<std::string>{"Patient prefers morning", "Series of three"}));
  auto when = o.when();
  ASSERT_TRUE(when.start.has_value());
  EXPECT_EQ(*when.start, at(2026y / November / 25, 12));
}

TEST(Order, RepeatCountAloneOrCountMaxAlone) {
  auto count = obj(R"({"resourceType": "ServiceRequest", "occurrenceTiming": {"repeat": {"count": 3}}})");
  EXPECT_EQ(fhir::Order(&count).repeat_count(), std::optional<long long>(3));
  auto count_max = obj(R"({"resourceType": "ServiceRequest", "occurrenceTiming": {"repeat": {"countMax": 5}}})");
  EXPECT_EQ(fhir::Order(&count_max).repeat_count(), std::optional<long long>(5));
  auto bigger_count = obj(R"({"resourceType": "ServiceRequest", "occurrenceTiming": {"repeat": {"count": 6, "countMax": 5}}})");
  EXPECT_EQ(fhir::Order(&bigger_count).repeat_count(), std::optional<long long>(6));
  auto none = obj(R"({"resourceType": "ServiceRequest", "occurrenceTiming": {"repeat": {"frequency": 1}}})");
  EXPECT_FALSE(fhir::Order(&none).repeat_count().has_value());
}

TEST(Order, MedicationRequest) {
  fhir::Order o(&kMedicationRequest);
  EXPECT_EQ(o.code().text(), "Wharton's jelly allograft");
  std::vector<std::string> sites;
  o.for_each_body_site([&](fhir::CodeableConcept c) { sites.emplace_back(c.text()); });
  EXPECT_EQ(sites, (std::vector<std::string>{"Right knee", "Left knee"}));
  EXPECT_EQ(o.quantity(), std::optional<double>(2.5));
  EXPECT_EQ(o.repeat_count(), std::optional<long long>(4));  // the largest over all dosages
  auto when = o.when();
  ASSERT_TRUE(when.start && when.end);
  EXPECT_EQ(*when.start, at(2026y / November / 20));
  EXPECT_EQ(*when.end, at(2026y / November / 21));
  EXPECT_TRUE(o.reason_codes().empty());
  EXPECT_TRUE(o.based_on().empty());
}

TEST(Order, MedicationRequestWithoutMedicationConceptHasNoCode) {
  auto o = obj(R"({"resourceType": "MedicationRequest", "medicationReference": {"reference": "Medication/m1"},
                   "code": {"text": "ignored"}})");
  EXPECT_FALSE(fhir::Order(&o).code().present());
}

TEST(Order, ProcedureAsOrder) {
  auto o = obj(R"({"resourceType": "Procedure", "id": "pr-prolo", "status": "in-progress",
                   "code": {"text": "Prolotherapy series, right knee"}, "bodySite": [{"text": "Right knee"}],
                   "performedPeriod": {"start": "2026-11-04"}, "reasonCode": [{"text": "Knee OA"}]})");
  fhir::Order ord(&o);
  EXPECT_EQ(ord.code().text(), "Prolotherapy series, right knee");
  EXPECT_EQ(ord.status(), "in-progress");
  std::vector<std::string> sites;
  ord.for_each_body_site([&](fhir::CodeableConcept c) { sites.emplace_back(c.text()); });
  EXPECT_EQ(sites, (std::vector<std::string>{"Right knee"}));
  auto when = ord.when();
  ASSERT_TRUE(when.start.has_value());
  EXPECT_EQ(*when.start, at(2026y / November / 4));
  EXPECT_FALSE(when.end.has_value());
  EXPECT_FALSE(ord.quantity().has_value());
  EXPECT_FALSE(ord.repeat_count().has_value());
  EXPECT_TRUE(ord.has_reference("Procedure/pr-prolo"));
}

TEST(Order, WhenPrefersOccurrenceThenPerformedThenAuthoredOn) {
  auto o = obj(R"({"resourceType": "ServiceRequest", "occurrenceDateTime": "2027-01-05",
                   "occurrencePeriod": {"start": "2027-02-01"}, "authoredOn": "2026-11-25"})");
  EXPECT_EQ(*fhir::Order(&o).when().start, at(2027y / January / 5));
  o.erase("occurrenceDateTime");
  EXPECT_EQ(*fhir::Order(&o).when().start, at(2027y / February / 1));
  o.erase("occurrencePeriod");
  EXPECT_EQ(*fhir::Order(&o).when().start, at(2026y / November / 25));
  o.erase("authoredOn");
  EXPECT_FALSE(fhir::Order(&o).when().start.has_value());
  EXPECT_FALSE(fhir::Order(&o).when().end.has_value());
}

TEST(Order, HasReference) {
  fhir::Order sr(&kServiceRequest);
  EXPECT_TRUE(sr.has_reference("ServiceRequest/sr-bmac-1"));
  EXPECT_FALSE(sr.has_reference("ServiceRequest/sr-bmac-"));
  EXPECT_FALSE(sr.has_reference("ServiceRequest/sr-bmac-12"));
  EXPECT_FALSE(sr.has_reference("ServiceRequest/xr-bmac-1"));
  EXPECT_FALSE(sr.has_reference("MedicationRequest/sr-bmac-1"));
  EXPECT_FALSE(sr.has_reference("ServiceRequestXsr-bmac-1"));
  EXPECT_FALSE(sr.has_reference("sr-bmac-1"));
  EXPECT_FALSE(sr.has_reference(""));
  EXPECT_FALSE(sr.has_reference("http://ehr/fhir/ServiceRequest/sr-bmac-1"));
  EXPECT_TRUE(fhir::Order(&kMedicationRequest).has_reference("MedicationRequest/mr-wharton-1"));

  auto no_id = obj(R"({"resourceType": "ServiceRequest"})");
  EXPECT_FALSE(fhir::Order(&no_id).has_reference("ServiceRequest/"));
  auto numeric_id = obj(R"({"resourceType": "ServiceRequest", "id": 5})");
  EXPECT_FALSE(fhir::Order(&numeric_id).has_reference("ServiceRequest/5"));
}

TEST(Order, WrongTypesReadAsAbsent) {
  auto o = obj(R"({
    "resourceType": "ServiceRequest", "id": "sr-x", "status": ["draft"], "intent": 1,
    "code": "0232T", "bodySite": {"text": "Right knee"},
    "quantityQuantity": {"value": "1"}, "occurrenceTiming": {"repeat": {"count": "3", "countMax": 2.5}},
    "reasonCode": {"text": "OA"}, "reasonReference": "Condition/oa-1", "basedOn": {"reference": "CarePlan/cp"},
    "note": "a note", "occurrenceDateTime": 2026, "authoredOn": true
  })");
  fhir::Order ord(&o);
  EXPECT_EQ(ord.status(), "");
  EXPECT_EQ(ord.intent(), "");
  EXPECT_FALSE(ord.code().present());
  int sites = 0;
  ord.for_each_body_site([&](fhir::CodeableConcept) { ++sites; });
  EXPECT_EQ(sites, 0);
  EXPECT_FALSE(ord.quantity().has_value());
  EXPECT_FALSE(ord.repeat_count().has_value());
  EXPECT_TRUE(ord.reason_codes().empty());
  EXPECT_TRUE(ord.reason_references().empty());
  EXPECT_TRUE(ord.based_on().empty());
  EXPECT_TRUE(ord.notes().empty());
  EXPECT_FALSE(ord.when().start.has_value());
  EXPECT_TRUE(ord.has_reference("ServiceRequest/sr-x"));
}

TEST(Order, MedicationRequestWrongTypes) {
  auto o = obj(R"({
    "resourceType": "MedicationRequest", "medicationCodeableConcept": "BMAC",
    "dosageInstruction": {"site": {"text": "knee"}},
    "dispenseRequest": {"quantity": 3}
  })");
  fhir::Order ord(&o);
  EXPECT_FALSE(ord.code().present());
  int sites = 0;
  ord.for_each_body_site([&](fhir::CodeableConcept) { ++sites; });
  EXPECT_EQ(sites, 0);
  EXPECT_FALSE(ord.quantity().has_value());
  auto site_string = obj(R"({"resourceType": "MedicationRequest",
                             "dosageInstruction": [{"site": "knee", "timing": {"repeat": "3"}}]})");
  fhir::Order ord2(&site_string);
  ord2.for_each_body_site([&](fhir::CodeableConcept) { ++sites; });
  EXPECT_EQ(sites, 0);
  EXPECT_FALSE(ord2.repeat_count().has_value());
}

TEST(Order, NullViewIsEmpty) {
  fhir::Order ord(nullptr);
  EXPECT_FALSE(ord.code().present());
  EXPECT_FALSE(ord.quantity().has_value());
  EXPECT_FALSE(ord.repeat_count().has_value());
  EXPECT_FALSE(ord.has_reference("ServiceRequest/x"));
  EXPECT_FALSE(ord.when().start.has_value());
}

// ---------------------------------------------------------------- CarePlan

TEST(CarePlan, Fields) {
  auto o = obj(R"({
    "resourceType": "CarePlan", "status": "active", "intent": "plan", "title": "Whole-joint plan",
    "description": "Series of injections",
    "category": [{"text": "Orthopedics"}],
    "period": {"start": "2026-12-01", "end": "2027-03"},
    "activity": [
      {"detail": {"code": {"text": "PRP"}, "status": "scheduled", "description": "Intra-articular PRP"}},
      {"reference": {"reference": "ServiceRequest/sr-prolo"}},
      7
    ]
  })");
  fhir::CarePlan cp(&o);
  EXPECT_EQ(cp.status(), "active");
  EXPECT_EQ(cp.intent(), "plan");
  EXPECT_EQ(cp.title(), "Whole-joint plan");
  EXPECT_EQ(cp.description(), "Series of injections");
  ASSERT_EQ(cp.categories().size(), 1u);
  EXPECT_EQ((*cp.categories().begin()).text(), "Orthopedics");
  auto p = cp.period();
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, at(2026y / December / 1));
  EXPECT_EQ(*p.end, at(2027y / April / 1));
  ASSERT_EQ(cp.activities().size(), 2u);
  auto it = cp.activities().begin();
  fhir::CarePlanActivity first = *it;
  EXPECT_EQ(first.detail_code().text(), "PRP");
  EXPECT_EQ(first.detail_status(), "scheduled");
  EXPECT_EQ(first.detail_description(), "Intra-articular PRP");
  EXPECT_EQ(first.reference().reference(), "");
  fhir::CarePlanActivity second = *++it;
  EXPECT_FALSE(second.detail_code().present());
  EXPECT_EQ(second.detail_status(), "");
  EXPECT_EQ(second.reference().reference(), "ServiceRequest/sr-prolo");
}

TEST(CarePlan, WrongTypesReadAsAbsent) {
  auto o = obj(R"({"resourceType": "CarePlan", "status": 1, "activity": {"detail": {}}, "category": "x",
                   "period": "2026", "title": ["t"]})");
  fhir::CarePlan cp(&o);
  EXPECT_EQ(cp.status(), "");
  EXPECT_EQ(cp.title(), "");
  EXPECT_TRUE(cp.activities().empty());
  EXPECT_TRUE(cp.categories().empty());
  EXPECT_FALSE(cp.period().start.has_value());
  auto a = obj(R"({"detail": "PRP", "reference": "ServiceRequest/x"})");
  fhir::CarePlanActivity act(&a);
  EXPECT_FALSE(act.detail_code().present());
  EXPECT_EQ(act.detail_status(), "");
  EXPECT_EQ(act.reference().reference(), "");
}

// ---------------------------------------------------------------- json.hpp helpers

TEST(JsonHelpers, TypedFieldAccess) {
  auto o = obj(R"({"s": "x", "i": -4, "u": 18446744073709551615, "d": 2.5, "b": true, "n": null,
                   "a": [1, {"k": 1}, "z", {"k": 2}], "o": {"k": "v"}})");
  EXPECT_EQ(fhir::string_field(&o, "s"), "x");
  EXPECT_EQ(fhir::string_field(&o, "i"), "");
  EXPECT_EQ(fhir::string_field(&o, "missing"), "");
  EXPECT_EQ(fhir::string_field(nullptr, "s"), "");
  EXPECT_EQ(fhir::integer_field(&o, "i"), std::optional<long long>(-4));
  EXPECT_FALSE(fhir::integer_field(&o, "u").has_value());  // too large for long long
  EXPECT_FALSE(fhir::integer_field(&o, "d").has_value());
  EXPECT_FALSE(fhir::integer_field(&o, "s").has_value());
  EXPECT_EQ(fhir::number_field(&o, "d"), std::optional<double>(2.5));
  EXPECT_EQ(fhir::number_field(&o, "i"), std::optional<double>(-4.0));
  EXPECT_FALSE(fhir::number_field(&o, "b").has_value());
  EXPECT_FALSE(fhir::number_field(&o, "n").has_value());
  EXPECT_EQ(fhir::object_field(&o, "o"), o.at("o").if_object());
  EXPECT_EQ(fhir::object_field(&o, "a"), nullptr);
  EXPECT_EQ(fhir::array_field(&o, "a"), o.at("a").if_array());
  EXPECT_EQ(fhir::array_field(&o, "o"), nullptr);
  EXPECT_NE(fhir::field(&o, "n"), nullptr);
  EXPECT_EQ(fhir::field(nullptr, "n"), nullptr);

  auto u_small = obj(R"({"u": 9000000000000000000})");
  EXPECT_EQ(fhir::integer_field(&u_small, "u"), std::optional<long long>(9'000'000'000'000'000'000LL));
}

TEST(JsonHelpers, ObjectRangeSkipsNonObjects) {
  auto a = json::parse(R"([1, {"id": "a"}, "z", null, {"id": "b"}, [], {"id": "c"}, true])").as_array();
  fhir::ObjectRange<fhir::Resource> r(&a);
  std::vector<std::string> ids;
  for (auto x : r) ids.emplace_back(x.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.size(), 3u);
  EXPECT_FALSE(r.empty());

  auto only_junk = json::parse(R"([1, "x", null])").as_array();
  EXPECT_TRUE(fhir::ObjectRange<fhir::Resource>(&only_junk).empty());
  EXPECT_EQ(fhir::ObjectRange<fhir::Resource>(&only_junk).size(), 0u);
  json::array empty;
  EXPECT_TRUE(fhir::ObjectRange<fhir::Resource>(&empty).empty());
  EXPECT_TRUE(fhir::ObjectRange<fhir::Resource>(nullptr).empty());
  EXPECT_EQ(fhir::ObjectRange<fhir::Resource>(nullptr).size(), 0u);
}

}  // namespace
