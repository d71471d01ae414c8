#include "rules/detail/term_matcher.hpp"

#include <algorithm>

namespace rules::detail {
namespace {

constexpr bool is_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
// Bytes >= 0x80 are parts of non-ASCII letters (after the substitutions below): word characters.
constexpr bool is_word_byte(char c) noexcept { return is_alnum(c) || static_cast<unsigned char>(c) >= 0x80; }
constexpr bool is_clause_char(char c) noexcept {
  switch (c) {
    case '.': case ',': case ';': case ':': case '!': case '?': case '(': case ')': case '[': case ']':
    case '{': case '}': case '|': case '\n': case '\r':
      return true;
    default:
      return false;
  }
}

// Appends `text` to `out` lower-cased, folding the Unicode characters EHR text uses for an
// apostrophe, a hyphen or a space onto their ASCII forms.
void normalise(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
      continue;
    }
    auto next = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u; };
    if (c == 0xE2 && next(1) == 0x80) {
      const unsigned d = next(2);
      if (d == 0x98 || d == 0x99) {  // U+2018, U+2019 quotation marks used as apostrophes
        out.push_back('\'');
        i += 2;
        continue;
      }
      if (d == 0x90 || d == 0x91) {  // U+2010 hyphen, U+2011 non-breaking hyphen
        out.push_back('-');
        i += 2;
        continue;
      }
    }
    if (c == 0xCA && next(1) == 0xBC) {  // U+02BC modifier letter apostrophe
      out.push_back('\'');
      ++i;
      continue;
    }
    if (c == 0xC2 && next(1) == 0xA0) {  // U+00A0 no-break space
      out.push_back(' ');
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
}

Gap classify_gap(std::string_view gap) noexcept {
  if (gap.size() == 1 && (gap[0] == ' ' || gap[0] == '\t' || gap[0] == '-')) return Gap::join;
  for (char c : gap)
    if (is_clause_char(c)) return Gap::clause;
  return Gap::soft;
}

// Splits normalised text into words: runs of [a-z0-9] and non-ASCII bytes, with an apostrophe
// kept only between two word characters ("wharton's" is one word; 'knee' is "knee").
void tokenize(std::string_view s, std::vector<Token>& out) {
  out.clear();
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    while (i < n && !is_word_byte(s[i])) ++i;
    if (i == n) break;
    const std::size_t start = i;
    while (i < n && (is_word_byte(s[i]) || (s[i] == '\'' && i + 1 < n && is_word_byte(s[i + 1]) && i > start))) ++i;
    if (!out.empty()) {
      const char* prev_end = out.back().word.data() + out.back().word.size();
      out.back().gap_after = classify_gap(std::string_view(prev_end, static_cast<std::size_t>(s.data() + start - prev_end)));
    }
    out.push_back(Token{s.substr(start, i - start), Gap::clause});
  }
}

}  // namespace

void TokenizedText::assign(std::string_view text) {
  normalise(text, norm_);
  tokenize(norm_, tokens_);
}

std::size_t WordPattern::match_at(std::span<const Token> tokens, std::size_t i) const noexcept {
  if (words.empty() || i + words.size() > tokens.size()) return 0;
  for (std::size_t k = 0; k < words.size(); ++k) {
    const Token& t = tokens[i + k];
    if (k > 0 && tokens[i + k - 1].gap_after != Gap::join) return 0;
    const bool last = k + 1 == words.size();
    const bool ok = (last && prefix_last) ? t.word.starts_with(words[k]) : t.word == words[k];
    if (!ok) return 0;
  }
  return words.size();
}

std::optional<WordPattern> compile_pattern(std::string_view text, std::string& error) {
  WordPattern p;
  if (text.ends_with('*')) {
    p.prefix_last = true;
    text.remove_suffix(1);
  }
  if (text.find('*') != std::string_view::npos) {
    error = "'*' is allowed only at the end of a term";
    return std::nullopt;
  }
  TokenizedText t(text);
  if (t.empty()) {
    error = "the term has no words";
    return std::nullopt;
  }
  if (p.prefix_last && (text.empty() || text.back() == ' ' || text.back() == '-' || text.back() == '\'')) {
    error = "'*' must follow a word character";
    return std::nullopt;
  }
  auto toks = t.tokens();
  for (std::size_t k = 0; k + 1 < toks.size(); ++k)
    if (toks[k].gap_after != Gap::join) {
      error = "words of a term must be separated by one space or hyphen";
      return std::nullopt;
    }
  p.words.reserve(toks.size());
  for (const Token& tok : toks) p.words.emplace_back(tok.word);
  return p;
}

bool TermMatcher::negated(std::span<const Token> tokens, std::size_t start) const noexcept {
  std::size_t widest = 0;
  for (const NegationCue& cue : negation_.cues) widest = std::max(widest, cue.max_words_between);
  // Walk back from the word before the term while still in the same clause.
  for (std::size_t between = 0; between < start && between <= widest; ++between) {
    const std::size_t j = start - 1 - between;  // candidate last word of a cue
    if (tokens[j].gap_after == Gap::clause) return false;
    for (const NegationCue& cue : negation_.cues) {
      if (between > cue.max_words_between) continue;
      const std::size_t len = cue.pattern.words.size();
      if (len <= j + 1 && cue.pattern.match_at(tokens, j + 1 - len) == len) return true;
    }
    for (const WordPattern& brk : negation_.clause_breaks) {
      const std::size_t len = brk.words.size();
      if (len <= j + 1 && brk.match_at(tokens, j + 1 - len) == len) return false;
    }
  }
  return false;
}

const Term* TermMatcher::find(const TokenizedText& text, std::span<const Term> terms) const noexcept {
  auto toks = text.tokens();
  auto occurs = [&](const WordPattern& p) {
    for (std::size_t i = 0; i < toks.size(); ++i)
      if (p.match_at(toks, i) != 0 && !negated(toks, i)) return true;
    return false;
  };
  for (const Term& term : terms) {
    if (!occurs(term.pattern)) continue;
    if (term.requires_any.empty()) return &term;
    for (const WordPattern& r : term.requires_any)
      if (occurs(r)) return &term;
  }
  return nullptr;
}

}  // namespace rules::detail
