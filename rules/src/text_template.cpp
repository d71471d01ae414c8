#include "rules/detail/text_template.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace rules::detail {
namespace {

bool is_continuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += is_continuation(c) ? 0 : 1;
  return n;
}

// Byte offset of the code point with index `cp` (or s.size()).
std::size_t offset_of(std::string_view s, std::size_t cp) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_continuation(s[i])) continue;
    if (n == cp) return i;
    ++n;
  }
  return s.size();
}

}  // namespace

JsonTemplate::Slice JsonTemplate::append(std::string_view part, bool escape) {
  Slice s;
  s.offset = static_cast<std::uint32_t>(text_.size());
  if (escape) escape_to(text_, part);
  else text_.append(part);
  s.size = static_cast<std::uint32_t>(text_.size() - s.offset);
  return s;
}

// The same split as render_to(): a "{{" without a "}}" after it, and all that follows it, is text.
JsonTemplate::JsonTemplate(std::string_view tmpl) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t open = tmpl.find("{{", pos);
    const std::size_t close = open == std::string_view::npos ? open : tmpl.find("}}", open + 2);
    Piece p;
    if (close == std::string_view::npos) {
      p.literal = append(tmpl.substr(pos), true);
      literal_size_ += p.literal.size;
      pieces_.push_back(p);
      return;
    }
    p.literal = append(tmpl.substr(pos, open - pos), true);
    p.name = append(tmpl.substr(open + 2, close - open - 2), false);
    literal_size_ += p.literal.size;
    pieces_.push_back(p);
    pos = close + 2;
  }
}

JsonTemplate JsonTemplate::with(std::initializer_list<Arg> known) const {
  JsonTemplate out;
  std::string pending;  // escaped text not yet ended by a kept placeholder
  for (const Piece& p : pieces_) {
    pending.append(slice(p.literal));
    if (p.name.size == 0) continue;
    const std::string_view name = slice(p.name);
    const Arg* value = nullptr;
    for (const Arg& a : known)
      if (a.name == name) {
        value = &a;
        break;
      }
    if (value != nullptr) {
      if (value->escaped) pending.append(value->value);
      else escape_to(pending, value->value);
      continue;
    }
    Piece kept;
    kept.literal = out.append(pending, false);
    kept.name = out.append(name, false);
    out.literal_size_ += kept.literal.size;
    out.pieces_.push_back(kept);
    pending.clear();
  }
  Piece last;
  last.literal = out.append(pending, false);
  out.literal_size_ += last.literal.size;
  out.pieces_.push_back(last);
  return out;
}

bool placeholder_names(std::string_view tmpl, std::vector<std::string_view>& names) {
  std::size_t pos = 0;
  while ((pos = tmpl.find("{{", pos)) != std::string_view::npos) {
    const std::size_t close = tmpl.find("}}", pos + 2);
    if (close == std::string_view::npos) return false;
    names.push_back(tmpl.substr(pos + 2, close - pos - 2));
    pos = close + 2;
  }
  return true;
}

Cut shorten_cut(std::string_view text, std::size_t limit) noexcept {
  // A text has no more code points than bytes: most are short enough without counting.
  if (text.size() < limit || code_points(text) < limit) return {text.size(), false};
  // Leave room for the ellipsis; prefer cutting at the last space in the final fifth.
  std::size_t end = offset_of(text, limit > 2 ? limit - 2 : 0);
  const std::size_t space = text.substr(0, end).rfind(' ');
  if (space != std::string_view::npos && space > end - end / 5) end = space;
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == ',' || text[end - 1] == ';')) --end;
  return {end, true};
}

// std::to_chars, not snprintf: the same digits (both round the exact binary value to one
// decimal; integers are printed whole) for a tenth of the instructions, and no locale.
std::string format_number(double v) {
  char buf[64];
  std::to_chars_result r;
  if (std::fabs(v - std::round(v)) < 1e-9) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(std::llround(v)));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 1);
  }
  return std::string(buf, r.ptr);
}

std::string format_date(std::int64_t seconds_since_epoch) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_seconds{seconds{seconds_since_epoch}})};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace rules::detail
