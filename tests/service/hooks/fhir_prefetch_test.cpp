// Prefetch templates (CDS Hooks 2.0): start-up checking, rendering with URL-encoding, and the
// SMART scope check the fallback FHIR client applies before each query.
#include "cds/hooks/prefetch.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace {

namespace json = boost::json;
using cds::check_prefetch_template;
using cds::render_prefetch;
using cds::scope_allows;

TEST(FhirPrefetchTemplate, AcceptsEverySpecToken) {
  for (const char* t : {"Patient/{{context.patientId}}", "Condition?patient={{context.patientId}}",
                        "Encounter/{{context.encounterId}}",
                        "Observation?patient={{context.patientId}}&encounter={{context.encounterId}}",
                        "Practitioner/{{userPractitionerId}}", "PractitionerRole/{{userPractitionerRoleId}}",
                        "Patient/{{userPatientId}}", "RelatedPerson/{{userRelatedPersonId}}", "Patient/123",
                        "Procedure?patient={{context.patientId}}&_count=50&_sort=-date"})
    EXPECT_EQ(check_prefetch_template(t), "") << t;
}

TEST(FhirPrefetchTemplate, RefusesUnknownTokensAndUnclosedBraces) {
  EXPECT_EQ(check_prefetch_template("Observation?patient={{unknown}}"),
            "unknown prefetch token {{unknown}} in 'Observation?patient={{unknown}}'");
  EXPECT_EQ(check_prefetch_template("Patient/{{context.}}"), "unknown prefetch token {{context.}} in 'Patient/{{context.}}'");
  EXPECT_EQ(check_prefetch_template("Patient/{{context.patient.id}}"),
            "unknown prefetch token {{context.patient.id}} in 'Patient/{{context.patient.id}}'");
  EXPECT_EQ(check_prefetch_template("Practitioner/{{userpractitionerid}}"),
            "unknown prefetch token {{userpractitionerid}} in 'Practitioner/{{userpractitionerid}}'");
  EXPECT_EQ(check_prefetch_template("Patient/{{patientId}}"), "unknown prefetch token {{patientId}} in 'Patient/{{patientId}}'");
  EXPECT_EQ(check_prefetch_template("Patient/{{context.patientId"),
            "unclosed {{ in prefetch template 'Patient/{{context.patientId'");
  EXPECT_EQ(check_prefetch_template("Condition?patient={{context.patientId}}&x={{"),
            "unclosed {{ in prefetch template 'Condition?patient={{context.patientId}}&x={{'");
}

json::object context(std::initializer_list<std::pair<std::string, std::string>> fields) {
  json::object o;
  for (const auto& [k, v] : fields) o[k] = v;
  return o;
}

TEST(FhirPrefetchRender, UrlEncodesContextValues) {
  const auto ctx = context({{"patientId", "a b&c/d?e=f#g+h\xC3\xA9\xE6\x97\xA5"}, {"userId", "Practitioner/dr-1"}});
  EXPECT_EQ(render_prefetch("Patient/{{context.patientId}}", ctx), "Patient/a%20b%26c%2Fd%3Fe%3Df%23g%2Bh%C3%A9%E6%97%A5");
  EXPECT_EQ(render_prefetch("Condition?patient={{context.patientId}}", context({{"patientId", "pat-05"}})),
            "Condition?patient=pat-05");
  // Unreserved characters stay as they are.
  EXPECT_EQ(render_prefetch("Patient/{{context.patientId}}", context({{"patientId", "Az09-._~"}})), "Patient/Az09-._~");
  EXPECT_EQ(render_prefetch("Observation?patient={{context.patientId}}&encounter={{context.encounterId}}",
                            context({{"patientId", "p 1"}, {"encounterId", "e&1"}})),
            "Observation?patient=p%201&encounter=e%261");
  EXPECT_EQ(render_prefetch("Patient/123", context({})), "Patient/123");
}

TEST(FhirPrefetchRender, UserTokensComeFromUserId) {
  const auto practitioner = context({{"userId", "Practitioner/abc"}, {"patientId", "p1"}});
  EXPECT_EQ(render_prefetch("Practitioner/{{userPractitionerId}}", practitioner), "Practitioner/abc");
  EXPECT_EQ(render_prefetch("PractitionerRole/{{userPractitionerRoleId}}", practitioner), std::nullopt);
  EXPECT_EQ(render_prefetch("Patient/{{userPatientId}}", practitioner), std::nullopt);
  EXPECT_EQ(render_prefetch("RelatedPerson/{{userRelatedPersonId}}", practitioner), std::nullopt);

  const auto role = context({{"userId", "PractitionerRole/r 1"}});
  EXPECT_EQ(render_prefetch("PractitionerRole/{{userPractitionerRoleId}}", role), "PractitionerRole/r%201");
  EXPECT_EQ(render_prefetch("Practitioner/{{userPractitionerId}}", role), std::nullopt)
      << "PractitionerRole/... is not a Practitioner";
  EXPECT_EQ(render_prefetch("Patient/{{userPatientId}}", context({{"userId", "Patient/p9"}})), "Patient/p9");
  EXPECT_EQ(render_prefetch("RelatedPerson/{{userRelatedPersonId}}", context({{"userId", "RelatedPerson/rp"}})),
            "RelatedPerson/rp");
  EXPECT_EQ(render_prefetch("Practitioner/{{userPractitionerId}}", context({{"userId", "Practitioner/"}})), std::nullopt);
}

TEST(FhirPrefetchRender, MissingValueGivesNothing) {
  EXPECT_EQ(render_prefetch("Encounter/{{context.encounterId}}", context({{"patientId", "p1"}})), std::nullopt);
  EXPECT_EQ(render_prefetch("Encounter/{{context.encounterId}}", context({{"encounterId", ""}})), std::nullopt);
  EXPECT_EQ(render_prefetch("Practitioner/{{userPractitionerId}}", context({{"patientId", "p1"}})), std::nullopt);
  json::object non_string{{"patientId", 42}};
  EXPECT_EQ(render_prefetch("Patient/{{context.patientId}}", non_string), std::nullopt);
  EXPECT_EQ(render_prefetch("Patient/{{context.patientId", context({{"patientId", "p1"}})), std::nullopt);
}

TEST(FhirPrefetchScope, SmartV1ReadCoversReadAndSearch) {
  EXPECT_TRUE(scope_allows("patient/Condition.read", "Condition?patient=p1"));
  EXPECT_TRUE(scope_allows("patient/Condition.read", "Condition/c1"));
  EXPECT_FALSE(scope_allows("patient/Condition.read", "Observation?patient=p1"));
  EXPECT_FALSE(scope_allows("patient/Condition.read", "Patient/p1"));
  EXPECT_TRUE(scope_allows("patient/*.read", "Patient/p1"));
  EXPECT_TRUE(scope_allows("patient/*.read", "Observation?patient=p1"));
  EXPECT_TRUE(scope_allows("user/*.*", "Procedure?patient=p1"));
  EXPECT_TRUE(scope_allows("user/Patient.*", "Patient/p1"));
  EXPECT_TRUE(scope_allows("system/*.read", "Condition?patient=p1"));
  EXPECT_FALSE(scope_allows("patient/*.write", "Condition?patient=p1"));
  EXPECT_FALSE(scope_allows("patient/Conditions.read", "Condition?patient=p1"));
}

TEST(FhirPrefetchScope, SmartV2NeedsSForSearchAndRForRead) {
  EXPECT_TRUE(scope_allows("patient/Condition.rs", "Condition?patient=p1"));
  EXPECT_TRUE(scope_allows("patient/Condition.rs", "Condition/c1"));
  EXPECT_TRUE(scope_allows("patient/Condition.s", "Condition?patient=p1"));
  EXPECT_FALSE(scope_allows("patient/Condition.s", "Condition/c1"));
  EXPECT_TRUE(scope_allows("patient/Condition.r", "Condition/c1"));
  EXPECT_FALSE(scope_allows("patient/Condition.r", "Condition?patient=p1"));
  EXPECT_TRUE(scope_allows("patient/*.cruds", "Observation?patient=p1"));
  EXPECT_FALSE(scope_allows("patient/*.cud", "Observation?patient=p1"));
  EXPECT_FALSE(scope_allows("patient/*.cud", "Patient/p1"));
  EXPECT_TRUE(scope_allows("user/Patient.r", "Patient/p1"));
}

TEST(FhirPrefetchScope, UnrelatedScopesAreRefused) {
  EXPECT_FALSE(scope_allows("", "Patient/p1"));
  EXPECT_FALSE(scope_allows("openid fhirUser launch/patient offline_access", "Patient/p1"));
  EXPECT_FALSE(scope_allows("launch patient/Observation.read", "Condition?patient=p1"));
  EXPECT_FALSE(scope_allows("Condition.read", "Condition?patient=p1"));
  EXPECT_FALSE(scope_allows("other/Condition.read", "Condition?patient=p1"));
  // One granting scope among others is enough.
  EXPECT_TRUE(scope_allows("openid  fhirUser patient/Observation.read patient/Condition.rs", "Condition?patient=p1"));
}

}  // namespace
