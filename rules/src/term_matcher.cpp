#include "rules/detail/term_matcher.hpp"

#include <algorithm>
#include <array>

namespace rules::detail {
namespace {

constexpr bool is_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
constexpr bool is_clause_char(char c) noexcept {
  switch (c) {
    case '.': case ',': case ';': case ':': case '!': case '?': case '(': case ')': case '[': case ']':
    case '{': case '}': case '|': case '\n': case '\r':
      return true;
    default:
      return false;
  }
}

// What a character of normalised text is to the tokenizer. kMulti: a byte >= 0x80, to be
// decoded (a few Unicode punctuation marks fold to ASCII; the rest are parts of letters).
enum CharClass : std::uint8_t { kSoft, kWord, kJoin, kClause, kApostrophe, kMulti };

// Per byte: ASCII upper case folded to lower case, and the class of the (folded) character.
struct ByteInfo {
  char folded;
  CharClass cls;
};
constexpr std::array<ByteInfo, 256> kBytes = [] {
  std::array<ByteInfo, 256> t{};
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i >= 'A' && i <= 'Z' ? i - 'A' + 'a' : i);
    CharClass cls = kSoft;
    if (i >= 0x80) cls = kMulti;
    else if (is_alnum(c)) cls = kWord;
    else if (c == ' ' || c == '\t' || c == '-') cls = kJoin;
    else if (is_clause_char(c)) cls = kClause;
    else if (c == '\'') cls = kApostrophe;
    t[static_cast<std::size_t>(i)] = ByteInfo{c, cls};
  }
  return t;
}();

// One character of the text as normalised: ASCII lower case, and the Unicode characters EHR
// text uses for an apostrophe, a hyphen or a space folded onto their ASCII forms. Other bytes
// >= 0x80 are parts of non-ASCII letters: word characters.
struct Char {
  char out;
  CharClass cls;
  std::uint8_t len;  // bytes of input it takes
};

Char decode(const char* p, const char* end) noexcept {
  const auto c = static_cast<unsigned char>(*p);
  if (c < 0x80) return Char{kBytes[c].folded, kBytes[c].cls, 1};
  auto next = [&](std::ptrdiff_t k) { return end - p > k ? static_cast<unsigned char>(p[k]) : 0u; };
  if (c == 0xE2 && next(1) == 0x80) {
    const unsigned d = next(2);
    if (d == 0x98 || d == 0x99) return Char{'\'', kApostrophe, 3};  // U+2018, U+2019 used as apostrophes
    if (d == 0x90 || d == 0x91) return Char{'-', kJoin, 3};         // U+2010 hyphen, U+2011 non-breaking hyphen
  }
  if (c == 0xCA && next(1) == 0xBC) return Char{'\'', kApostrophe, 2};  // U+02BC modifier letter apostrophe
  if (c == 0xC2 && next(1) == 0xA0) return Char{' ', kJoin, 2};         // U+00A0 no-break space
  return Char{static_cast<char>(c), kWord, 1};
}

}  // namespace

void TokenizedText::grow() {  // only texts of more than kInlineTokens words get here
  if (tokens_ == inline_tokens()) heap_tokens_.assign(tokens_, tokens_ + size_);
  heap_tokens_.resize(2 * capacity_);
  tokens_ = heap_tokens_.data();
  capacity_ = heap_tokens_.size();
}

// One pass: normalises and splits into words at once, hashing each word as it is copied. Words
// are runs of word characters, with an apostrophe kept only between two of them ("wharton's" is
// one word; 'knee' is "knee"); only the words are written to the buffer. The gap after a word
// is `join` when it is exactly one space, tab or hyphen, `clause` when it holds a clause
// character, else `soft`. Plain ASCII runs take a table-driven fast path.
void TokenizedText::assign(std::string_view text) {
  char* out = inline_chars_;
  if (text.size() > kInlineChars) {
    heap_chars_.resize(text.size());  // normalising never lengthens
    out = heap_chars_.data();
  }
  tokens_ = inline_tokens();
  size_ = 0;
  capacity_ = kInlineTokens;
  const char* p = text.data();
  const char* const end = p + text.size();
  std::size_t gap_chars = 0;
  bool gap_clause = false, gap_join = false;
  while (p < end) {
    const ByteInfo& b = kBytes[static_cast<unsigned char>(*p)];
    Char ch = b.cls == kMulti ? decode(p, end) : Char{b.folded, b.cls, 1};
    if (ch.cls != kWord) {
      ++gap_chars;
      gap_clause = gap_clause || ch.cls == kClause;
      gap_join = ch.cls == kJoin;
      p += ch.len;
      continue;
    }
    if (size_ > 0)
      tokens_[size_ - 1].gap_after = gap_chars == 1 && gap_join ? Gap::join : gap_clause ? Gap::clause : Gap::soft;
    gap_chars = 0;
    gap_clause = false;
    const char* const start = out;
    std::uint32_t hash = kWordHashSeed;
    for (;;) {
      *out++ = ch.out;
      hash = word_hash_step(hash, ch.out);
      p += ch.len;
      // The common case: more plain ASCII letters and digits.
      while (p < end) {
        const ByteInfo& a = kBytes[static_cast<unsigned char>(*p)];
        if (a.cls != kWord) break;
        *out++ = a.folded;
        hash = word_hash_step(hash, a.folded);
        ++p;
      }
      if (p == end) break;
      // An ASCII byte ends the word unless it is an apostrophe; only bytes >= 0x80 need decode().
      const ByteInfo& next = kBytes[static_cast<unsigned char>(*p)];
      if (next.cls == kMulti) {
        ch = decode(p, end);
        if (ch.cls == kWord) continue;
      } else {
        ch = Char{next.folded, next.cls, 1};
      }
      if (ch.cls != kApostrophe || p + ch.len == end) break;
      const Char after = decode(p + ch.len, end);
      if (after.cls != kWord) break;
      *out++ = ch.out;
      hash = word_hash_step(hash, ch.out);
      p += ch.len;
      ch = after;
    }
    push(Token{std::string_view(start, static_cast<std::size_t>(out - start)), Gap::clause, hash});
  }
}

std::size_t WordPattern::match_at(std::span<const Token> tokens, std::size_t i) const noexcept {
  if (words.empty() || i + words.size() > tokens.size()) return 0;
  for (std::size_t k = 0; k < words.size(); ++k) {
    const Token& t = tokens[i + k];
    if (k > 0) {
      const Gap gap = tokens[i + k - 1].gap_after;
      if (gap != Gap::join && !(loose && gap == Gap::soft)) return 0;
    }
    const bool last = k + 1 == words.size();
    const bool ok = (last && prefix_last) ? t.word.starts_with(words[k]) : t.word == words[k];
    if (!ok) return 0;
  }
  return words.size();
}

std::optional<WordPattern> compile_pattern(std::string_view text, std::string& error, bool loose) {
  WordPattern p;
  p.loose = loose;
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
    if (toks[k].gap_after == Gap::clause || (!loose && toks[k].gap_after != Gap::join)) {
      error = loose ? "words of a trigger must not be separated by punctuation that ends a clause"
                    : "words of a term must be separated by one space or hyphen";
      return std::nullopt;
    }
  p.words.reserve(toks.size());
  for (const Token& tok : toks) p.words.emplace_back(tok.word);
  return p;
}

const Term* TermMatcher::find(const TokenizedText& text, std::span<const Term> terms, ModifierMask tolerated) noexcept {
  auto toks = text.tokens();
  auto occurs = [&](const WordPattern& p) {
    for (std::size_t i = 0; i < toks.size(); ++i)
      if (p.match_at(toks, i) != 0 && (toks[i].modifiers & ~tolerated) == 0) return true;
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
