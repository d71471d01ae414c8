#include "fhir/datetime.hpp"

#include <charconv>

namespace fhir {
namespace {

using namespace std::chrono;

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) noexcept {
  if (pos + len > s.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return r.ec == std::errc{};
}

}  // namespace

// Grammar (FHIR R4): YYYY(-MM(-DD(Thh:mm:ss(.sss)(Z|(+|-)hh:mm))?)?)?
std::optional<DateTime> parse_date_time(std::string_view s) noexcept {
  int y = 0, mo = 1, d = 1;
  if (s.size() < 4 || !read_int(s, 0, 4, y) || y < 1) return std::nullopt;
  DateTime out;
  if (s.size() == 4) {
    out.precision = Precision::year;
    out.start = sys_days{year{y} / January / 1};
    out.end = sys_days{year{y + 1} / January / 1};
    return out;
  }
  if (s.size() < 7 || s[4] != '-' || !read_int(s, 5, 2, mo) || mo < 1 || mo > 12) return std::nullopt;
  if (s.size() == 7) {
    out.precision = Precision::month;
    auto ym = year{y} / month{static_cast<unsigned>(mo)};
    out.start = sys_days{ym / 1};
    out.end = sys_days{(ym + months{1}) / 1};
    return out;
  }
  if (s.size() < 10 || s[7] != '-' || !read_int(s, 8, 2, d)) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  if (s.size() == 10) {
    out.precision = Precision::day;
    out.start = sys_days{ymd};
    out.end = out.start + days{1};
    return out;
  }
  // Time part: Thh:mm:ss, optional fraction, optional zone.
  int hh = 0, mm = 0, ss = 0;
  if (s.size() < 19 || s[10] != 'T' || !read_int(s, 11, 2, hh) || s[13] != ':' || !read_int(s, 14, 2, mm) ||
      s[16] != ':' || !read_int(s, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60)
    return std::nullopt;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos, ++digits;
    if (digits == 0) return std::nullopt;
  }
  int offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh = 0, om = 0;
      if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !read_int(s, pos + 4, 2, om) ||
          oh > 14 || om > 59)
        return std::nullopt;
      offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
      pos += 6;
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  out.precision = Precision::second;
  out.start = sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss} - minutes{offset_min};
  out.end = out.start + seconds{1};
  return out;
}

int age_in_years(const DateTime& birth, Instant now) noexcept {
  // Count from the start of the birth interval; a birth year alone gives the upper age.
  year_month_day b{floor<days>(birth.start)};
  year_month_day n{floor<days>(now)};
  int age = int(n.year()) - int(b.year());
  if (n.month() < b.month() || (n.month() == b.month() && n.day() < b.day())) --age;
  return age;
}

double months_between(Instant from, Instant to) noexcept {
  return duration<double, days::period>(to - from).count() / 30.436875;
}

double years_between(Instant from, Instant to) noexcept {
  return duration<double, days::period>(to - from).count() / 365.2425;
}

}  // namespace fhir
