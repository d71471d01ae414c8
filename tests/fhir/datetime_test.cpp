#include "fhir/datetime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono;
using fhir::DateTime;
using fhir::Instant;
using fhir::Precision;
using fhir::parse_date_time;

Instant at(year_month_day d, int h = 0, int m = 0, int s = 0) {
  return sys_days{d} + hours{h} + minutes{m} + seconds{s};
}

TEST(ParseDateTime, YearOnlyCoversTheWholeYear) {
  auto d = parse_date_time("2019");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->precision, Precision::year);
  EXPECT_EQ(d->start, at(2019y / January / 1));
  EXPECT_EQ(d->end, at(2020y / January / 1));
  EXPECT_EQ(d->point(), d->start);
}

TEST(ParseDateTime, YearMonthCoversTheMonth) {
  auto d = parse_date_time("2019-04");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->precision, Precision::month);
  EXPECT_EQ(d->start, at(2019y / April / 1));
  EXPECT_EQ(d->end, at(2019y / May / 1));
}

TEST(ParseDateTime, DecemberRollsIntoNextYear) {
  auto d = parse_date_time("2019-12");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2019y / December / 1));
  EXPECT_EQ(d->end, at(2020y / January / 1));
}

TEST(ParseDateTime, LeapFebruaryMonthHas29Days) {
  auto d = parse_date_time("2020-02");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->end - d->start, days{29});
}

TEST(ParseDateTime, FullDateCoversOneDay) {
  auto d = parse_date_time("2019-04-15");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->precision, Precision::day);
  EXPECT_EQ(d->start, at(2019y / April / 15));
  EXPECT_EQ(d->end, at(2019y / April / 16));
}

TEST(ParseDateTime, LeapDayIsValidInLeapYear) {
  auto d = parse_date_time("2020-02-29");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2020y / February / 29));
  EXPECT_EQ(d->end, at(2020y / March / 1));
}

TEST(ParseDateTime, DateTimeZulu) {
  auto d = parse_date_time("2019-04-15T10:20:30Z");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->precision, Precision::second);
  EXPECT_EQ(d->start, at(2019y / April / 15, 10, 20, 30));
  EXPECT_EQ(d->end, at(2019y / April / 15, 10, 20, 31));
}

TEST(ParseDateTime, PositiveOffsetIsSubtracted) {
  auto d = parse_date_time("2019-04-15T10:20:30+05:30");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2019y / April / 15, 4, 50, 30));
  EXPECT_EQ(d->end, at(2019y / April / 15, 4, 50, 31));
}

TEST(ParseDateTime, NegativeOffsetIsAdded) {
  auto d = parse_date_time("2019-04-15T22:00:00-05:00");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2019y / April / 16, 3, 0, 0));
}

TEST(ParseDateTime, OffsetCrossesMidnightBackwards) {
  auto d = parse_date_time("2019-01-01T01:00:00+02:00");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2018y / December / 31, 23, 0, 0));
}

TEST(ParseDateTime, ZeroOffsetsEqualZulu) {
  auto z = parse_date_time("2019-04-15T10:20:30Z");
  auto plus = parse_date_time("2019-04-15T10:20:30+00:00");
  auto minus = parse_date_time("2019-04-15T10:20:30-00:00");
  ASSERT_TRUE(z && plus && minus);
  EXPECT_EQ(plus->start, z->start);
  EXPECT_EQ(minus->start, z->start);
}

TEST(ParseDateTime, FractionalSecondsAreTruncated) {
  auto d = parse_date_time("2019-04-15T10:20:30.123Z");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->precision, Precision::second);
  EXPECT_EQ(d->start, at(2019y / April / 15, 10, 20, 30));
  EXPECT_EQ(d->end, at(2019y / April / 15, 10, 20, 31));

  auto long_fraction = parse_date_time("2019-04-15T10:20:30.999999-03:00");
  ASSERT_TRUE(long_fraction.has_value());
  EXPECT_EQ(long_fraction->start, at(2019y / April / 15, 13, 20, 30));
}

TEST(ParseDateTime, DateTimeWithoutZoneReadsAsUtc) {
  auto d = parse_date_time("2019-04-15T10:20:30");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2019y / April / 15, 10, 20, 30));
}

TEST(ParseDateTime, FractionWithoutZoneReadsAsUtc) {
  auto d = parse_date_time("2019-04-15T10:20:30.5");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->start, at(2019y / April / 15, 10, 20, 30));
}

class InvalidDateTime : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidDateTime, IsRejected) { EXPECT_FALSE(parse_date_time(GetParam()).has_value()) << GetParam(); }

INSTANTIATE_TEST_SUITE_P(
    Malformed, InvalidDateTime,
    ::testing::Values("", "201", "0000", "abcd", "2019-", "2019-4", "2019-13", "2019-00", "2019/04", "2019-04-",
                      "2019-04-1", "2019-02-30", "2019-02-29", "2019-04-31", "2019-04-00", "2019-04-15 ",
                      "2019-04-15x", "2019-04-15T", "2019-04-15T10:20", "2019-04-15T10:20Z", "2019-04-15T24:00:00Z",
                      "2019-04-15T10:60:00Z", "2019-04-15T10:20:61Z", "2019-04-15T10:20:30.Z",
                      "2019-04-15T10:20:30+05", "2019-04-15T10:20:30+0530", "2019-04-15T10:20:30+15:00",
                      "2019-04-15T10:20:30+05:60", "2019-04-15T10:20:30ZZ", "2019-04-15T10:20:30Z ",
                      "2019-04-15T10:20:30+05:30x", "2019-04-15T10:20:30 UTC", "2019-04-15t10:20:30Z",
                      "20190415", "2019-04x", "2019x", " 2019", "-2019", "+2019-04-15"));

TEST(AgeInYears, AroundTheBirthday) {
  auto birth = parse_date_time("1980-06-15");
  ASSERT_TRUE(birth.has_value());
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / June / 14, 23, 59, 59)), 39);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / June / 15)), 40);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / June / 16)), 40);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / May / 31)), 39);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / July / 1)), 40);
}

TEST(AgeInYears, NewbornIsZero) {
  auto birth = parse_date_time("2020-06-15");
  ASSERT_TRUE(birth.has_value());
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / June / 15, 12)), 0);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2021y / June / 14)), 0);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2021y / June / 15)), 1);
}

TEST(AgeInYears, LeapDayBirthTurnsOverOnMarchFirstInCommonYears) {
  auto birth = parse_date_time("2000-02-29");
  ASSERT_TRUE(birth.has_value());
  EXPECT_EQ(fhir::age_in_years(*birth, at(2001y / February / 28)), 0);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2001y / March / 1)), 1);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2004y / February / 28)), 3);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2004y / February / 29)), 4);
}

TEST(AgeInYears, PartialBirthDatesCountFromTheStartOfTheInterval) {
  auto year_only = parse_date_time("1980");
  auto year_month = parse_date_time("1980-06");
  ASSERT_TRUE(year_only && year_month);
  EXPECT_EQ(fhir::age_in_years(*year_only, at(2020y / January / 1)), 40);
  EXPECT_EQ(fhir::age_in_years(*year_only, at(2019y / December / 31)), 39);
  EXPECT_EQ(fhir::age_in_years(*year_month, at(2020y / May / 31)), 39);
  EXPECT_EQ(fhir::age_in_years(*year_month, at(2020y / June / 1)), 40);
}

TEST(AgeInYears, TimeOfDayDoesNotMatter) {
  auto birth = parse_date_time("1980-06-15");
  ASSERT_TRUE(birth.has_value());
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / June / 15, 0, 0, 0)), 40);
  EXPECT_EQ(fhir::age_in_years(*birth, at(2020y / June / 14, 23, 59, 59)), 39);
}

TEST(MonthsBetween, UsesMeanMonthLength) {
  Instant a = at(2020y / January / 1);
  EXPECT_DOUBLE_EQ(fhir::months_between(a, a), 0.0);
  EXPECT_DOUBLE_EQ(fhir::months_between(a, a + days{365}), 365.0 / 30.436875);
  EXPECT_DOUBLE_EQ(fhir::months_between(a + days{365}, a), -365.0 / 30.436875);
  EXPECT_NEAR(fhir::months_between(at(2026y / March / 25), at(2026y / November / 25)), 245.0 / 30.436875, 1e-12);
  EXPECT_DOUBLE_EQ(fhir::months_between(a, a + hours{12}), 0.5 / 30.436875);
}

TEST(YearsBetween, UsesMeanYearLength) {
  Instant a = at(2000y / January / 1);
  EXPECT_DOUBLE_EQ(fhir::years_between(a, a + days{3652}), 3652.0 / 365.2425);
  EXPECT_NEAR(fhir::years_between(at(2016y / November / 25), at(2026y / November / 25)), 10.0, 0.01);
  EXPECT_LT(fhir::years_between(at(2026y / November / 25), at(2016y / November / 25)), -9.99);
}

}  // namespace
