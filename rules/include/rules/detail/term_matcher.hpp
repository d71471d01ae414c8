#pragma once
// Free-text matching for rule terms: case-insensitive, on whole words, with word-prefix terms
// ("amnio*"), multi-word terms that match across one space or hyphen ("msc-derived" ==
// "MSC derived") and terms that count only next to another word (requires_any). Whether a
// mention is negated, historical, hypothetical or about someone else is marked on the tokens
// beforehand by ContextRules (context.hpp). A hand-written scanner, not std::regex: terms
// come from data files, and regex backtracking on EHR free text is both slow and a ReDoS risk.
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rules::detail {

// What separates a token from the next one. Only `join` (exactly one space, tab or hyphen)
// continues a multi-word term; `clause` (.,;:!?()[]{}| or a line break) also ends a ConText scope.
enum class Gap : std::uint8_t { join, soft, clause };

// FNV-1a over a word's bytes, step by step so the tokenizer can hash as it copies.
inline constexpr std::uint32_t kWordHashSeed = 2166136261u;
constexpr std::uint32_t word_hash_step(std::uint32_t h, char c) noexcept {
  return (h ^ static_cast<unsigned char>(c)) * 16777619u;
}
constexpr std::uint32_t word_hash(std::string_view w) noexcept {
  std::uint32_t h = kWordHashSeed;
  for (char c : w) h = word_hash_step(h, c);
  return h;
}

// The ConText modifiers whose scope covers a word (bit m: Modifier m, context.hpp).
using ModifierMask = std::uint8_t;

struct Token {
  std::string_view word;  // lower-case, points into TokenizedText's buffer
  Gap gap_after = Gap::clause;
  std::uint32_t hash = 0;  // word_hash(word)
  ModifierMask modifiers = 0;  // set by ContextRules::mark; 0 until then
};

// A text normalised (ASCII lower case, curly apostrophes -> ', Unicode hyphens -> -,
// no-break space -> space) and split into words. The buffers live inside the object for texts
// of up to kInlineChars bytes and kInlineTokens words (every coded-concept text and nearly every
// note), so tokenizing allocates nothing; only longer texts spill to the heap. Reuse one object
// across texts.
class TokenizedText {
 public:
  static constexpr std::size_t kInlineChars = 1024;
  static constexpr std::size_t kInlineTokens = 128;

  TokenizedText() = default;
  explicit TokenizedText(std::string_view text) { assign(text); }
  TokenizedText(const TokenizedText&) = delete;  // tokens point into the buffer
  TokenizedText& operator=(const TokenizedText&) = delete;
  void assign(std::string_view text);
  std::span<const Token> tokens() const noexcept { return {tokens_, size_}; }
  std::span<Token> mutable_tokens() noexcept { return {tokens_, size_}; }  // for ContextRules::mark
  bool empty() const noexcept { return size_ == 0; }

 private:
  // Inline: called once per word, and the buffer is nearly always big enough.
  void push(Token t) {
    if (size_ == capacity_) grow();
    ::new (static_cast<void*>(tokens_ + size_++)) Token(t);
  }
  void grow();
  Token* inline_tokens() noexcept { return reinterpret_cast<Token*>(inline_token_bytes_); }

  Token* tokens_ = inline_tokens();
  std::size_t size_ = 0;
  std::size_t capacity_ = kInlineTokens;
  char inline_chars_[kInlineChars];
  // Raw storage, tokens constructed as pushed: an array of Token would construct all 128 (a
  // string_view and two members each) with every matcher, for texts that mostly have a few words.
  alignas(Token) unsigned char inline_token_bytes_[sizeof(Token) * kInlineTokens];
  static_assert(std::is_trivially_copyable_v<Token> && std::is_trivially_destructible_v<Token>);
  std::string heap_chars_;         // texts longer than kInlineChars
  std::vector<Token> heap_tokens_;  // texts of more than kInlineTokens words
};

// A compiled word sequence: "bone marrow aspirate" -> {bone, marrow, aspirate}.
struct WordPattern {
  std::vector<std::string> words;  // lower-case, normalised like TokenizedText
  bool prefix_last = false;        // the term ended in '*': its last word is a word prefix
  // Words may be separated by any gap within a clause, not only one space or hyphen: for
  // ConText triggers such as "r/o" and "s/p" (never for value-set terms).
  bool loose = false;

  // Length in tokens of a match starting at tokens[i], or 0.
  std::size_t match_at(std::span<const Token> tokens, std::size_t i) const noexcept;
};

// Compiles a term as written in a rule file. Returns nullopt and sets `error` for an empty
// term, a '*' anywhere but at the end, or words separated by anything but a space or hyphen
// (with `loose`: by a clause boundary).
std::optional<WordPattern> compile_pattern(std::string_view text, std::string& error, bool loose = false);

struct Term {
  std::string text;                       // as written, for provenance and messages
  WordPattern pattern;
  std::vector<WordPattern> requires_any;  // when not empty, one must occur in the same text
  bool verified = true;
};

// The reference matcher: every term at every word. TermIndex gives the same answers faster;
// tests hold it to this one.
class TermMatcher {
 public:
  // The first term of `terms` that occurs in `text` with no modifier outside `tolerated` (for a
  // term with requires_any, one of those occurring likewise too), or nullptr. The text's
  // modifiers must have been marked (ContextRules::mark); an unmarked text has none.
  static const Term* find(const TokenizedText& text, std::span<const Term> terms, ModifierMask tolerated = 0) noexcept;
  static bool any(const TokenizedText& text, std::span<const Term> terms, ModifierMask tolerated = 0) noexcept {
    return find(text, terms, tolerated) != nullptr;
  }
};

}  // namespace rules::detail
