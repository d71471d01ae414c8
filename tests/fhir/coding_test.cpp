#include "fhir/coding.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono;
namespace json = boost::json;
using fhir::CodeableConcept;
using fhir::Coding;

constexpr std::string_view kIcd = "http://hl7.org/fhir/sid/icd-10-cm";
constexpr std::string_view kSnomed = "http://snomed.info/sct";

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

const json::object kKneeOa = obj(R"({
  "text": "Primary osteoarthritis, Right Knee",
  "coding": [
    {"system": "http://snomed.info/sct", "code": "239873007", "display": "Osteoarthritis of knee"},
    {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.11", "display": "Unilateral primary osteoarthritis, right knee"},
    {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.0"}
  ]})");

TEST(IEquals, IgnoresAsciiCaseOnly) {
  EXPECT_TRUE(fhir::iequals("Knee", "kNEE"));
  EXPECT_TRUE(fhir::iequals("", ""));
  EXPECT_FALSE(fhir::iequals("knee", "knees"));
  EXPECT_FALSE(fhir::iequals("knee", "knea"));
  EXPECT_TRUE(fhir::iequals("M17.11", "m17.11"));
  // Non-ASCII bytes compare as-is: "Ä" vs "ä" in UTF-8 differ.
  EXPECT_FALSE(fhir::iequals("\xC3\x84", "\xC3\xA4"));
  // '@' and '`' sit next to 'A'/'a' and must not be folded.
  EXPECT_FALSE(fhir::iequals("@", "`"));
  EXPECT_FALSE(fhir::iequals("[", "{"));
}

TEST(IContains, FindsCaseInsensitiveSubstrings) {
  EXPECT_TRUE(fhir::icontains("Bone Marrow Aspirate Concentrate", "marrow aspirate"));
  EXPECT_TRUE(fhir::icontains("BMAC", "bmac"));
  EXPECT_TRUE(fhir::icontains("abc", ""));
  EXPECT_TRUE(fhir::icontains("", ""));
  EXPECT_FALSE(fhir::icontains("", "a"));
  EXPECT_FALSE(fhir::icontains("marrow", "marrows"));
  EXPECT_FALSE(fhir::icontains("stem cell", "stemcell"));
  EXPECT_TRUE(fhir::icontains("xxSTEMxx", "Stem"));
}

TEST(CodeableConcept, AbsentConceptIsEmpty) {
  CodeableConcept c;
  EXPECT_FALSE(c.present());
  EXPECT_EQ(c.text(), "");
  EXPECT_TRUE(c.codings().empty());
  EXPECT_FALSE(c.has_code(kIcd, "M17.11"));
  EXPECT_EQ(c.code_in(kIcd), "");
  EXPECT_FALSE(c.text_equals("knee"));
  EXPECT_FALSE(c.text_contains("knee"));
  EXPECT_EQ(c.json(), nullptr);
}

TEST(CodeableConcept, HasCodeNeedsSystemAndCode) {
  CodeableConcept c(&kKneeOa);
  EXPECT_TRUE(c.present());
  EXPECT_EQ(c.codings().size(), 3u);
  EXPECT_TRUE(c.has_code(kIcd, "M17.11"));
  EXPECT_TRUE(c.has_code(kIcd, "M17.0"));
  EXPECT_TRUE(c.has_code(kSnomed, "239873007"));
  EXPECT_FALSE(c.has_code(kSnomed, "M17.11"));
  EXPECT_FALSE(c.has_code(kIcd, "M17.1"));
  EXPECT_FALSE(c.has_code(kIcd, "m17.11"));  // codes are case-sensitive
  EXPECT_FALSE(c.has_code("", "M17.11"));
}

TEST(CodeableConcept, CodeInReturnsFirstCodingOfSystem) {
  CodeableConcept c(&kKneeOa);
  EXPECT_EQ(c.code_in(kIcd), "M17.11");
  EXPECT_EQ(c.code_in(kSnomed), "239873007");
  EXPECT_EQ(c.code_in("http://www.ama-assn.org/go/cpt"), "");
}

TEST(CodeableConcept, TextEqualsMatchesTextOrAnyDisplayIgnoringCase) {
  CodeableConcept c(&kKneeOa);
  EXPECT_TRUE(c.text_equals("primary osteoarthritis, right knee"));
  EXPECT_TRUE(c.text_equals("OSTEOARTHRITIS OF KNEE"));
  EXPECT_TRUE(c.text_equals("unilateral primary osteoarthritis, RIGHT knee"));
  EXPECT_FALSE(c.text_equals("osteoarthritis"));
  EXPECT_FALSE(c.text_equals("M17.11"));  // codes are not text
}

TEST(CodeableConcept, TextContainsSearchesTextAndDisplays) {
  CodeableConcept c(&kKneeOa);
  EXPECT_TRUE(c.text_contains("RIGHT KNEE"));
  EXPECT_TRUE(c.text_contains("unilateral"));  // only in a display
  EXPECT_TRUE(c.text_contains("of knee"));     // only in another display
  EXPECT_FALSE(c.text_contains("left knee"));
  EXPECT_FALSE(c.text_contains("239873007"));
}

TEST(CodeableConcept, TextOnlyConcept) {
  auto o = obj(R"({"text": "Stem cell injection, right knee"})");
  CodeableConcept c(&o);
  EXPECT_EQ(c.text(), "Stem cell injection, right knee");
  EXPECT_TRUE(c.codings().empty());
  EXPECT_TRUE(c.text_contains("STEM CELL"));
  EXPECT_EQ(c.code_in(kIcd), "");
}

TEST(CodeableConcept, WrongTypesReadAsAbsent) {
  auto o = obj(R"({
    "text": 42,
    "coding": {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.11"}
  })");
  CodeableConcept c(&o);
  EXPECT_TRUE(c.present());
  EXPECT_EQ(c.text(), "");
  EXPECT_TRUE(c.codings().empty());
  EXPECT_FALSE(c.has_code(kIcd, "M17.11"));
  EXPECT_FALSE(c.text_equals("42"));
}

TEST(CodeableConcept, NonObjectCodingsAreSkippedAndWrongTypedFieldsAbsent) {
  auto o = obj(R"({
    "coding": [
      "M17.11",
      null,
      {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": 17, "display": ["x"]},
      {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M17.12", "display": "Left knee OA"}
    ]})");
  CodeableConcept c(&o);
  ASSERT_EQ(c.codings().size(), 2u);
  Coding first = *c.codings().begin();
  EXPECT_EQ(first.system(), kIcd);
  EXPECT_EQ(first.code(), "");
  EXPECT_EQ(first.display(), "");
  // code_in returns the first coding of the system, even when its code is unreadable.
  EXPECT_EQ(c.code_in(kIcd), "");
  EXPECT_TRUE(c.has_code(kIcd, "M17.12"));
  EXPECT_FALSE(c.has_code(kIcd, "M17.11"));
  EXPECT_TRUE(c.text_equals("left knee oa"));
}

TEST(Coding, NullViewReadsEmpty) {
  Coding c(nullptr);
  EXPECT_EQ(c.system(), "");
  EXPECT_EQ(c.code(), "");
  EXPECT_EQ(c.display(), "");
  EXPECT_EQ(c.json(), nullptr);
}

TEST(Reference, ReadsReferenceAndDisplay) {
  auto o = obj(R"({"reference": "Condition/c1", "display": "Knee OA"})");
  fhir::Reference r(&o);
  EXPECT_EQ(r.reference(), "Condition/c1");
  EXPECT_EQ(r.display(), "Knee OA");
  auto bad = obj(R"({"reference": {"id": "c1"}})");
  EXPECT_EQ(fhir::Reference(&bad).reference(), "");
  EXPECT_EQ(fhir::Reference(nullptr).reference(), "");
}

TEST(ReadQuantity, IntegerAndDoubleValues) {
  auto i = obj(R"({"value": 3, "unit": "injection", "system": "http://unitsofmeasure.org", "code": "{injection}"})");
  auto q = fhir::read_quantity(&i);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->value, 3.0);
  EXPECT_EQ(q->unit, "injection");
  EXPECT_EQ(q->system, "http://unitsofmeasure.org");
  EXPECT_EQ(q->code, "{injection}");

  auto d = obj(R"({"value": 7.25, "unit": "mL"})");
  q = fhir::read_quantity(&d);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->value, 7.25);
  EXPECT_EQ(q->unit, "mL");
  EXPECT_EQ(q->system, "");

  auto neg = obj(R"({"value": -2})");
  q = fhir::read_quantity(&neg);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->value, -2.0);

  auto big = obj(R"({"value": 18446744073709551615})");  // uint64
  q = fhir::read_quantity(&big);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->value, 18446744073709551615.0);
}

TEST(ReadQuantity, MissingOrWrongTypedValueIsNoQuantity) {
  auto s = obj(R"({"value": "7", "unit": "mL"})");
  auto none = obj(R"({"unit": "mL"})");
  auto b = obj(R"({"value": true})");
  EXPECT_FALSE(fhir::read_quantity(&s).has_value());
  EXPECT_FALSE(fhir::read_quantity(&none).has_value());
  EXPECT_FALSE(fhir::read_quantity(&b).has_value());
  EXPECT_FALSE(fhir::read_quantity(nullptr).has_value());
}

TEST(ReadPeriod, BoundsUseTheCoveredInterval) {
  auto o = obj(R"({"start": "2019-04", "end": "2019-06-15"})");
  auto p = fhir::read_period(&o);
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, sys_days{2019y / April / 1});
  EXPECT_EQ(*p.end, sys_days{2019y / June / 16});  // end of the last covered day
}

TEST(ReadPeriod, DateTimeBounds) {
  auto o = obj(R"({"start": "2019-04-01T08:00:00-04:00", "end": "2019-04-01T09:30:00Z"})");
  auto p = fhir::read_period(&o);
  ASSERT_TRUE(p.start && p.end);
  EXPECT_EQ(*p.start, sys_days{2019y / April / 1} + hours{12});
  EXPECT_EQ(*p.end, sys_days{2019y / April / 1} + hours{9} + minutes{30} + seconds{1});
}

TEST(ReadPeriod, OpenAndUnparseableBoundsAreOpen) {
  auto open_end = obj(R"({"start": "2019"})");
  auto p = fhir::read_period(&open_end);
  ASSERT_TRUE(p.start.has_value());
  EXPECT_EQ(*p.start, sys_days{2019y / January / 1});
  EXPECT_FALSE(p.end.has_value());

  auto bad = obj(R"({"start": "2019-13-01", "end": 20190401})");
  p = fhir::read_period(&bad);
  EXPECT_FALSE(p.start.has_value());
  EXPECT_FALSE(p.end.has_value());

  p = fhir::read_period(nullptr);
  EXPECT_FALSE(p.start.has_value());
  EXPECT_FALSE(p.end.has_value());
}

}  // namespace
