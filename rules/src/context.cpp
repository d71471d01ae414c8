#include "rules/detail/context.hpp"

namespace rules::detail {
namespace {

// A word of digits only, as a number (at most 4 digits, else -1).
int small_number(std::string_view w) noexcept {
  if (w.empty() || w.size() > 4) return -1;
  int v = 0;
  for (char c : w) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

// A four-digit year (1900-2099) before today's year, or today's year with a month before this
// one written with it: "3/2026", "3/15/2026" (month first, as US EHR text writes it), "2026-03".
bool is_past_date(std::span<const Token> tokens, std::size_t i, Today today) noexcept {
  if (today.year == 0 || tokens[i].word.size() != 4) return false;
  const int year = small_number(tokens[i].word);
  if (year < 1900 || year > 2099) return false;
  if (year != today.year) return year < today.year;
  int month = -1;
  auto number_before = [&](std::size_t k) {
    return k < i && tokens[k].gap_after != Gap::clause && tokens[k].gap_after != Gap::join ? small_number(tokens[k].word) : -1;
  };
  if (const int a = number_before(i - 1); i >= 1 && a >= 0) {
    const int b = i >= 2 ? number_before(i - 2) : -1;
    month = b >= 0 ? b : a;
  } else if (i + 1 < tokens.size() && tokens[i].gap_after == Gap::join) {
    month = small_number(tokens[i + 1].word);
  }
  return month >= 1 && month <= 12 && month < today.month;
}

void ContextRules::freeze() {
  first_words_.reset();
  auto note = [this](const WordPattern& p) {
    if (p.words.empty()) return;
    if (p.prefix_last && p.words.size() == 1) first_words_.set();
    else first_words_.set(word_hash(p.words.front()) % kFilterBits);
  };
  for (const ContextTrigger& t : triggers) note(t.pattern);
  for (const WordPattern& p : pseudo_triggers) note(p);
}

// Whether a termination term for `bit` starts at `start` (end == 0), or ends just before `end`.
bool ContextRules::terminates(std::span<const Token> tokens, std::size_t start, std::size_t end,
                              ModifierMask bit) const noexcept {
  for (const ContextTermination& t : terminations) {
    if ((t.ends & bit) == 0) continue;
    const std::size_t len = t.pattern.words.size();
    if (end == 0) {
      if (t.pattern.match_at(tokens, start) != 0) return true;
    } else if (len <= end && t.pattern.match_at(tokens, end - len) == len) {
      return true;
    }
  }
  return false;
}

// Marks the scope of a trigger (or date) at tokens [begin, begin + len): up to `scope` words on
// its side(s), stopping at a clause boundary or a termination term for the modifier.
void ContextRules::cover(std::span<Token> tokens, std::size_t begin, std::size_t len, Modifier m, Direction d,
                         std::size_t scope) const noexcept {
  const ModifierMask bit = modifier_bit(m);
  if (d != Direction::backward) {
    for (std::size_t j = begin + len, n = 0; j < tokens.size() && n < scope; ++j, ++n) {
      if (tokens[j - 1].gap_after == Gap::clause || terminates(tokens, j, 0, bit)) break;
      tokens[j].modifiers |= bit;
    }
  }
  if (d != Direction::forward) {
    for (std::size_t j = begin, n = 0; j > 0 && n < scope; --j, ++n) {
      // tokens[j - 1] is the next word back; a termination ending with it ends the scope.
      if (tokens[j - 1].gap_after == Gap::clause || terminates(tokens, 0, j, bit)) break;
      tokens[j - 1].modifiers |= bit;
    }
  }
}

void ContextRules::mark(std::span<Token> tokens, Today today) const noexcept {
  for (Token& t : tokens) t.modifiers = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (past_dates.enabled && is_past_date(tokens, i, today))
      cover(tokens, i, 1, past_dates.modifier, Direction::bidirectional, past_dates.scope);
    if (!first_words_.test(tokens[i].hash % kFilterBits)) continue;
    // A pseudo-trigger is passed over whole: no trigger starts inside it.
    std::size_t pseudo = 0;
    for (const WordPattern& p : pseudo_triggers) pseudo = std::max(pseudo, p.match_at(tokens, i));
    if (pseudo > 0) {
      i += pseudo - 1;
      continue;
    }
    for (const ContextTrigger& t : triggers)
      if (const std::size_t len = t.pattern.match_at(tokens, i)) cover(tokens, i, len, t.modifier, t.direction, t.scope);
  }
}

}  // namespace rules::detail
