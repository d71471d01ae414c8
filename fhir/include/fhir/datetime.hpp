#pragma once
// FHIR date, dateTime and instant values, including partial dates ("2019", "2019-04").
#include <chrono>
#include <optional>
#include <string_view>

namespace fhir {

using Instant = std::chrono::sys_seconds;

enum class Precision { year, month, day, second };

// A parsed FHIR date/dateTime. A partial value covers an interval: "2019-04" is all of April.
// Values without a time zone (dates, and dateTimes without one, which FHIR forbids but EHRs
// send) are read as UTC.
struct DateTime {
  Precision precision = Precision::day;
  Instant start{};  // first second covered
  Instant end{};    // first second after the covered interval

  // The instant a comparison should use when only one is needed.
  Instant point() const noexcept { return start; }
};

std::optional<DateTime> parse_date_time(std::string_view text) noexcept;

// A FHIR Period; either bound may be open.
struct Period {
  std::optional<Instant> start;
  std::optional<Instant> end;
};

// Whole years between a birth date and `now`, as a clinician counts age.
int age_in_years(const DateTime& birth, Instant now) noexcept;

// Calendar months from `from` to `to` (negative if `to` is earlier), by day count / 30.44.
double months_between(Instant from, Instant to) noexcept;
double years_between(Instant from, Instant to) noexcept;

}  // namespace fhir
