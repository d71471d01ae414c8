#include "rules/detail/text_template.hpp"

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

void render_to(std::string& out, std::string_view tmpl, std::initializer_list<Arg> args) {
  out.reserve(out.size() + tmpl.size());
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(tmpl.substr(pos, open - pos));
    const std::string_view name = tmpl.substr(open + 2, close - open - 2);
    for (const Arg& a : args)
      if (a.name == name) {
        out.append(a.value);
        break;
      }
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
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

std::string markdown_text(std::string_view text, std::size_t max_chars) {
  std::string cut = shorten(text, max_chars + 1);
  std::string out;
  out.reserve(cut.size() + 8);
  for (char c : cut) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      if (out.empty() || out.back() != ' ') out.push_back(' ');
      continue;
    }
    switch (c) {
      case '\\': case '`': case '*': case '_': case '{': case '}': case '[': case ']': case '<': case '>':
      case '(': case ')': case '#': case '!': case '|': case '~':
        out.push_back('\\');
        break;
      default:
        break;
    }
    out.push_back(c);
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t limit) {
  if (code_points(text) < limit) return std::string(text);
  // Leave room for the ellipsis; prefer cutting at the last space in the final fifth.
  std::size_t end = offset_of(text, limit > 2 ? limit - 2 : 0);
  const std::size_t space = text.substr(0, end).rfind(' ');
  if (space != std::string_view::npos && space > end - end / 5) end = space;
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == ',' || text[end - 1] == ';')) --end;
  std::string out(text.substr(0, end));
  out += "\xE2\x80\xA6";  // …
  return out;
}

std::string format_number(double v) {
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(v)));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  }
  return buf;
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
