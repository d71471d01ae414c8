#include "fhir/bundle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

namespace json = boost::json;

std::vector<std::string> ids_of(const json::value& v) {
  std::vector<std::string> ids;
  fhir::for_each_resource(v, [&](const json::object& r) {
    ids.push_back(std::string(fhir::string_field(&r, "resourceType")) + "/" + std::string(fhir::string_field(&r, "id")));
  });
  return ids;
}

const json::value kSearchset = json::parse(R"({
  "resourceType": "Bundle", "type": "searchset", "total": 2,
  "link": [
    {"relation": "self", "url": "https://ehr.example.org/fhir/Condition?patient=p1"},
    "junk",
    {"relation": "next", "url": "https://ehr.example.org/fhir/Condition?patient=p1&page=2"}
  ],
  "entry": [
    {"fullUrl": "https://ehr.example.org/fhir/Condition/c1", "resource": {"resourceType": "Condition", "id": "c1"},
     "search": {"mode": "match"}},
    {"fullUrl": "urn:uuid:0a1b", "resource": {"resourceType": "OperationOutcome", "id": "oo"},
     "search": {"mode": "outcome"}},
    "not an entry",
    17,
    {"fullUrl": "https://ehr.example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"},
     "search": {"mode": "include"}},
    {"fullUrl": "urn:uuid:no-resource"},
    {"resource": "Condition/c9"},
    {"resource": {"resourceType": "Condition", "id": "c2"}}
  ]
})");

TEST(Bundle, IsBundle) {
  EXPECT_TRUE(fhir::Bundle::is_bundle(kSearchset));
  EXPECT_FALSE(fhir::Bundle::is_bundle(json::parse(R"({"resourceType": "Condition"})")));
  EXPECT_FALSE(fhir::Bundle::is_bundle(json::parse(R"({"resourceType": "bundle"})")));
  EXPECT_FALSE(fhir::Bundle::is_bundle(json::parse(R"({"type": "searchset", "entry": []})")));
  EXPECT_FALSE(fhir::Bundle::is_bundle(json::parse(R"([{"resourceType": "Bundle"}])")));
  EXPECT_FALSE(fhir::Bundle::is_bundle(json::parse(R"("Bundle")")));
  EXPECT_FALSE(fhir::Bundle::is_bundle(json::value(nullptr)));
}

TEST(Bundle, TypeEntriesAndLinks) {
  fhir::Bundle b(kSearchset.if_object());
  EXPECT_EQ(b.type(), "searchset");
  EXPECT_EQ(b.resource_type(), "Bundle");
  EXPECT_EQ(b.entries().size(), 6u);  // the string and the number are skipped

  std::vector<std::string> urls, modes;
  std::vector<bool> has_resource;
  for (fhir::BundleEntry e : b.entries()) {
    urls.emplace_back(e.full_url());
    modes.emplace_back(e.search_mode());
    has_resource.push_back(e.resource() != nullptr);
  }
  EXPECT_EQ(urls, (std::vector<std::string>{"https://ehr.example.org/fhir/Condition/c1", "urn:uuid:0a1b",
                                            "https://ehr.example.org/fhir/Patient/p1", "urn:uuid:no-resource", "",
                                            ""}));
  EXPECT_EQ(modes, (std::vector<std::string>{"match", "outcome", "include", "", "", ""}));
  EXPECT_EQ(has_resource, (std::vector<bool>{true, true, true, false, false, true}));

  EXPECT_EQ(b.links().size(), 2u);
  EXPECT_EQ(b.link("self"), "https://ehr.example.org/fhir/Condition?patient=p1");
  EXPECT_EQ(b.next_link(), "https://ehr.example.org/fhir/Condition?patient=p1&page=2");
  EXPECT_EQ(b.link("previous"), "");
}

TEST(Bundle, NoLinksNoNext) {
  auto v = json::parse(R"({"resourceType": "Bundle", "type": "collection"})");
  fhir::Bundle b(v.if_object());
  EXPECT_TRUE(b.entries().empty());
  EXPECT_TRUE(b.links().empty());
  EXPECT_EQ(b.next_link(), "");
}

TEST(Bundle, WrongTypedFieldsReadAsAbsent) {
  auto v = json::parse(R"({"resourceType": "Bundle", "type": 3,
    "entry": {"resource": {"resourceType": "Condition", "id": "c1"}},
    "link": {"relation": "next", "url": "x"}})");
  fhir::Bundle b(v.if_object());
  EXPECT_EQ(b.type(), "");
  EXPECT_TRUE(b.entries().empty());
  EXPECT_TRUE(b.links().empty());
  EXPECT_EQ(b.next_link(), "");
  EXPECT_TRUE(ids_of(v).empty());
}

TEST(Bundle, WrongTypedLinkAndEntryFields) {
  auto v = json::parse(R"({"resourceType": "Bundle",
    "link": [{"relation": "next", "url": 5}, {"relation": ["next"], "url": "y"}],
    "entry": [{"fullUrl": 1, "search": "outcome", "resource": {"resourceType": "Condition", "id": "c1"}},
              {"search": {"mode": 2}, "resource": {"resourceType": "Condition", "id": "c2"}}]})");
  fhir::Bundle b(v.if_object());
  EXPECT_EQ(b.next_link(), "");
  auto it = b.entries().begin();
  EXPECT_EQ((*it).full_url(), "");
  EXPECT_EQ((*it).search_mode(), "");
  EXPECT_EQ(ids_of(v), (std::vector<std::string>{"Condition/c1", "Condition/c2"}));
}

TEST(ForEachResource, BundleSkipsOutcomesAndNonObjects) {
  EXPECT_EQ(ids_of(kSearchset), (std::vector<std::string>{"Condition/c1", "Patient/p1", "Condition/c2"}));
}

TEST(ForEachResource, OutcomeModeSkipsWhateverTheResourceIs) {
  auto v = json::parse(R"({"resourceType": "Bundle", "entry": [
    {"resource": {"resourceType": "Condition", "id": "c1"}, "search": {"mode": "outcome"}},
    {"resource": {"resourceType": "OperationOutcome", "id": "oo"}}]})");
  // Only search.mode decides; an OperationOutcome entry without it is passed on.
  EXPECT_EQ(ids_of(v), (std::vector<std::string>{"OperationOutcome/oo"}));
}

TEST(ForEachResource, SingleResourceIsVisitedOnce) {
  EXPECT_EQ(ids_of(json::parse(R"({"resourceType": "Patient", "id": "p1"})")),
            (std::vector<std::string>{"Patient/p1"}));
  // Anything that is an object and not a Bundle is handed over as is.
  EXPECT_EQ(ids_of(json::parse(R"({"id": "x"})")), (std::vector<std::string>{"/x"}));
}

TEST(ForEachResource, NullAndNonObjectsYieldNothing) {
  EXPECT_TRUE(ids_of(json::value(nullptr)).empty());
  EXPECT_TRUE(ids_of(json::parse(R"([{"resourceType": "Patient", "id": "p1"}])")).empty());
  EXPECT_TRUE(ids_of(json::parse(R"("Patient/p1")")).empty());
  EXPECT_TRUE(ids_of(json::parse("42")).empty());
  EXPECT_TRUE(ids_of(json::parse(R"({"resourceType": "Bundle", "type": "searchset", "total": 0})")).empty());
  EXPECT_TRUE(ids_of(json::parse(R"({"resourceType": "Bundle", "entry": []})")).empty());
}

TEST(ForEachResource, NestedBundleIsNotFlattened) {
  auto v = json::parse(R"({"resourceType": "Bundle", "entry": [
    {"resource": {"resourceType": "Bundle", "id": "inner",
                  "entry": [{"resource": {"resourceType": "Condition", "id": "deep"}}]}}]})");
  EXPECT_EQ(ids_of(v), (std::vector<std::string>{"Bundle/inner"}));
}

}  // namespace
