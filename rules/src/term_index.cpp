#include "rules/detail/term_index.hpp"

#include "rules/detail/context.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <tuple>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rules::detail {
namespace {

std::uint64_t hash_word(std::string_view w) noexcept { return word_hash(w); }

// What candidate_lists() makes of a raw byte: kSeparator, a word letter (ASCII letters and digits,
// 1..36, upper case folded as the tokenizer folds it), or kUnmodelled: a byte >= 0x80 or an
// apostrophe, which the tokenizer folds or joins in ways candidate_lists() leaves to it.
constexpr std::uint8_t kSeparator = 0, kUnmodelled = 0xFF;
constexpr std::array<std::uint8_t, 256> kLetterCodes = [] {
  std::array<std::uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    std::uint8_t code = kSeparator;
    if (i >= 0x80 || i == '\'') code = kUnmodelled;
    else if (i >= 'a' && i <= 'z') code = static_cast<std::uint8_t>(1 + i - 'a');
    else if (i >= 'A' && i <= 'Z') code = static_cast<std::uint8_t>(1 + i - 'A');
    else if (i >= '0' && i <= '9') code = static_cast<std::uint8_t>(27 + i - '0');
    t[static_cast<std::size_t>(i)] = code;
  }
  return t;
}();
constexpr bool is_letter(std::uint8_t code) noexcept { return code != kSeparator && code != kUnmodelled; }
// ASCII lower case, as the tokenizer folds a word byte: a table, one load per byte.
constexpr std::array<char, 256> kFolded = [] {
  std::array<char, 256> t{};
  for (int i = 0; i < 256; ++i) t[static_cast<std::size_t>(i)] = static_cast<char>(i >= 'A' && i <= 'Z' ? i - 'A' + 'a' : i);
  return t;
}();
constexpr char fold(char c) noexcept { return kFolded[static_cast<unsigned char>(c)]; }

// The bit of TermIndex::key_shapes_ for a word with these first two letter codes (second 0 for
// a one-letter word) and this length.
constexpr std::size_t word_shape(std::size_t first, std::size_t second, std::size_t size, std::size_t letters,
                                 std::size_t lengths) noexcept {
  return (first * letters + second) * lengths + std::min(size, lengths - 1);
}

}  // namespace

const TermIndex::Slot* TermIndex::Table::find(std::string_view w, std::uint64_t hash,
                                              const std::string& pool) const noexcept {
  if (slots.empty()) return nullptr;
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.begin == s.end) return nullptr;
    if (s.hash == hash && std::string_view(pool).substr(s.key.offset, s.key.size) == w) return &s;
  }
}

std::uint32_t TermIndex::add_pattern(const WordPattern& p) {
  Pattern out;
  out.first_word = static_cast<std::uint32_t>(words_.size());
  out.word_count = static_cast<std::uint32_t>(p.words.size());
  out.prefix_last = p.prefix_last;
  for (const std::string& w : p.words) {
    words_.push_back(WordRef{static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(w.size()), word_hash(w)});
    pool_.append(w);
  }
  patterns_.push_back(out);
  return static_cast<std::uint32_t>(patterns_.size() - 1);
}

void TermIndex::add_list(std::span<const Term> terms) {
  if (terms.size() > kMaxTerms) throw std::length_error("a value set has too many terms for the term index");
  const auto list = static_cast<std::uint16_t>(list_count_++);
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const Term& term = terms[t];
    Entry e;
    e.list = list;
    e.term = static_cast<std::uint16_t>(t);
    e.pattern = add_pattern(term.pattern);
    e.requires_begin = static_cast<std::uint32_t>(requires_.size());
    for (const WordPattern& r : term.requires_any) requires_.push_back(add_pattern(r));
    e.requires_end = static_cast<std::uint32_t>(requires_.size());
    // A one-word prefix term is keyed by its prefix; every other term by its (whole) first word.
    const bool prefix = term.pattern.prefix_last && term.pattern.words.size() == 1;
    pending_.push_back(Pending{term.pattern.words.front(), prefix, e});
  }
}

void TermIndex::add_key_shape(std::string_view key, bool prefix) {
  // A key with an apostrophe or a byte >= 0x80 can only be a word of a text that has one too,
  // which candidate_lists() leaves to the scan: it needs no shape.
  if (!std::all_of(key.begin(), key.end(), [](char c) { return is_letter(kLetterCodes[static_cast<unsigned char>(c)]); }))
    return;
  const std::size_t first = kLetterCodes[static_cast<unsigned char>(key[0])];
  auto set = [&](std::size_t second, std::size_t size) {
    key_shapes_.set(word_shape(first, second, size, kShapeLetters, kShapeLengths));
  };
  if (!prefix) return set(key.size() > 1 ? kLetterCodes[static_cast<unsigned char>(key[1])] : 0, key.size());
  if (key.size() == 1) {  // "a*": any word starting with the letter
    for (std::size_t second = 0; second < kShapeLetters; ++second)
      for (std::size_t size = 1; size < kShapeLengths; ++size) set(second, size);
    return;
  }
  for (std::size_t size = key.size(); size < kShapeLengths; ++size) set(kLetterCodes[static_cast<unsigned char>(key[1])], size);
}

void TermIndex::fill_key_pairs() {
  key_pairs_.reset();
  for (unsigned b0 = 0; b0 < 256; ++b0) {
    const std::uint8_t first = kLetterCodes[b0];
    if (!is_letter(first)) continue;  // words start with a letter
    for (unsigned b1 = 0; b1 < 256; ++b1) {
      const std::uint8_t code = kLetterCodes[b1];
      const std::size_t second = is_letter(code) ? code : 0;
      for (std::size_t size = 1; size < kShapeLengths; ++size)
        if (key_shapes_[word_shape(first, second, size, kShapeLetters, kShapeLengths)]) {
          key_pairs_.set(b0 | b1 << 8);
          break;
        }
    }
  }
}

void TermIndex::freeze() {
  std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return std::tie(a.prefix, a.key) < std::tie(b.prefix, b.key);
  });
  std::size_t exact_keys = 0, prefix_keys = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i)
    if (i == 0 || pending_[i].prefix != pending_[i - 1].prefix || pending_[i].key != pending_[i - 1].key)
      ++(pending_[i].prefix ? prefix_keys : exact_keys);
  auto size_table = [](Table& t, std::size_t keys) {
    t.slots.assign(keys == 0 ? 0 : std::bit_ceil(2 * keys), Slot{});
  };
  size_table(exact_, exact_keys);
  size_table(prefix_, prefix_keys);

  entries_.clear();
  for (std::size_t i = 0; i < pending_.size();) {
    std::size_t j = i;
    while (j < pending_.size() && pending_[j].prefix == pending_[i].prefix && pending_[j].key == pending_[i].key) ++j;
    const std::string& key = pending_[i].key;
    Slot slot;
    slot.hash = hash_word(key);
    slot.key = WordRef{static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(key.size()), word_hash(key)};
    pool_.append(key);
    slot.begin = static_cast<std::uint32_t>(entries_.size());
    for (std::size_t k = i; k < j; ++k) {
      entries_.push_back(pending_[k].entry);
      slot.lists |= list_bit(pending_[k].entry.list);
      const Pattern& p = patterns_[pending_[k].entry.pattern];
      if (p.word_count == 1) {
        slot.single_lists |= list_bit(pending_[k].entry.list);
      } else if (p.prefix_last && p.word_count == 2) {
        slot.second_words = ~std::uint64_t{0};  // a word prefix: no hash stands for the words it starts
      } else {
        slot.second_words |= std::uint64_t{1} << (words_[p.first_word + 1].hash % 64);
      }
    }
    slot.end = static_cast<std::uint32_t>(entries_.size());
    Table& table = pending_[i].prefix ? prefix_ : exact_;
    const std::size_t mask = table.slots.size() - 1;
    std::size_t at = slot.hash & mask;
    while (table.slots[at].begin != table.slots[at].end) at = (at + 1) & mask;
    table.slots[at] = slot;
    if (pending_[i].prefix) {
      prefix_first_bytes_.set(static_cast<unsigned char>(key.front()));
      prefix_filter_.set(slot.hash % kFilterBits);
    } else {
      exact_filter_.set(slot.hash % kFilterBits);
    }
    add_key_shape(key, pending_[i].prefix);
    if (pending_[i].prefix && std::find(prefix_lengths_.begin(), prefix_lengths_.end(), key.size()) == prefix_lengths_.end())
      prefix_lengths_.push_back(static_cast<std::uint32_t>(key.size()));
    i = j;
  }
  std::sort(prefix_lengths_.begin(), prefix_lengths_.end());
  fill_key_pairs();
  pending_.clear();
  pending_.shrink_to_fit();
}

bool TermIndex::matches_at(const Pattern& p, std::span<const Token> tokens, std::size_t i,
                           std::uint32_t from) const noexcept {
  if (i + p.word_count > tokens.size()) return false;
  for (std::uint32_t k = from; k < p.word_count; ++k) {
    if (k > 0 && tokens[i + k - 1].gap_after != Gap::join) return false;
    const WordRef& ref = words_[p.first_word + k];
    const Token& t = tokens[i + k];
    if (p.prefix_last && k + 1 == p.word_count) {
      if (!t.word.starts_with(word(ref))) return false;
    } else if (t.hash != ref.hash || t.word != word(ref)) {
      return false;
    }
  }
  return true;
}

bool TermIndex::occurs(const Pattern& p, std::span<const Token> tokens, ModifierMask tolerated) const noexcept {
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if ((tokens[i].modifiers & ~tolerated) == 0 && matches_at(p, tokens, i)) return true;
  return false;
}

namespace {
constexpr ModifierMask kHistorical = modifier_bit(Modifier::historical);
}  // namespace

struct TermIndex::Scan {
  std::span<const Token> tokens;
  const Found& found;
  std::uint8_t clause = 0;  // of the word being looked at
};

void TermIndex::consider(const Entry& e, std::size_t i, Scan& scan) const noexcept {
  const Found& f = scan.found;
  if (e.list >= f.current.size()) return;
  const ModifierMask m = scan.tokens[i].modifiers;
  if ((m & ~kHistorical) != 0) return;  // negated, hypothetical or someone else's: never counts
  const bool current = m == 0;
  // Wanted: an earlier term of the list than found so far, or (current) the list's first clause.
  const bool want_current = current && (e.term < f.current[e.list] || f.clause[e.list] == kNoClause);
  const bool want_ever = e.term < f.ever[e.list];
  if (!want_current && !want_ever) return;
  // The entry was found by its pattern's first word (or, for a one-word prefix term, the
  // prefix): matching goes on from the second word.
  if (!matches_at(patterns_[e.pattern], scan.tokens, i, 1)) return;
  bool companion_current = true, companion_ever = true;
  if (e.requires_begin != e.requires_end) {
    companion_current = companion_ever = false;
    for (std::uint32_t r = e.requires_begin; r < e.requires_end && !companion_ever; ++r)
      companion_ever = occurs(patterns_[requires_[r]], scan.tokens, kHistorical);
    for (std::uint32_t r = e.requires_begin; r < e.requires_end && companion_ever && !companion_current; ++r)
      companion_current = occurs(patterns_[requires_[r]], scan.tokens, 0);
  }
  if (want_current && companion_current) {
    f.current[e.list] = std::min(f.current[e.list], e.term);
    f.clause[e.list] = std::min(f.clause[e.list], scan.clause);
  }
  if (want_ever && companion_ever) f.ever[e.list] = e.term;
}

void TermIndex::scan(std::span<const Token> tokens, const Found& found) const noexcept {
  std::fill(found.current.begin(), found.current.end(), kNone);
  std::fill(found.ever.begin(), found.ever.end(), kNone);
  std::fill(found.clause.begin(), found.clause.end(), kNoClause);
  Scan scan{tokens, found};
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0 && tokens[i - 1].gap_after == Gap::clause && scan.clause < kNoClause - 1) ++scan.clause;
    const std::string_view w = tokens[i].word;
    if (exact_filter_.test(tokens[i].hash % kFilterBits))
      if (const Slot* s = exact_.find(w, tokens[i].hash, pool_))
        for (std::uint32_t k = s->begin; k < s->end; ++k) consider(entries_[k], i, scan);
    if (!prefix_first_bytes_.test(static_cast<unsigned char>(w.front()))) continue;
    // word_hash goes byte by byte: each prefix's hash is a step on the way to the next one's.
    std::uint32_t h = kWordHashSeed;
    std::size_t hashed = 0;
    for (std::uint32_t len : prefix_lengths_) {
      if (len > w.size()) break;
      for (; hashed < len; ++hashed) h = word_hash_step(h, w[hashed]);
      if (!prefix_filter_.test(h % kFilterBits)) continue;
      if (const Slot* s = prefix_.find(w.substr(0, len), h, pool_))
        for (std::uint32_t k = s->begin; k < s->end; ++k) consider(entries_[k], i, scan);
    }
  }
}

// The lists whose terms the word (raw bytes, folded here as the tokenizer folds them) may
// start: the entries of its exact key and of every prefix key it starts with.
namespace {

// A key is short; a word longer than this is not looked up by candidate_lists(): every list.
constexpr std::size_t kMaxWord = 64;

// The word folded as the tokenizer folds it, and its word_hash().
std::uint32_t fold_word(const char* word, std::size_t size, char* folded) noexcept {
  std::uint32_t h = kWordHashSeed;
  for (std::size_t i = 0; i < size; ++i) {
    folded[i] = fold(word[i]);
    h = word_hash_step(h, folded[i]);
  }
  return h;
}

}  // namespace

// The lists whose terms the word text[start, start + size) (raw bytes) may start: those with a
// one-word term that is the word or a prefix of it, and those with a longer term that the next
// word goes on with (lists_going_on).
TermIndex::ListMask TermIndex::lists_started_by(std::string_view text, std::size_t start, std::size_t size) const noexcept {
  if (size > kMaxWord) return kAllLists;  // no real key is that long: let the scan decide
  char folded[kMaxWord];
  std::uint32_t h = fold_word(text.data() + start, size, folded);
  ListMask lists = 0;
  if (exact_filter_[h % kFilterBits])
    if (const Slot* s = exact_.find(std::string_view(folded, size), h, pool_)) {
      lists |= s->single_lists;
      if ((s->lists & ~lists) != 0) lists |= lists_going_on(*s, text, start + size, s->lists & ~lists);
    }
  if (!prefix_first_bytes_[static_cast<unsigned char>(folded[0])]) return lists;
  h = kWordHashSeed;
  std::size_t hashed = 0;
  for (std::uint32_t len : prefix_lengths_) {  // one-word prefix terms only: no next word to check
    if (len > size) break;
    for (; hashed < len; ++hashed) h = word_hash_step(h, folded[hashed]);
    if (!prefix_filter_[h % kFilterBits]) continue;
    if (const Slot* s = prefix_.find(std::string_view(folded, len), h, pool_)) lists |= s->lists;
  }
  return lists;
}

// The lists of `wanted` with a term of several words under `key` whose second word is the next
// word of the text, joined to the key's word (the word ending at `after`) as matches_at() wants
// it: by exactly one space, tab or hyphen (Gap::join).
TermIndex::ListMask TermIndex::lists_going_on(const Slot& key, std::string_view text, std::size_t after,
                                              ListMask wanted) const noexcept {
  if (after + 1 >= text.size() || !is_letter(kLetterCodes[static_cast<unsigned char>(text[after + 1])])) return 0;
  const char gap = text[after];
  if (gap != ' ' && gap != '\t' && gap != '-') return 0;
  std::size_t next = after + 1, end = next;
  while (end < text.size() && is_letter(kLetterCodes[static_cast<unsigned char>(text[end])])) ++end;
  if (end - next > kMaxWord) return wanted;
  char folded[kMaxWord];
  const std::uint32_t h = fold_word(text.data() + next, end - next, folded);
  if ((key.second_words >> (h % 64) & 1) == 0) return 0;  // the second word of no term under the key
  const std::string_view word_after(folded, end - next);
  ListMask lists = 0;
  for (std::uint32_t k = key.begin; k < key.end; ++k) {
    const Entry& e = entries_[k];
    const Pattern& p = patterns_[e.pattern];
    if ((wanted & ~lists & list_bit(e.list)) == 0 || p.word_count < 2) continue;
    const WordRef& second = words_[p.first_word + 1];
    const bool goes_on = p.prefix_last && p.word_count == 2 ? word_after.starts_with(word(second))
                                                            : second.hash == h && word_after == word(second);
    if (goes_on) lists |= list_bit(e.list);
  }
  return lists;
}

namespace {

// Which bytes of a text are word letters (ASCII letters and digits): bit i of masks[i / 64] is
// byte i. False when the text has a byte >= 0x80 or an apostrophe, which the tokenizer folds
// or joins in ways the masks do not model. 16 bytes at a time with SSE2 (every x86-64 has it),
// else one at a time.
constexpr std::size_t kMaskedBytes = 1024;  // longer texts (rare) are left to the scan

#if defined(__SSE2__)
std::uint64_t letter_bits16(const unsigned char* p, std::uint32_t& unmodelled) noexcept {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  unmodelled |= static_cast<std::uint32_t>(_mm_movemask_epi8(x)) |  // bytes >= 0x80
                static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\''))));
  // Signed compares are right for bytes < 0x80, the only ones a modelled text has.
  const __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));  // ASCII letters folded; no other byte lands on a-z
  const __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
  const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
  return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_or_si128(alpha, digit)));
}
#endif

bool letter_masks(std::string_view text, std::uint64_t* masks) noexcept {
  const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
#if defined(__SSE2__)
  std::uint32_t unmodelled = 0;
  std::size_t at = 0;
  for (; at + 16 <= text.size(); at += 16) masks[at / 64] |= letter_bits16(bytes + at, unmodelled) << (at % 64);
  if (at < text.size()) {  // the tail: no load may read past the text
    const std::size_t rest = text.size() - at;
    std::uint64_t bits;
    if (text.size() >= 16) {  // the last 16 bytes, overlapping bytes already mapped: keep the new ones
      bits = letter_bits16(bytes + text.size() - 16, unmodelled) >> (16 - rest);
    } else {  // a short text, copied out
      unsigned char tail[16] = {};  // zero bytes: separators
      std::memcpy(tail, bytes + at, rest);
      bits = letter_bits16(tail, unmodelled);
    }
    masks[at / 64] |= bits << (at % 64);
  }
  return unmodelled == 0;
#else
  for (std::size_t at = 0; at < text.size(); ++at) {
    const std::uint8_t code = kLetterCodes[bytes[at]];
    if (code == kUnmodelled) return false;
    masks[at / 64] |= std::uint64_t{code != kSeparator} << (at % 64);
  }
  return true;
#endif
}

}  // namespace

// For ASCII text without apostrophes the tokenizer's words are exactly the runs of letters and
// digits, lower-cased: the same words are looked up here as scan() would look them up (by their
// shape first), without writing tokens.
TermIndex::ListMask TermIndex::candidate_lists(std::string_view text) const noexcept {
  if (text.size() > kMaskedBytes) return kAllLists;
  const std::size_t n = (text.size() + 63) / 64;
  std::uint64_t masks[kMaskedBytes / 64 + 1];
  std::fill_n(masks, n + 1, 0);  // one more: all separators, ends every word
  if (!letter_masks(text, masks)) return kAllLists;
  const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
  ListMask lists = 0;
  std::uint64_t carry = 0;  // the last byte of the previous mask was a letter
  for (std::size_t w = 0; w < n; ++w) {
    const std::uint64_t m = masks[w];
    std::uint64_t starts = m & ~((m << 1) | carry);
    carry = m >> 63;
    while (starts != 0) {
      const auto bit = static_cast<std::size_t>(std::countr_zero(starts));
      starts &= starts - 1;
      const std::size_t start = w * 64 + bit;
      const unsigned after = start + 1 < text.size() ? bytes[start + 1] : 0;  // 0: a separator
      if (!key_pairs_[bytes[start] | after << 8]) continue;
      std::size_t size = static_cast<std::size_t>(std::countr_one(m >> bit));
      if (bit + size == 64)  // the word goes on in the next masks
        for (std::size_t v = w + 1;; ++v) {
          const auto more = static_cast<std::size_t>(std::countr_one(masks[v]));
          size += more;
          if (more < 64) break;
        }
      const std::uint8_t second = size > 1 ? kLetterCodes[bytes[start + 1]] : 0;
      if (key_shapes_[word_shape(kLetterCodes[bytes[start]], second, size, kShapeLetters, kShapeLengths)])
        lists |= lists_started_by(text, start, size);
    }
  }
  return lists;
}

}  // namespace rules::detail
