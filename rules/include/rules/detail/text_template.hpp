#pragma once
// Card text comes from knee-oa.json as templates with {{name}} placeholders. Substitution is a
// single pass (values are never re-scanned, so EHR text containing "{{x}}" stays literal).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace rules::detail {

struct Arg {
  std::string_view name;
  std::string_view value;
};

// Appends `tmpl` with every {{name}} replaced by its value (unknown names become empty; the
// loader has already rejected templates that use names the engine does not supply).
void render_to(std::string& out, std::string_view tmpl, std::initializer_list<Arg> args);
inline std::string render(std::string_view tmpl, std::initializer_list<Arg> args) {
  std::string out;
  render_to(out, tmpl, args);
  return out;
}

// The placeholder names used in `tmpl`; false when a "{{" is not closed by "}}".
bool placeholder_names(std::string_view tmpl, std::vector<std::string_view>& names);

// EHR free text made safe to embed in card markdown: control characters and line breaks become
// spaces, markdown punctuation is backslash-escaped (no links, images or HTML can be injected
// into a card), and the text is cut to `max_chars` code points with an ellipsis.
std::string markdown_text(std::string_view text, std::size_t max_chars = 120);

// Cuts `text` to fewer than `limit` code points, at a word boundary when one is near, adding "…".
std::string shorten(std::string_view text, std::size_t limit);

// Number formatting for card text: "7", "7.5" (no trailing zeros), no locale.
std::string format_number(double v);

// "2026-03-25" from an instant.
std::string format_date(std::int64_t seconds_since_epoch);

}  // namespace rules::detail
