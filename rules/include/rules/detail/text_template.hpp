#pragma once
// Card text comes from knee-oa.json as templates with {{name}} placeholders. Substitution is a
// single pass (values are never re-scanned, so EHR text containing "{{x}}" stays literal).
//
// The *_to functions append to any string with append(string_view) and push_back(char): a
// std::string, or a std::pmr::string on a per-evaluation arena, so card text is assembled
// without temporaries before it is written into the cards' JSON.
#include "rules/detail/json_text.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace rules::detail {

struct Arg {
  std::string_view name;
  std::string_view value;
  // For JsonTemplate only: `value` is JSON-escaped already (rendered by a JsonTemplate), so it
  // goes in as it is instead of being escaped again.
  bool escaped = false;
};

// Appends `tmpl` with every {{name}} replaced by its value (unknown names become empty; the
// loader has already rejected templates that use names the engine does not supply).
template <typename String>
void render_to(String& out, std::string_view tmpl, std::initializer_list<Arg> args) {
  // Room for the template and each value once, so the appends below do not regrow the string
  // step by step (on an arena, every regrowth is a new block and a copy).
  std::size_t room = out.size() + tmpl.size();
  for (const Arg& a : args) room += a.value.size();
  out.reserve(room);
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
inline std::string render(std::string_view tmpl, std::initializer_list<Arg> args) {
  std::string out;
  render_to(out, tmpl, args);
  return out;
}

// A template compiled at load for text that ends up inside a JSON string (a card's detail): its
// own text is split at the placeholders and JSON-escaped once, so rendering neither looks for
// "{{" again nor escapes the template's bytes - most of a card's - on every evaluation; only
// the values are escaped, as they are substituted. Rendering appends exactly the JSON escape
// of what render_to() appends for the same template and values (escape_to: the escape of a
// concatenation is the concatenation of the escapes); text_and_uuid_test checks it.
class JsonTemplate {
 public:
  JsonTemplate() = default;
  explicit JsonTemplate(std::string_view tmpl);

  // Bytes of escaped template text (without the values).
  std::size_t literal_size() const noexcept { return literal_size_; }

  // This template with the placeholders named in `known` filled in (their values become
  // escaped template text) and the others kept: for text whose parts depend only on rule data
  // except for one or two, compiled once at load.
  JsonTemplate with(std::initializer_list<Arg> known) const;

  template <typename String>
  void render_to(String& out, std::initializer_list<Arg> args) const {
    std::size_t room = out.size() + literal_size_;
    for (const Arg& a : args) room += a.value.size();
    out.reserve(room);
    for (const Piece& p : pieces_) {
      out.append(slice(p.literal));
      if (p.name.size == 0) continue;
      const std::string_view name = slice(p.name);
      for (const Arg& a : args)
        if (a.name == name) {
          if (a.escaped) out.append(a.value);
          else escape_to(out, a.value);
          break;
        }
    }
  }

 private:
  struct Slice {
    std::uint32_t offset = 0, size = 0;  // into text_: offsets, so copies and moves stay valid
  };
  // Escaped text, then the placeholder it is followed by (none: size 0, the last piece).
  struct Piece {
    Slice literal, name;
  };
  std::string_view slice(Slice s) const noexcept { return std::string_view(text_).substr(s.offset, s.size); }
  Slice append(std::string_view part, bool escape);

  std::string text_;  // the escaped literals and the names, back to back
  std::vector<Piece> pieces_;
  std::size_t literal_size_ = 0;
};

// The placeholder names used in `tmpl`; false when a "{{" is not closed by "}}".
bool placeholder_names(std::string_view tmpl, std::vector<std::string_view>& names);

// The byte length of the longest prefix of `text` with fewer than `limit` code points, or
// text.size() when the whole text is shorter - and, when it is not, where shorten() cuts.
struct Cut {
  std::size_t end = 0;
  bool cut = false;  // an ellipsis follows
};
Cut shorten_cut(std::string_view text, std::size_t limit) noexcept;

// Appends `text` cut to fewer than `limit` code points, at a word boundary when one is near,
// adding "…".
template <typename String>
void shorten_to(String& out, std::string_view text, std::size_t limit) {
  const Cut c = shorten_cut(text, limit);
  out.append(text.substr(0, c.end));
  if (c.cut) out.append(std::string_view("\xE2\x80\xA6"));  // …
}
inline std::string shorten(std::string_view text, std::size_t limit) {
  std::string out;
  shorten_to(out, text, limit);
  return out;
}

// What markdown_text_to() does with each byte: keeps it, turns it into a space (control
// characters, line breaks) or backslash-escapes it (markdown punctuation). A table, so the
// common case - a plain character - is one load and one test.
enum class MarkdownByte : std::uint8_t { plain, control, punctuation };
inline constexpr auto kMarkdownBytes = [] {
  std::array<MarkdownByte, 256> t{};
  for (int i = 0; i < 0x20; ++i) t[static_cast<std::size_t>(i)] = MarkdownByte::control;
  t[0x7F] = MarkdownByte::control;
  for (unsigned char c : std::string_view("\\`*_{}[]<>()#!|~")) t[c] = MarkdownByte::punctuation;
  return t;
}();

// EHR free text made safe to embed in card markdown: control characters and line breaks become
// spaces, markdown punctuation is backslash-escaped (no links, images or HTML can be injected
// into a card), and the text is cut to `max_chars` code points with an ellipsis.
template <typename String>
void markdown_text_to(String& out, std::string_view text, std::size_t max_chars = 120) {
  const Cut c = shorten_cut(text, max_chars + 1);
  const std::size_t start = out.size();
  // Runs of characters that need no escaping are appended whole: most text has few or none.
  auto escape = [&](std::string_view part) {
    std::size_t run = 0;  // start of the pending run of plain characters
    for (std::size_t i = 0; i < part.size(); ++i) {
      const MarkdownByte kind = kMarkdownBytes[static_cast<unsigned char>(part[i])];
      if (kind == MarkdownByte::plain) continue;
      out.append(part.substr(run, i - run));
      run = i + 1;
      if (kind == MarkdownByte::control) {
        if (out.size() == start || out.back() != ' ') out.push_back(' ');
      } else {
        out.push_back('\\');
        out.push_back(part[i]);
      }
    }
    out.append(part.substr(run));
  };
  escape(text.substr(0, c.end));
  if (c.cut) escape("\xE2\x80\xA6");
}
inline std::string markdown_text(std::string_view text, std::size_t max_chars = 120) {
  std::string out;
  markdown_text_to(out, text, max_chars);
  return out;
}

// Number formatting for card text: "7", "7.5" (no trailing zeros), no locale.
std::string format_number(double v);

// "2026-03-25" from an instant.
std::string format_date(std::int64_t seconds_since_epoch);

}  // namespace rules::detail
