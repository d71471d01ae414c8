#pragma once
// Code-system identity and value-set code tables. EHRs name one code system several ways
// (an OID, the ICD-10 WHO URL for ICD-10-CM codes, ...); the aliases in knee-oa.json fold them
// onto one canonical URL at load time, so matching is an integer compare plus a code compare.
#include "fhir/coding.hpp"

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rules::detail {

class SystemTable {
 public:
  static constexpr int unknown = -1;
  // Adds a canonical system (idempotent) and returns its index.
  int add_canonical(std::string_view url);
  // Makes `alias` resolve to the canonical system `url` (which is added if new).
  void add_alias(std::string_view alias, std::string_view url);
  // The index of a system as it appears in data, or `unknown`. No allocation.
  int find(std::string_view system) const noexcept;
  std::string_view canonical(int index) const noexcept { return canonical_[static_cast<std::size_t>(index)]; }
  // Call once after the last add: sorts the lookup table.
  void freeze();

 private:
  std::vector<std::string> canonical_;
  std::vector<std::pair<std::string, int>> lookup_;  // url or alias -> index, sorted by url
};

struct CodeEntry {
  int system = SystemTable::unknown;
  std::string code;
  bool prefix = false;  // "M17" matches M17, M17.0, M17.11, ...
  bool verified = true;
};

class CodeTable {
 public:
  void add(CodeEntry e) { entries_.push_back(std::move(e)); }
  // Sorts by system so lookups scan only the entries of one system.
  void freeze();
  // Codes compare ignoring ASCII case (EHRs lower-case HCPCS/CPT letters now and then).
  bool contains(int system, std::string_view code) const noexcept;
  bool contains(const SystemTable& systems, const fhir::CodeableConcept& cc) const noexcept;
  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  const std::vector<CodeEntry>& entries() const noexcept { return entries_; }

 private:
  std::vector<CodeEntry> entries_;
};

// Every code of several code tables (one per value-set role) in one hash table: which tables
// hold a (system, code), as a bit mask, in one lookup per coding instead of a search per table.
// Codes compare ignoring ASCII case, like CodeTable::contains; prefix codes ("M17") are looked
// up once per distinct prefix length. Built at load time; lookups allocate nothing.
class CodeIndex {
 public:
  using Mask = std::uint32_t;  // bit t: table t
  static constexpr std::size_t kMaxTables = 32;
  static constexpr std::size_t kMaxCode = 128;  // longest code a table may hold (FHIR codes are short)

  // Adds table number `table` (< kMaxTables). Throws std::length_error past the limits.
  void add(std::size_t table, const CodeTable& codes);
  void freeze();
  Mask find(int system, std::string_view code) const noexcept;

 private:
  struct Slot {
    std::uint64_t hash = 0;
    int system = SystemTable::unknown;
    std::uint32_t offset = 0, size = 0;  // the upper-cased code in pool_
    Mask mask = 0;                       // 0: empty slot
  };
  struct Table {
    std::vector<Slot> slots;  // a power of two, at most half full
    const Slot* find(int system, std::string_view upper, std::uint64_t hash, const std::string& pool) const noexcept;
  };
  struct Pending {
    int system;
    std::string upper;
    bool prefix;
    Mask mask;
  };
  Table exact_, prefix_;
  // Low bits of the hashes of both tables' keys: most codes of a request are in no value set
  // and are rejected by a bit test per lookup, without probing a table.
  static constexpr std::size_t kFilterBits = 4096;
  std::bitset<kFilterBits> filter_;
  // The (system, first character, length) of every key, hashed to a bit (a prefix key sets its
  // length and every longer one): a code without a key of its system, first character and
  // length is rejected before it is folded and hashed, as most codes of a request are.
  static constexpr std::size_t kShapeBits = 4096;
  static constexpr std::size_t kShapeLengths = 17;  // 0..15, and 16 for "16 or more"
  static std::size_t code_shape(int system, char upper_first, std::size_t length) noexcept;
  std::bitset<kShapeBits> shapes_;
  std::vector<std::uint32_t> prefix_lengths_;
  std::size_t longest_ = 0;  // longest code in either table
  std::string pool_;
  std::vector<Pending> pending_;
};

}  // namespace rules::detail
