#include "rules/detail/code_table.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace rules::detail {
namespace {

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && fhir::iequals(s.substr(0, prefix.size()), prefix);
}

// The lookup table is ordered by length first: the systems a rule set knows mostly differ in
// length, so a lookup compares integers and then at most a few strings of the right length,
// instead of comparing URLs that share their "http://" prefix at every step of the search.
bool url_less(std::string_view a, std::string_view b) noexcept {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}
struct ByUrl {
  bool operator()(const std::pair<std::string, int>& a, std::string_view b) const noexcept { return url_less(a.first, b); }
  bool operator()(std::string_view a, const std::pair<std::string, int>& b) const noexcept { return url_less(a, b.first); }
};

}  // namespace

int SystemTable::add_canonical(std::string_view url) {
  for (std::size_t i = 0; i < canonical_.size(); ++i)
    if (canonical_[i] == url) return static_cast<int>(i);
  canonical_.emplace_back(url);
  const int index = static_cast<int>(canonical_.size() - 1);
  lookup_.emplace_back(std::string(url), index);
  return index;
}

void SystemTable::add_alias(std::string_view alias, std::string_view url) {
  const int index = add_canonical(url);
  lookup_.emplace_back(std::string(alias), index);
}

void SystemTable::freeze() {
  std::sort(lookup_.begin(), lookup_.end(), [](const auto& a, const auto& b) {
    return url_less(a.first, b.first) || (a.first == b.first && a.second < b.second);
  });
  lookup_.erase(std::unique(lookup_.begin(), lookup_.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                lookup_.end());
}

int SystemTable::find(std::string_view system) const noexcept {
  // A trailing slash is a common variation ("http://loinc.org/"): not a different system.
  if (system.size() > 1 && system.back() == '/') system.remove_suffix(1);
  auto it = std::lower_bound(lookup_.begin(), lookup_.end(), system, ByUrl{});
  return it != lookup_.end() && it->first == system ? it->second : unknown;
}

void CodeTable::freeze() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const CodeEntry& a, const CodeEntry& b) { return a.system < b.system; });
}

bool CodeTable::contains(int system, std::string_view code) const noexcept {
  if (system == SystemTable::unknown || code.empty()) return false;
  auto first = std::lower_bound(entries_.begin(), entries_.end(), system,
                                [](const CodeEntry& e, int s) { return e.system < s; });
  for (auto it = first; it != entries_.end() && it->system == system; ++it)
    if (it->prefix ? istarts_with(code, it->code) : fhir::iequals(code, it->code)) return true;
  return false;
}

bool CodeTable::contains(const SystemTable& systems, const fhir::CodeableConcept& cc) const noexcept {
  if (entries_.empty()) return false;
  for (fhir::Coding c : cc.codings())
    if (contains(systems.find(c.system()), c.code())) return true;
  return false;
}

namespace {

char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

constexpr std::uint64_t code_hash_step(std::uint64_t h, char c) noexcept {
  return (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
}
std::uint64_t code_hash(int system, std::string_view upper_code) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ static_cast<std::uint64_t>(static_cast<std::uint32_t>(system));
  for (char c : upper_code) h = code_hash_step(h, c);
  return h;
}

}  // namespace

std::size_t CodeIndex::code_shape(int system, char upper_first, std::size_t length) noexcept {
  const std::size_t key = (static_cast<std::size_t>(static_cast<unsigned>(system)) * 256 + static_cast<unsigned char>(upper_first)) *
                              kShapeLengths +
                          std::min(length, kShapeLengths - 1);
  return (key * 0x9E3779B97F4A7C15ULL >> 40) % kShapeBits;
}

void CodeIndex::add(std::size_t table, const CodeTable& codes) {
  for (const CodeEntry& e : codes.entries()) {
    if (e.system == SystemTable::unknown || e.code.empty()) continue;
    if (e.code.size() > kMaxCode) throw std::length_error("code \"" + e.code + "\" is longer than the code index allows");
    if (table >= kMaxTables) throw std::length_error("too many code tables for the code index");
    std::string u(e.code);
    for (char& c : u) c = upper(c);
    pending_.push_back(Pending{e.system, std::move(u), e.prefix, Mask{1} << table});
  }
}

const CodeIndex::Slot* CodeIndex::Table::find(int system, std::string_view code, std::uint64_t hash,
                                              const std::string& pool) const noexcept {
  if (slots.empty()) return nullptr;
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (s.mask == 0) return nullptr;
    if (s.hash == hash && s.system == system && std::string_view(pool).substr(s.offset, s.size) == code) return &s;
  }
}

void CodeIndex::freeze() {
  std::size_t exact = 0, prefix = 0;
  for (const Pending& p : pending_) ++(p.prefix ? prefix : exact);
  exact_.slots.assign(exact == 0 ? 0 : std::bit_ceil(2 * exact), Slot{});
  prefix_.slots.assign(prefix == 0 ? 0 : std::bit_ceil(2 * prefix), Slot{});
  for (const Pending& p : pending_) {
    Table& t = p.prefix ? prefix_ : exact_;
    const std::uint64_t hash = code_hash(p.system, p.upper);
    if (const Slot* s = t.find(p.system, p.upper, hash, pool_)) {
      t.slots[static_cast<std::size_t>(s - t.slots.data())].mask |= p.mask;  // the same code in another table
      continue;
    }
    Slot slot{hash, p.system, static_cast<std::uint32_t>(pool_.size()), static_cast<std::uint32_t>(p.upper.size()), p.mask};
    pool_.append(p.upper);
    const std::size_t m = t.slots.size() - 1;
    std::size_t at = hash & m;
    while (t.slots[at].mask != 0) at = (at + 1) & m;
    t.slots[at] = slot;
    filter_.set(hash % kFilterBits);
    for (std::size_t len = std::min(p.upper.size(), kShapeLengths - 1); len < kShapeLengths; ++len) {
      shapes_.set(code_shape(p.system, p.upper.front(), len));
      if (!p.prefix) break;  // an exact key: its own length only
    }
    longest_ = std::max(longest_, p.upper.size());
    if (p.prefix && std::find(prefix_lengths_.begin(), prefix_lengths_.end(), p.upper.size()) == prefix_lengths_.end())
      prefix_lengths_.push_back(static_cast<std::uint32_t>(p.upper.size()));
  }
  std::sort(prefix_lengths_.begin(), prefix_lengths_.end());
  pending_.clear();
  pending_.shrink_to_fit();
}

CodeIndex::Mask CodeIndex::find(int system, std::string_view code) const noexcept {
  if (system == SystemTable::unknown || code.empty()) return 0;
  if (!shapes_[code_shape(system, upper(code.front()), code.size())]) return 0;
  // Only the first longest_ characters can take part in a match (add() keeps that <= kMaxCode).
  char buf[kMaxCode];
  const std::size_t n = std::min(code.size(), longest_);
  for (std::size_t i = 0; i < n; ++i) buf[i] = upper(code[i]);
  const std::string_view folded(buf, n);
  Mask m = 0;
  // code_hash is computed byte by byte, so the hash of each prefix is a step of the whole
  // code's hash: one pass gives the hash for every prefix length and the exact lookup.
  std::uint64_t h = code_hash(system, {});
  std::size_t hashed = 0;
  auto hash_to = [&](std::size_t len) {
    for (; hashed < len; ++hashed) h = code_hash_step(h, folded[hashed]);
    return h;
  };
  auto lookup = [&](const Table& table, std::string_view key, std::uint64_t hash) {
    if (!filter_.test(hash % kFilterBits)) return;
    if (const Slot* s = table.find(system, key, hash, pool_)) m |= s->mask;
  };
  for (std::uint32_t len : prefix_lengths_) {
    if (len > n) break;
    lookup(prefix_, folded.substr(0, len), hash_to(len));
  }
  if (code.size() <= longest_) lookup(exact_, folded, hash_to(n));
  return m;
}

}  // namespace rules::detail
