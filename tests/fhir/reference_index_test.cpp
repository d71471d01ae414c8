#include "fhir/reference_index.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace json = boost::json;
using fhir::ReferenceIndex;

const json::value kBundle = json::parse(R"({
  "resourceType": "Bundle", "type": "searchset",
  "entry": [
    {"fullUrl": "https://ehr.example.org/fhir/Condition/c1", "resource": {"resourceType": "Condition", "id": "c1"}},
    {"fullUrl": "urn:uuid:7f8a4c1e-1111-4a2b-9c3d-000000000001",
     "resource": {"resourceType": "ServiceRequest", "id": "sr-1"}},
    {"fullUrl": "urn:uuid:7f8a4c1e-1111-4a2b-9c3d-000000000002",
     "resource": {"resourceType": "MedicationRequest"}},
    {"resource": {"resourceType": "Observation", "id": "o1"}},
    {"fullUrl": "urn:uuid:dangling"},
    "junk",
    {"resource": {"resourceType": "Condition", "id": "c2", "contained": [{"resourceType": "Medication", "id": "x"}]}}
  ]
})");

const json::object* entry_resource(std::size_t i) {
  return kBundle.at("entry").as_array()[i].as_object().at("resource").if_object();
}

class ReferenceIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { index.add(kBundle); }
  ReferenceIndex index;
};

TEST_F(ReferenceIndexTest, IndexesEveryEntryWithAResource) { EXPECT_EQ(index.size(), 5u); }

TEST_F(ReferenceIndexTest, RelativeReference) {
  EXPECT_EQ(index.resolve("Condition/c1"), entry_resource(0));
  EXPECT_EQ(index.resolve("ServiceRequest/sr-1"), entry_resource(1));
  EXPECT_EQ(index.resolve("Observation/o1"), entry_resource(3));
  EXPECT_EQ(index.resolve("Condition/c2"), entry_resource(6));
}

TEST_F(ReferenceIndexTest, AbsoluteUrlMatchesFullUrlOrTypeAndId) {
  EXPECT_EQ(index.resolve("https://ehr.example.org/fhir/Condition/c1"), entry_resource(0));
  // No fullUrl match: falls back to the type and id at the end of the URL.
  EXPECT_EQ(index.resolve("https://ehr.example.org/fhir/Observation/o1"), entry_resource(3));
}

TEST_F(ReferenceIndexTest, UrnUuidResolvesOnlyByFullUrl) {
  EXPECT_EQ(index.resolve("urn:uuid:7f8a4c1e-1111-4a2b-9c3d-000000000001"), entry_resource(1));
  EXPECT_EQ(index.resolve("urn:uuid:7f8a4c1e-1111-4a2b-9c3d-000000000002"), entry_resource(2));
  EXPECT_EQ(index.resolve("urn:uuid:7f8a4c1e-1111-4a2b-9c3d-000000000003"), nullptr);
  EXPECT_EQ(index.resolve("urn:uuid:dangling"), nullptr);  // an entry without a resource
}

TEST_F(ReferenceIndexTest, HistoryVersionIsIgnored) {
  EXPECT_EQ(index.resolve("Condition/c1/_history/2"), entry_resource(0));
  EXPECT_EQ(index.resolve("https://other.example.org/fhir/ServiceRequest/sr-1/_history/7"), entry_resource(1));
}

TEST_F(ReferenceIndexTest, ContainedAndUnknownResolveToNothing) {
  EXPECT_EQ(index.resolve("#x"), nullptr);
  EXPECT_EQ(index.resolve("Medication/x"), nullptr);  // contained resources are not indexed
  EXPECT_EQ(index.resolve("Condition/c3"), nullptr);
  EXPECT_EQ(index.resolve("Procedure/c1"), nullptr);
  EXPECT_EQ(index.resolve("condition/c1"), nullptr);
  EXPECT_EQ(index.resolve("c1"), nullptr);
  EXPECT_EQ(index.resolve(""), nullptr);
  EXPECT_EQ(index.resolve("Condition/"), nullptr);
  EXPECT_EQ(index.resolve("MedicationRequest/"), nullptr);  // the id-less entry is not matched by an empty id
}

TEST(ReferenceIndex, SingleResource) {
  auto p = json::parse(R"({"resourceType": "Patient", "id": "pat-1"})");
  ReferenceIndex index;
  index.add(p);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.resolve("Patient/pat-1"), p.if_object());
  EXPECT_EQ(index.resolve("Patient/pat-2"), nullptr);
}

TEST(ReferenceIndex, SeveralDocumentsAndNonObjects) {
  auto p = json::parse(R"({"resourceType": "Patient", "id": "pat-1"})");
  auto b = json::parse(R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition", "id": "c1"}}]})");
  json::value null_value;
  auto arr = json::parse(R"([{"resourceType": "Patient", "id": "pat-9"}])");
  ReferenceIndex index;
  index.add(p);
  index.add(b);
  index.add(null_value);
  index.add(arr);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.resolve("Patient/pat-1"), p.if_object());
  EXPECT_EQ(index.resolve("Condition/c1"), b.at("entry").at(0).at("resource").if_object());
  EXPECT_EQ(index.resolve("Patient/pat-9"), nullptr);
}

TEST(ReferenceIndex, FirstMatchWins) {
  auto b = json::parse(R"({"resourceType": "Bundle", "entry": [
    {"resource": {"resourceType": "Condition", "id": "dup", "n": 1}},
    {"resource": {"resourceType": "Condition", "id": "dup", "n": 2}}]})");
  ReferenceIndex index;
  index.add(b);
  EXPECT_EQ(index.resolve("Condition/dup"), b.at("entry").at(0).at("resource").if_object());
}

TEST(ReferenceIndex, EmptyIndex) {
  ReferenceIndex index;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.resolve("Patient/p"), nullptr);
}

struct Split {
  std::string ref;
  bool ok;
  std::string type, id;
};

class SplitReference : public ::testing::TestWithParam<Split> {};

TEST_P(SplitReference, Splits) {
  const Split& s = GetParam();
  std::string_view type = "unchanged", id = "unchanged";
  EXPECT_EQ(fhir::split_reference(s.ref, type, id), s.ok) << s.ref;
  if (s.ok) {
    EXPECT_EQ(type, s.type) << s.ref;
    EXPECT_EQ(id, s.id) << s.ref;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EdgeCases, SplitReference,
    ::testing::Values(Split{"Patient/123", true, "Patient", "123"},
                      Split{"ServiceRequest/sr-bmac-1", true, "ServiceRequest", "sr-bmac-1"},
                      Split{"https://ehr.example.org/fhir/Condition/c1", true, "Condition", "c1"},
                      Split{"Condition/c1/_history/2", true, "Condition", "c1"},
                      Split{"http://x/fhir/Observation/o.1/_history/abc", true, "Observation", "o.1"},
                      Split{"", false, "", ""}, Split{"#contained", false, "", ""},
                      Split{"urn:uuid:7f8a4c1e-1111-4a2b-9c3d-000000000001", false, "", ""},
                      Split{"urn:oid:1.2.3/Patient/1", false, "", ""}, Split{"Patient", false, "", ""},
                      Split{"Patient/", false, "", ""}, Split{"/123", false, "", ""},
                      Split{"patient/123", false, "", ""}, Split{"Patient//123", false, "", ""},
                      Split{"/_history/2", false, "", ""}, Split{"Patient/_history/2", false, "", ""},
                      Split{"123/456", false, "", ""}, Split{"http://x/fhir/metadata/1", false, "", ""}));

}  // namespace
