#pragma once
// ConText (Harkema, Dowling, Thornblade, Chapman 2009, an extension of NegEx): whether a mention
// in clinical text is negated, historical, hypothetical or about someone other than the patient.
// Trigger terms (from rule data) carry a modifier, a direction and a scope in words; the scope
// also ends at a clause boundary (. , ; : and the like, or a line break) or at a termination term.
// Pseudo-triggers look like triggers but are not ("prior to", "history and physical") and start
// no scope. A date before today in a clause makes it historical. mark() writes the modifiers
// whose scope covers each word onto the tokens; matching then reads them.
#include "rules/detail/term_matcher.hpp"

#include <array>
#include <bitset>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rules::detail {

enum class Modifier : std::uint8_t { negated, historical, hypothetical, experiencer };
inline constexpr std::size_t kModifierCount = 4;
// The JSON names, in enum order.
inline constexpr std::array<std::string_view, kModifierCount> kModifierNames{"negated", "historical", "hypothetical",
                                                                             "experiencer"};
constexpr ModifierMask modifier_bit(Modifier m) noexcept { return static_cast<ModifierMask>(1u << static_cast<unsigned>(m)); }
inline constexpr ModifierMask kAllModifiers = (1u << kModifierCount) - 1;

// Which words a trigger's scope reaches: those after it, before it, or both.
enum class Direction : std::uint8_t { forward, backward, bidirectional };
inline constexpr std::array<std::string_view, 3> kDirectionNames{"forward", "backward", "bidirectional"};

struct ContextTrigger {
  std::string text;  // as written, for the rules page
  WordPattern pattern;
  Modifier modifier = Modifier::negated;
  Direction direction = Direction::forward;
  std::size_t scope = 0;  // words covered, at most (before the clause or a termination ends it)
};

struct ContextTermination {
  std::string text;
  WordPattern pattern;
  ModifierMask ends = kAllModifiers;  // the modifiers whose scope it ends
};

// Today, for telling past dates in text ("2023", "3/2026"). year 0: no date counts as past.
struct Today {
  int year = 0;
  int month = 0;
};

struct PastDates {
  bool enabled = false;
  Modifier modifier = Modifier::historical;
  std::size_t scope = 0;  // words either side of the date
};

class ContextRules {
 public:
  std::string method;  // the method and its reference, as the rule data states them
  std::array<std::string, kModifierCount> descriptions;  // what each modifier means
  std::vector<ContextTrigger> triggers;
  std::vector<WordPattern> pseudo_triggers;
  std::vector<std::string> pseudo_trigger_texts;  // as written, for the rules page
  std::vector<ContextTermination> terminations;
  PastDates past_dates;

  // Builds the first-word filter; call once the lists above are filled.
  void freeze();
  // Sets every token's modifiers: the modifiers of each trigger (and past date) whose scope
  // covers it. Allocates nothing.
  void mark(std::span<Token> tokens, Today today) const noexcept;
  void mark(TokenizedText& text, Today today) const noexcept { mark(text.mutable_tokens(), today); }

 private:
  void cover(std::span<Token> tokens, std::size_t begin, std::size_t len, Modifier m, Direction d,
             std::size_t scope) const noexcept;
  bool terminates(std::span<const Token> tokens, std::size_t start, std::size_t end, ModifierMask bit) const noexcept;

  // Low bits of the hashes of the first words of triggers and pseudo-triggers: a word not in
  // it starts neither, so most words are passed over at once. All bits are set when one starts
  // with a word prefix ("deni*"), which no hash stands for.
  static constexpr std::size_t kFilterBits = 1024;
  std::bitset<kFilterBits> first_words_;
};

bool is_past_date(std::span<const Token> tokens, std::size_t i, Today today) noexcept;

}  // namespace rules::detail
