#include "fhir/validate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using fhir::Issue;
using fhir::validate_resource;

std::vector<std::string> paths(const std::vector<Issue>& issues) {
  std::vector<std::string> out;
  for (const Issue& i : issues) out.push_back(i.path);
  return out;
}

std::vector<Issue> validate(std::string_view text) { return validate_resource(json::parse(text)); }

// Exactly one issue, at `path`, with `message`.
void expect_one(std::string_view text, std::string_view path, std::string_view message) {
  auto issues = validate(text);
  ASSERT_EQ(issues.size(), 1u) << text;
  EXPECT_EQ(issues[0].path, path) << text;
  EXPECT_EQ(issues[0].message, message) << text;
}

TEST(Validate, WellFormedResourcesHaveNoIssues) {
  for (std::string_view text : {
           R"({"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-02", "gender": "male"})",
           R"({"resourceType": "Patient", "birthDate": "1980"})",
           R"({"resourceType": "Condition", "id": "c1",
               "code": {"text": "Knee OA", "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.11", "display": "x"}]},
               "bodySite": [{"text": "Right knee"}], "clinicalStatus": {"coding": [{"code": "active"}]},
               "verificationStatus": {"coding": []}, "onsetDateTime": "2015-06-01T00:00:00+02:00",
               "onsetPeriod": {"start": "2015"}, "onsetAge": {"value": 50.5}, "recordedDate": "2016"})",
           R"({"resourceType": "Observation", "status": "final", "code": {"text": "NRS"}, "valueInteger": 7,
               "valueQuantity": {"value": 7.5, "unit": "{score}"}, "valueCodeableConcept": {"text": "x"},
               "valueString": "x", "valueBoolean": true, "effectiveDateTime": "2020-01-01",
               "effectiveInstant": "2020-01-01T00:00:00.000Z", "effectivePeriod": {},
               "component": [{"code": {"text": "a"}}], "bodySite": {"text": "knee"}})",
           R"({"resourceType": "ServiceRequest", "id": "sr", "status": "draft", "intent": "order", "code": {"text": "x"},
               "bodySite": [], "quantityQuantity": {"value": 1}, "occurrenceTiming": {"repeat": {"count": 3}},
               "occurrenceDateTime": "2026-12", "occurrencePeriod": {}, "basedOn": [{"reference": "CarePlan/1"}],
               "reasonCode": [{"text": "OA"}], "reasonReference": [], "note": [{"text": "n"}],
               "subject": {"reference": "Patient/p"}})",
           R"({"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "x"}, "status": "draft",
               "intent": "order", "dosageInstruction": [{"site": {"text": "knee"}}], "dispenseRequest": {},
               "authoredOn": "2026-11-25T12:00:00Z"})",
           R"({"resourceType": "Procedure", "status": "completed", "performedDateTime": "2020-02-29",
               "performedPeriod": {"start": "2020"}, "reasonCode": [], "code": {}})",
           R"({"resourceType": "CarePlan", "status": "active", "intent": "plan", "activity": [], "category": [],
               "period": {}})",
           R"({"resourceType": "OperationOutcome", "issue": "whatever: no rules for this type"})",
           R"({"resourceType": "Bundle", "type": "searchset", "link": [], "entry": []})",
       }) {
    auto issues = validate(text);
    EXPECT_TRUE(issues.empty()) << text << "\nfirst issue: " << (issues.empty() ? "" : issues[0].path + " " + issues[0].message);
  }
}

TEST(Validate, NotAnObject) {
  for (std::string_view text : {"[]", "null", R"("Patient")", "42"}) expect_one(text, "", "a resource must be a JSON object");
}

TEST(Validate, ResourceType) {
  expect_one(R"({"id": "x"})", "resourceType", "missing or not a string");
  expect_one(R"({"resourceType": 3})", "resourceType", "missing or not a string");
  expect_one(R"({"resourceType": ""})", "resourceType", "missing or not a string");
}

TEST(Validate, IdMustBeAString) {
  expect_one(R"({"resourceType": "Patient", "id": 12})", "Patient.id", "expected a string");
  expect_one(R"({"resourceType": "Basic", "id": null})", "Basic.id", "expected a string");
}

// The R4 id datatype (found by fuzzing: a draft order with id "ServiceRequest/" made a delete
// action for "ServiceRequest/ServiceRequest/").
TEST(Validate, IdIsAFhirId) {
  for (const char* bad : {"", "ServiceRequest/", "a b", "x_y", "caf\u00e9", "../x"})
    expect_one(R"({"resourceType": "ServiceRequest", "id": ")" + std::string(bad) + R"("})", "ServiceRequest.id",
               "expected a FHIR id: 1 to 64 of A-Z, a-z, 0-9, '-' and '.'");
  expect_one(R"({"resourceType": "Patient", "id": ")" + std::string(65, 'a') + R"("})", "Patient.id",
             "expected a FHIR id: 1 to 64 of A-Z, a-z, 0-9, '-' and '.'");
  EXPECT_TRUE(validate(R"({"resourceType": "Patient", "id": ")" + std::string(64, 'a') + R"("})").empty());
  EXPECT_TRUE(validate(R"({"resourceType": "Patient", "id": "eXb3.Tq-9"})").empty());
}

TEST(Validate, PatientBirthDate) {
  expect_one(R"({"resourceType": "Patient", "birthDate": 19800102})", "Patient.birthDate",
             "expected a FHIR date/dateTime string");
  expect_one(R"({"resourceType": "Patient", "birthDate": "1980-02-30"})", "Patient.birthDate",
             "not a valid FHIR date/dateTime");
  expect_one(R"({"resourceType": "Patient", "birthDate": "1980-1-2"})", "Patient.birthDate",
             "not a valid FHIR date/dateTime");
  expect_one(R"({"resourceType": "Patient", "gender": ["male"]})", "Patient.gender", "expected a string");
}

TEST(Validate, CodeableConceptShapes) {
  expect_one(R"({"resourceType": "Condition", "code": "M17.11"})", "Condition.code", "expected a CodeableConcept object");
  expect_one(R"({"resourceType": "Condition", "code": {"coding": {"code": "M17.11"}}})", "Condition.code",
             "CodeableConcept.coding must be an array");
  expect_one(R"({"resourceType": "Condition", "code": {"coding": ["M17.11"]}})", "Condition.code",
             "each coding must be an object");
  expect_one(R"({"resourceType": "Condition", "code": {"coding": [{"code": 17}]}})", "Condition.code",
             "Coding.system/code/display must be strings");
  expect_one(R"({"resourceType": "Condition", "code": {"coding": [{"system": "s", "display": null}]}})",
             "Condition.code", "Coding.system/code/display must be strings");
  expect_one(R"({"resourceType": "Condition", "code": {"text": ["Knee OA"]}})", "Condition.code",
             "CodeableConcept.text must be a string");
}

TEST(Validate, ConceptArrays) {
  expect_one(R"({"resourceType": "Condition", "bodySite": {"text": "Right knee"}})", "Condition.bodySite",
             "expected an array of CodeableConcept");
  expect_one(R"({"resourceType": "Condition", "bodySite": [{"text": "ok"}, "knee"]})", "Condition.bodySite",
             "expected a CodeableConcept object");
  expect_one(R"({"resourceType": "ServiceRequest", "reasonCode": [{"coding": {}}]})", "ServiceRequest.reasonCode",
             "CodeableConcept.coding must be an array");
}

TEST(Validate, ConditionDates) {
  expect_one(R"({"resourceType": "Condition", "onsetDateTime": "2015-13"})", "Condition.onsetDateTime",
             "not a valid FHIR date/dateTime");
  expect_one(R"({"resourceType": "Condition", "onsetPeriod": "2015"})", "Condition.onsetPeriod", "expected an object");
  expect_one(R"({"resourceType": "Condition", "onsetAge": 50})", "Condition.onsetAge", "expected a Quantity object");
  expect_one(R"({"resourceType": "Condition", "recordedDate": "yesterday"})", "Condition.recordedDate",
             "not a valid FHIR date/dateTime");
}

TEST(Validate, ObservationValues) {
  expect_one(R"({"resourceType": "Observation", "valueInteger": "7"})", "Observation.valueInteger", "expected an integer");
  expect_one(R"({"resourceType": "Observation", "valueInteger": 7.5})", "Observation.valueInteger", "expected an integer");
  expect_one(R"({"resourceType": "Observation", "valueQuantity": {"value": "7"}})", "Observation.valueQuantity",
             "Quantity.value must be a number");
  expect_one(R"({"resourceType": "Observation", "valueQuantity": [7]})", "Observation.valueQuantity",
             "expected a Quantity object");
  expect_one(R"({"resourceType": "Observation", "valueBoolean": "true"})", "Observation.valueBoolean", "expected a boolean");
  expect_one(R"({"resourceType": "Observation", "valueString": 1})", "Observation.valueString", "expected a string");
  expect_one(R"({"resourceType": "Observation", "valueCodeableConcept": "Negative"})", "Observation.valueCodeableConcept",
             "expected a CodeableConcept object");
  expect_one(R"({"resourceType": "Observation", "component": {"code": {}}})", "Observation.component",
             "expected an array of objects");
  expect_one(R"({"resourceType": "Observation", "component": [{"code": {}}, 1]})", "Observation.component",
             "expected an array of objects");
  expect_one(R"({"resourceType": "Observation", "effectiveInstant": "2020-01-01T00:00:00+25:00"})",
             "Observation.effectiveInstant", "not a valid FHIR date/dateTime");
  expect_one(R"({"resourceType": "Observation", "bodySite": [{"text": "knee"}]})", "Observation.bodySite",
             "expected a CodeableConcept object");
}

TEST(Validate, OrderFields) {
  expect_one(R"({"resourceType": "ServiceRequest", "bodySite": {"text": "knee"}})", "ServiceRequest.bodySite",
             "expected an array of CodeableConcept");
  expect_one(R"({"resourceType": "ServiceRequest", "quantityQuantity": {"value": "1"}})",
             "ServiceRequest.quantityQuantity", "Quantity.value must be a number");
  expect_one(R"({"resourceType": "ServiceRequest", "occurrenceTiming": [{"repeat": {}}]})",
             "ServiceRequest.occurrenceTiming", "expected an object");
  expect_one(R"({"resourceType": "ServiceRequest", "reasonReference": ["Condition/c1"]})",
             "ServiceRequest.reasonReference", "expected an array of objects");
  expect_one(R"({"resourceType": "ServiceRequest", "basedOn": {"reference": "CarePlan/1"}})", "ServiceRequest.basedOn",
             "expected an array of objects");
  expect_one(R"({"resourceType": "ServiceRequest", "note": "text"})", "ServiceRequest.note",
             "expected an array of objects");
  expect_one(R"({"resourceType": "ServiceRequest", "subject": "Patient/p"})", "ServiceRequest.subject",
             "expected an object");
  expect_one(R"({"resourceType": "MedicationRequest", "medicationCodeableConcept": "BMAC"})",
             "MedicationRequest.medicationCodeableConcept", "expected a CodeableConcept object");
  expect_one(R"({"resourceType": "MedicationRequest", "dosageInstruction": {"site": {}}})",
             "MedicationRequest.dosageInstruction", "expected an array of objects");
  expect_one(R"({"resourceType": "MedicationRequest", "dispenseRequest": []})", "MedicationRequest.dispenseRequest",
             "expected an object");
  expect_one(R"({"resourceType": "MedicationRequest", "authoredOn": "2026-11-25T12:00"})",
             "MedicationRequest.authoredOn", "not a valid FHIR date/dateTime");
  expect_one(R"({"resourceType": "Procedure", "performedDateTime": 2020})", "Procedure.performedDateTime",
             "expected a FHIR date/dateTime string");
  expect_one(R"({"resourceType": "CarePlan", "activity": {"detail": {}}})", "CarePlan.activity",
             "expected an array of objects");
}

// In the order the client wrote them, so the first issue is the first one in its document.
TEST(Validate, ReportsEveryBadFieldInDocumentOrder) {
  auto issues = validate(R"({"resourceType": "Condition", "id": 1, "recordedDate": 5, "code": "x",
                             "bodySite": {}, "clinicalStatus": "active", "onsetDateTime": "2015-02-30"})");
  EXPECT_EQ(paths(issues), (std::vector<std::string>{"Condition.id", "Condition.recordedDate", "Condition.code",
                                                     "Condition.bodySite", "Condition.clinicalStatus",
                                                     "Condition.onsetDateTime"}));
}

TEST(Validate, UnknownFieldsAndTypesAreNotChecked) {
  EXPECT_TRUE(validate(R"({"resourceType": "Condition", "note": 5, "abatementDateTime": 7})").empty());
  EXPECT_TRUE(validate(R"({"resourceType": "Encounter", "status": 5, "period": "x"})").empty());
}

TEST(Validate, BundleFields) {
  expect_one(R"({"resourceType": "Bundle", "type": 1})", "Bundle.type", "expected a string");
  expect_one(R"({"resourceType": "Bundle", "entry": {"resource": {}}})", "Bundle.entry", "expected an array of entries");
  expect_one(R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}, "junk"]})",
             "Bundle.entry[1]", "expected an object");
  expect_one(R"({"resourceType": "Bundle", "link": "next"})", "Bundle.link", "expected an array of objects");
}

TEST(Validate, NestedBundleEntriesCarryTheirIndex) {
  expect_one(R"({"resourceType": "Bundle", "type": "collection", "entry": [
      {"resource": {"resourceType": "ServiceRequest", "code": {"text": "ok"}}},
      {"resource": {"resourceType": "Condition", "code": "M17.11"}}]})",
             "Bundle.entry[1].resource.Condition.code", "expected a CodeableConcept object");
  expect_one(R"({"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]})",
             "Bundle.entry[0].resource.resourceType", "missing or not a string");
  expect_one(R"({"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:1"}, {"resource": {"resourceType": "Patient", "id": 3}}]})",
             "Bundle.entry[1].resource.Patient.id", "expected a string");
}

TEST(Validate, NestedIssuesAfterNonObjectEntriesKeepTheArrayIndex) {
  auto issues = validate(R"({"resourceType": "Bundle", "entry": [
      "junk",
      {"resource": {"resourceType": "Observation", "valueInteger": "7"}},
      {"resource": {"resourceType": "MedicationRequest", "dosageInstruction": {}}}]})");
  EXPECT_EQ(paths(issues), (std::vector<std::string>{"Bundle.entry[0]", "Bundle.entry[1].resource.Observation.valueInteger",
                                                     "Bundle.entry[2].resource.MedicationRequest.dosageInstruction"}));
}

TEST(Validate, EntryResourceThatIsNotAnObject) {
  expect_one(R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}, {"resource": "ServiceRequest/sr-1"}]})",
             "Bundle.entry[1].resource", "expected a resource object");
}

TEST(Validate, BundleInsideBundle) {
  expect_one(R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Bundle", "entry": [
      {"resource": {"resourceType": "Patient", "birthDate": "1980-13"}}]}}]})",
             "Bundle.entry[0].resource.Bundle.entry[0].resource.Patient.birthDate", "not a valid FHIR date/dateTime");
}

// Which issues are fatal (the resource cannot be used) and which elements a rule reads.
TEST(Validate, FatalIssuesAreResourceTypeAndIdOnly) {
  EXPECT_TRUE(validate(R"({"id": "x"})").at(0).fatal);
  EXPECT_TRUE(validate(R"({"resourceType": "Patient", "id": "a/b"})").at(0).fatal);
  EXPECT_TRUE(validate("[]").at(0).fatal);
  auto issues = validate(R"({"resourceType": "ServiceRequest", "reasonCode": {"text": "OA"}, "subject": "Patient/p"})");
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_FALSE(issues[0].fatal);
  EXPECT_TRUE(issues[0].read_by_rules);
  EXPECT_FALSE(issues[1].fatal);
  EXPECT_FALSE(issues[1].read_by_rules);  // no rule reads an order's subject
}

// drop_malformed removes exactly the malformed elements and keeps everything else, at any depth.
TEST(DropMalformed, RemovesWrongShapedElementsAndKeepsTheRest) {
  json::value v = json::parse(R"({"resourceType": "Bundle", "type": "collection", "link": "x", "entry": [
      "junk",
      {"resource": {"resourceType": "MedicationRequest", "id": "mr-1", "reasonCode": {"text": "OA"},
                    "note": "n", "authoredOn": 2026, "medicationCodeableConcept": {"text": "ibuprofen"},
                    "status": "draft", "dosageInstruction": {}}},
      {"resource": "MedicationRequest/x"},
      {"resource": {"resourceType": "Condition", "id": "c-1", "code": {"coding": "M17.11"}, "onsetDateTime": "2015"}}]})");
  auto issues = fhir::drop_malformed(v);
  EXPECT_EQ(paths(issues), (std::vector<std::string>{
                               "Bundle.link", "Bundle.entry[0]", "Bundle.entry[1].resource.MedicationRequest.reasonCode",
                               "Bundle.entry[1].resource.MedicationRequest.note",
                               "Bundle.entry[1].resource.MedicationRequest.authoredOn",
                               "Bundle.entry[1].resource.MedicationRequest.dosageInstruction", "Bundle.entry[2].resource",
                               "Bundle.entry[3].resource.Condition.code"}));
  // (Object equality does not depend on member order, which a removal may change.)
  EXPECT_EQ(v, json::parse(R"({"resourceType": "Bundle", "type": "collection", "entry": [
      {"resource": {"resourceType": "MedicationRequest", "id": "mr-1", "medicationCodeableConcept": {"text": "ibuprofen"},
                    "status": "draft"}},
      {"resource": {"resourceType": "Condition", "id": "c-1", "onsetDateTime": "2015"}}]})"))
      << json::serialize(v);
  EXPECT_TRUE(validate_resource(v).empty());
  // What is left is well-formed: a second pass finds nothing.
  EXPECT_TRUE(fhir::drop_malformed(v).empty());
}

TEST(DropMalformed, RemovesNothingWhenAnIssueIsFatal) {
  const std::string text = R"({"resourceType": "Bundle", "entry": [
      {"resource": {"resourceType": "Condition", "id": "ok", "code": "x"}},
      {"resource": {"resourceType": "Condition", "id": "not/ok"}}]})";
  json::value v = json::parse(text);
  auto issues = fhir::drop_malformed(v);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_TRUE(issues[1].fatal);
  EXPECT_EQ(v, json::parse(text));
}

}  // namespace
