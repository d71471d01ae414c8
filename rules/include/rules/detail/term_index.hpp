#pragma once
// The terms of several term lists (one per value-set role), indexed by their first word, so one
// pass over a text's words answers "which is the first term of each list that occurs in this
// text?" for every list at once - the same answer as TermMatcher::find per list, without
// trying every term at every word. Built once at load time; scanning allocates nothing.
//
// The index keeps its own copy of the words (offsets into one string, no pointers), so it is
// safe to copy and independent of where the Term vectors live.
#include "rules/detail/term_matcher.hpp"

#include <array>
#include <bitset>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rules::detail {

class TermIndex {
 public:
  static constexpr std::uint16_t kNone = 0xFFFF;  // no term of the list occurs
  static constexpr std::size_t kMaxTerms = kNone;  // terms per list

  // Adds a list of terms; its id is the number of lists added before it. Throws
  // std::length_error for a list of more than kMaxTerms terms.
  void add_list(std::span<const Term> terms);
  // Builds the lookup tables; call once after the last add_list.
  void freeze();
  std::size_t list_count() const noexcept { return list_count_; }

  // What one scan finds, per list (each span has one element per list; lists beyond are not
  // looked at). A term counts where its first word carries no modifier other than historical
  // (ContextRules::mark); for a term with requires_any, one of those must occur likewise.
  struct Found {
    std::span<std::uint16_t> current;  // the first term, in list order, with no modifier at all; kNone
    std::span<std::uint16_t> ever;     // ... the first term with no modifier but historical; kNone
    std::span<std::uint8_t> clause;    // the clause (0, 1, ...) of the earliest `current` occurrence; kNoClause
  };
  static constexpr std::uint8_t kNoClause = 0xFF;
  void scan(std::span<const Token> tokens, const Found& found) const noexcept;

  // The lists that may have a term in the raw (not yet tokenized) text, as a bit mask (bit l:
  // list l; lists from 32 on share bit 31): those of whose terms a word of the text is the
  // first word (or, for a one-word prefix term, starts with it). scan() finds no term of the
  // other lists, so a caller that wants only those may skip it: most EHR texts start no term,
  // or only terms of lists nobody asks about for them, and this look at the bytes costs a
  // fraction of tokenizing and scanning. Every bit is set for a text with a byte >= 0x80 or an
  // apostrophe, whose words the tokenizer folds or joins in ways this does not model.
  using ListMask = std::uint32_t;
  static constexpr ListMask kAllLists = ~ListMask{0};
  static constexpr ListMask list_bit(std::size_t list) noexcept { return ListMask{1} << std::min<std::size_t>(list, 31); }
  ListMask candidate_lists(std::string_view text) const noexcept;

 private:
  struct Pattern {
    std::uint32_t first_word = 0;  // into words_
    std::uint32_t word_count = 0;
    bool prefix_last = false;
  };
  struct WordRef {
    std::uint32_t offset = 0;  // into pool_
    std::uint32_t size = 0;
    std::uint32_t hash = 0;    // word_hash() of the word: most mismatches are told by it
  };
  // A term of one list that may start at a word with this entry's key.
  struct Entry {
    std::uint32_t pattern = 0;
    std::uint16_t list = 0;
    std::uint16_t term = 0;
    std::uint32_t requires_begin = 0, requires_end = 0;  // into requires_ (pattern indices)
  };
  // Open-addressing hash table from a key word to its run of entries_.
  struct Slot {
    std::uint64_t hash = 0;
    WordRef key;
    std::uint32_t begin = 0, end = 0;  // into entries_; begin == end: empty slot
    std::uint32_t lists = 0;           // list_bit() of every entry's list
    std::uint32_t single_lists = 0;    // ... of the entries whose term is this one word
    std::uint64_t second_words = 0;    // bit (hash % 64) of the second word of every longer term
  };
  struct Table {
    std::vector<Slot> slots;  // size is a power of two, at most half full
    const Slot* find(std::string_view word, std::uint64_t hash, const std::string& pool) const noexcept;
  };

  std::uint32_t add_pattern(const WordPattern& p);
  std::string_view word(WordRef w) const noexcept { return std::string_view(pool_).substr(w.offset, w.size); }
  // Whether p matches the tokens from i on; its words before `from` are known to match.
  bool matches_at(const Pattern& p, std::span<const Token> tokens, std::size_t i, std::uint32_t from = 0) const noexcept;
  bool occurs(const Pattern& p, std::span<const Token> tokens, ModifierMask tolerated) const noexcept;
  struct Scan;
  void consider(const Entry& e, std::size_t i, Scan& scan) const noexcept;

  std::string pool_;
  std::vector<WordRef> words_;
  std::vector<Pattern> patterns_;
  std::vector<std::uint32_t> requires_;
  // Entries grouped by key: whole first words (exact_), and first words that are themselves a
  // word prefix, i.e. one-word "amnio*" terms (prefix_, looked up once per distinct length).
  std::vector<Entry> entries_;
  Table exact_, prefix_;
  std::vector<std::uint32_t> prefix_lengths_;
  std::bitset<256> prefix_first_bytes_;  // first bytes of prefix_ keys: most words skip prefix_ lookups
  // Low bits of the hashes of each table's keys: most words of a text start no term and are
  // rejected by one bit test, without probing the table.
  static constexpr std::size_t kFilterBits = 4096;
  std::bitset<kFilterBits> exact_filter_, prefix_filter_;
  // Which (first two letters, length) a word must have to be a key, as bits indexed by
  // word_shape(): an exact key sets its own shape, a prefix key every longer one too.
  // candidate_lists() looks up only the words whose shape is set; most are told by one bit test.
  static constexpr std::size_t kShapeLengths = 16;  // lengths 0..14, and 15 for "15 or more"
  static constexpr std::size_t kShapeLetters = 37;  // 0: none (a one-letter word), 1..36: a-z, 0-9
  std::bitset<kShapeLetters * kShapeLetters * kShapeLengths> key_shapes_;
  void add_key_shape(std::string_view key, bool prefix);
  // The same without the length, by a word's first two bytes as they are in the text (bit
  // b0 | b1 << 8; b1 is the byte after a one-letter word): one bit test on two raw bytes passes
  // over most words before their length is even known.
  std::bitset<65536> key_pairs_;
  void fill_key_pairs();
  ListMask lists_started_by(std::string_view text, std::size_t start, std::size_t size) const noexcept;
  ListMask lists_going_on(const Slot& key, std::string_view text, std::size_t after, ListMask wanted) const noexcept;
  std::size_t list_count_ = 0;

  // Load-time staging: the key of each entry before freeze() groups them.
  struct Pending {
    std::string key;
    bool prefix = false;
    Entry entry;
  };
  std::vector<Pending> pending_;
};

}  // namespace rules::detail
