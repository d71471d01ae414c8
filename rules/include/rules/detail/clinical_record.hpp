#pragma once
// What one hook request tells about the patient, gathered once per evaluation: the resources of
// every prefetch entry by type (whatever the prefetch keys are called), the draft orders, and a
// reference index over both. Views only: nothing is copied out of the request JSON.
#include "rules/detail/rule_set.hpp"
#include "rules/detail/inline_string.hpp"
#include "rules/detail/small_vector.hpp"

#include "fhir/fhir.hpp"

#include <string>
#include <vector>

namespace rules::detail {

// Resolves a reference against the prefetch and draftOrders exactly like fhir::ReferenceIndex
// (fullUrl first, then type and id), but by scanning on demand: the rules resolve a handful of
// references per request, so indexing every resource up front costs more than it saves.
class RecordIndex {
 public:
  // Indexes a resource, or every entry of a Bundle (kept as a view).
  void add(const json::value& resource_or_bundle) { sources_.push_back(&resource_or_bundle); }
  const json::object* resolve(std::string_view reference) const noexcept;

 private:
  SmallVector<const json::value*, 16> sources_;
};

using ResourceList = SmallVector<const json::object*, 32>;

struct ClinicalRecord {
  const json::object* patient = nullptr;
  ResourceList conditions, procedures, observations, medication_requests, service_requests, care_plans;
  ResourceList draft_orders;  // every order in context.draftOrders
  RecordIndex index;          // prefetch + draftOrders
};

void collect_record(const HookInput& input, ClinicalRecord& out);

// "Type/id" for a resource.
std::string reference_of(const json::object& resource);
void reference_of(const json::object& resource, Reference& out);

// Matches value sets of the rule set against FHIR data. Each distinct text is looked at once
// per evaluation (RuleSet::term_index): a cheap pass over its bytes tells which roles may have a
// term in it, and only when a role among those is asked is it tokenized and scanned, for every
// role at once. Each CodeableConcept's codes are looked up once for every role
// (RuleSet::code_index), its texts role by role as asked. The answers are cached, so asking
// about the same text or concept again is a table lookup. No heap allocation (texts of over
// TokenizedText::kInlineChars bytes aside); the caches make the object about 50 KiB: one per
// evaluation, on the stack.
// How a mention must be asserted to count (ConText, context.hpp).
enum class Assertion : std::uint8_t {
  current,  // about the patient, now: no modifier (what a draft order is for)
  ever,     // about the patient, now or in the past: not negated, hypothetical or someone else's
};

class ConceptMatcher {
 public:
  // `now` tells which dates in text are past (a historical context); the epoch: none is.
  explicit ConceptMatcher(const RuleSet& rules, fhir::Instant now = {}) : rules_(rules), today_(today_of(now)) {
    none_.coding.fill(kNoCoding);
    none_.term.fill(TermIndex::kNone);
    none_.terms_known = ~RoleMask{0};
    none_.candidates = 0;
    none_.source_count = 0;
  }
  ConceptMatcher(const ConceptMatcher&) = delete;
  ConceptMatcher& operator=(const ConceptMatcher&) = delete;

  // What made a match: the term as written in the value set, or the matched code.
  struct Hit {
    bool found = false;
    std::string_view what;
    bool by_code = false;
    explicit operator bool() const noexcept { return found; }
  };

  Hit code(Role role, const fhir::CodeableConcept& cc) noexcept;
  Hit text(Role role, std::string_view text, Assertion assertion = Assertion::ever);
  // The concept's text and every coding display.
  Hit concept_text(Role role, const fhir::CodeableConcept& cc);
  // Code first, then text, from one look at the concept's cached hits. (Texts must outlive the
  // matcher: they are views into the request.)
  Hit matches(Role role, const fhir::CodeableConcept& cc);

  const RuleSet& rules() const noexcept { return rules_; }

  // The first term of every role in one text (TermIndex::kNone: none).
  using RoleHits = std::array<std::uint16_t, kRoleCount>;
  using RoleClauses = std::array<std::uint8_t, kRoleCount>;
  // Everything one text says, for every role at once: the first term asserted currently, the
  // first asserted ever, and the clause (0, 1, ...) of the earliest current mention.
  struct TextFacts {
    RoleHits current, ever;
    RoleClauses clause;
    Hit current_hit(Role role) const noexcept;  // as Hits (they need the rules for the term text)
    Hit ever_hit(Role role) const noexcept;
    const RuleSet* rules = nullptr;
  };
  TextFacts text_facts(std::string_view text);

 private:
  static Today today_of(fhir::Instant now) noexcept;
  using RoleMask = std::uint32_t;  // bit r: Role r
  static_assert(kRoleCount < 32, "a role r is list r of the term index: role_bit(r) == TermIndex::list_bit(r)");
  static constexpr RoleMask role_bit(Role r) noexcept { return RoleMask{1} << static_cast<std::size_t>(r); }

  // Only `data` is initialised (null: an empty slot); the rest is written when a text takes the
  // slot. (Initialising every member of 256 slots per evaluation cost thousands of instructions.)
  struct TextHits {
    const char* data = nullptr;
    std::size_t size;
    std::size_t hash;
    TermIndex::ListMask candidates;  // the roles that may have a term here (candidate_lists)
    bool scanned;                    // `current`, `ever` and `clause` are filled in
    RoleHits current, ever;
    RoleClauses clause;
  };
  // The looked-at texts, by content: EHR data repeats texts such as "Right knee" in many
  // resources, and the rules ask about one text for several roles. The cached views point into
  // the request, which outlives the matcher.
  static constexpr std::size_t kContentSlots = 256;
  static constexpr std::size_t kContentProbes = 8;
  TextHits& text_entry(std::string_view text);
  // The first term of `role` in the text (TermIndex::kNone: none), scanning it on first need.
  std::uint16_t first_term(TextHits& entry, Role role, Assertion assertion = Assertion::ever);
  void scan(TextHits& entry);

  // What a CodeableConcept matches: for every role, the first coding whose code is in the
  // role's value set (found at once), and, for the roles asked so far, the first term in its
  // text or coding displays. Kept per concept (by address): the rules ask about one concept for
  // several roles.
  static constexpr std::uint16_t kNoCoding = 0xFFFF;
  static constexpr std::size_t kMaxSources = 8;  // text and displays kept for asking later
  struct Source {  // a std::string_view without a default initialiser (see TextHits)
    const char* data;
    std::size_t size;
  };
  // Only `concept_json` is initialised (null: an empty slot), as in TextHits.
  struct ConceptHits {
    const json::object* concept_json = nullptr;
    std::array<std::uint16_t, kRoleCount> coding;  // index into codings(), or kNoCoding
    RoleHits term;                                 // for the roles of terms_known; kNone: no term
    RoleMask terms_known;
    RoleMask candidates;  // the roles that may have a term in any source: the others have none
    std::uint8_t source_count;
    std::array<Source, kMaxSources> sources;  // the non-empty text, then displays
    std::array<RoleMask, kMaxSources> source_candidates;
  };
  static constexpr std::size_t kConceptSlots = 256;
  // Inline: most calls find the concept already cached.
  ConceptHits& concept_hits(const fhir::CodeableConcept& cc) {
    const json::object* key = cc.json();
    if (key == nullptr) return none_;
    static_assert(kConceptSlots == 256);
    ConceptHits& h = concepts_[(reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ULL) >> 56];
    return h.concept_json == key ? h : fill_concept_hits(h, key);
  }
  ConceptHits& fill_concept_hits(ConceptHits& h, const json::object* key);
  std::uint16_t concept_term(ConceptHits& h, Role role);
  // The hit for coding number k of the concept (ConceptHits::coding), or none.
  static Hit coding_hit(const fhir::CodeableConcept& cc, std::uint16_t k) noexcept;
  Hit term_hit(Role role, std::uint16_t t) const noexcept;

  // SystemTable::find of the coding systems looked up so far (the last kSystemCache): a request
  // names a handful of systems over and over, and comparing with those is cheaper than
  // searching the table.
  int system_index(std::string_view system) noexcept;
  static constexpr std::size_t kSystemCache = 4;
  struct SystemSeen {
    std::string_view system;  // a view into the request
    int index = SystemTable::unknown;
  };

  const RuleSet& rules_;
  Today today_;
  std::array<SystemSeen, kSystemCache> systems_seen_;
  std::size_t systems_seen_count_ = 0, next_system_slot_ = 0;
  TokenizedText scratch_;
  std::array<TextHits, kContentSlots> by_content_;
  std::array<ConceptHits, kConceptSlots> concepts_;
  ConceptHits none_;  // for a missing concept
};

// Conditions (active, not refuted or entered-in-error) coded or named as knee osteoarthritis.
ResourceList knee_oa_conditions(const ClinicalRecord& record, ConceptMatcher& m);

bool status_in(std::string_view status, const std::vector<std::string>& allowed) noexcept;

// The first digits in a text as a number ("KL grade 4" -> 4), or -1.
int first_integer(std::string_view text) noexcept;

}  // namespace rules::detail
