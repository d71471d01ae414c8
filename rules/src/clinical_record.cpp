#include "rules/detail/clinical_record.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace rules::detail {
namespace {

// fhir::for_each_resource (the entries of a Bundle, skipping search.mode "outcome", or the
// resource itself), reading each entry's members in one pass instead of one key search for
// "resource" and another for "search": the record has one entry per prefetched resource.
template <class F>
void for_each_resource(const json::value& v, F&& f) {
  const json::object* o = v.if_object();
  if (o == nullptr) return;
  if (fhir::string_field(o, "resourceType") != "Bundle") {
    f(*o);
    return;
  }
  const json::array* entries = fhir::array_field(o, "entry");
  if (entries == nullptr) return;
  for (const json::value& ev : *entries) {
    const json::object* e = ev.if_object();
    if (e == nullptr) continue;
    const json::object* resource = nullptr;
    const json::object* search = nullptr;
    for (const json::key_value_pair& kv : *e) {
      if (kv.key() == "resource") resource = kv.value().if_object();
      else if (kv.key() == "search") search = kv.value().if_object();
    }
    if (resource == nullptr || fhir::string_field(search, "mode") == "outcome") continue;
    f(*resource);
  }
}

}  // namespace

void collect_record(const HookInput& input, ClinicalRecord& out) {
  auto add = [&out](const json::object& r) {
    const std::string_view type = fhir::string_field(&r, "resourceType");
    if (type == "Patient") {
      if (out.patient == nullptr) out.patient = &r;
    } else if (type == "Condition") {
      out.conditions.push_back(&r);
    } else if (type == "Procedure") {
      out.procedures.push_back(&r);
    } else if (type == "Observation") {
      out.observations.push_back(&r);
    } else if (type == "MedicationRequest") {
      out.medication_requests.push_back(&r);
    } else if (type == "ServiceRequest") {
      out.service_requests.push_back(&r);
    } else if (type == "CarePlan") {
      out.care_plans.push_back(&r);
    }
  };
  if (input.prefetch != nullptr)
    for (const auto& kv : *input.prefetch) {
      for_each_resource(kv.value(), add);
      out.index.add(kv.value());
    }
  if (const json::value* drafts = input.context ? input.context->if_contains("draftOrders") : nullptr) {
    for_each_resource(*drafts, [&out](const json::object& r) {
      if (fhir::Order::is_order(&r)) out.draft_orders.push_back(&r);
    });
    out.index.add(*drafts);
  }
}

const json::object* RecordIndex::resolve(std::string_view reference) const noexcept {
  if (reference.empty()) return nullptr;
  // Calls f(resource, fullUrl) for every indexed resource, in the order added, until f is true.
  auto find = [this](auto&& f) -> const json::object* {
    for (const json::value* v : sources_) {
      const json::object* o = v->if_object();
      if (o == nullptr) continue;
      if (fhir::string_field(o, "resourceType") != "Bundle") {
        if (f(*o, std::string_view{})) return o;
        continue;
      }
      for (fhir::BundleEntry e : fhir::Bundle(o).entries())
        if (const json::object* r = e.resource(); r != nullptr && f(*r, e.full_url())) return r;
    }
    return nullptr;
  };
  if (const json::object* r = find([&](const json::object&, std::string_view full_url) {
        return !full_url.empty() && full_url == reference;
      }))
    return r;
  std::string_view type, id;
  if (!fhir::split_reference(reference, type, id)) return nullptr;
  return find([&](const json::object& r, std::string_view) {
    return fhir::string_field(&r, "resourceType") == type && fhir::string_field(&r, "id") == id;
  });
}

void reference_of(const json::object& r, Reference& out) {
  const fhir::Resource res(&r);
  out.assign(res.resource_type());
  out.push_back('/');
  out.append(res.id());
}

std::string reference_of(const json::object& r) {
  const fhir::Resource res(&r);
  std::string ref(res.resource_type());
  ref.push_back('/');
  ref.append(res.id());
  return ref;
}

namespace {

// A hash of a text's length and its first and last 8 bytes, for the content cache: a full hash
// cost as much as a tenth of the scan it saves. Texts that differ only in the middle share a
// hash, which costs a compare, and at worst a re-scan, never a wrong answer.
std::size_t sample_hash(std::string_view text) noexcept {
  auto bytes = [&](std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    std::memcpy(&v, text.data() + at, n);
    return v;
  };
  const std::size_t n = text.size();
  const std::uint64_t head = n >= 8 ? bytes(0, 8) : n > 0 ? bytes(0, n) : 0;
  const std::uint64_t tail = n >= 8 ? bytes(n - 8, 8) : 0;
  std::uint64_t h = (head ^ (n * 0x9E3779B97F4A7C15ULL)) * 0xFF51AFD7ED558CCDULL;
  h = (h ^ (h >> 29) ^ tail) * 0xC4CEB9FE1A85EC53ULL;
  return static_cast<std::size_t>(h ^ (h >> 32));
}

}  // namespace

ConceptMatcher::TextHits& ConceptMatcher::text_entry(std::string_view text) {
  // Open addressing from the text's home slot. When kContentProbes slots in a row hold other
  // texts (a very large request), the home slot is re-used: a re-scan later at worst.
  const std::size_t hash = sample_hash(text);
  TextHits* target = &by_content_[hash % kContentSlots];
  for (std::size_t k = 0; k < kContentProbes; ++k) {
    TextHits& slot = by_content_[(hash + k) % kContentSlots];
    if (slot.data == nullptr) {
      target = &slot;
      break;
    }
    if (slot.hash == hash && slot.size == text.size() &&
        (slot.data == text.data() || std::memcmp(slot.data, text.data(), text.size()) == 0))
      return slot;
  }
  target->data = text.data();
  target->size = text.size();
  target->hash = hash;
  target->candidates = rules_.term_index.candidate_lists(text);
  target->scanned = false;
  return *target;
}

Today ConceptMatcher::today_of(fhir::Instant now) noexcept {
  if (now.time_since_epoch().count() == 0) return {};
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now)};
  return Today{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month()))};
}

void ConceptMatcher::scan(TextHits& entry) {
  scratch_.assign(std::string_view(entry.data, entry.size));
  rules_.context.mark(scratch_, today_);
  rules_.term_index.scan(scratch_.tokens(), TermIndex::Found{entry.current, entry.ever, entry.clause});
  entry.scanned = true;
}

std::uint16_t ConceptMatcher::first_term(TextHits& entry, Role role, Assertion assertion) {
  if ((entry.candidates & TermIndex::list_bit(static_cast<std::size_t>(role))) == 0) return TermIndex::kNone;
  if (!entry.scanned) scan(entry);
  const auto r = static_cast<std::size_t>(role);
  return assertion == Assertion::current ? entry.current[r] : entry.ever[r];
}

ConceptMatcher::Hit ConceptMatcher::text(Role role, std::string_view text, Assertion assertion) {
  const auto& terms = rules_.vs(role).terms;
  if (text.empty() || terms.empty()) return {};
  const std::uint16_t t = first_term(text_entry(text), role, assertion);
  if (t == TermIndex::kNone) return {};
  return Hit{true, terms[t].text, false};
}

ConceptMatcher::TextFacts ConceptMatcher::text_facts(std::string_view text) {
  TextFacts f;
  f.rules = &rules_;
  f.current.fill(TermIndex::kNone);
  f.ever.fill(TermIndex::kNone);
  f.clause.fill(TermIndex::kNoClause);
  if (text.empty()) return f;
  TextHits& e = text_entry(text);
  if (e.candidates == 0) return f;  // no term of any role can be in it
  if (!e.scanned) scan(e);
  f.current = e.current;
  f.ever = e.ever;
  f.clause = e.clause;
  return f;
}

ConceptMatcher::Hit ConceptMatcher::TextFacts::current_hit(Role role) const noexcept {
  const std::uint16_t t = current[static_cast<std::size_t>(role)];
  if (t == TermIndex::kNone) return {};
  return Hit{true, rules->vs(role).terms[t].text, false};
}

ConceptMatcher::Hit ConceptMatcher::TextFacts::ever_hit(Role role) const noexcept {
  const std::uint16_t t = ever[static_cast<std::size_t>(role)];
  if (t == TermIndex::kNone) return {};
  return Hit{true, rules->vs(role).terms[t].text, false};
}

namespace {

// A CodeableConcept's or a Coding's string members, read in one pass over the object's members
// instead of one key search each (fhir::Coding::system() etc.). The same values: JSON object keys
// are unique, and a member that is not a string reads as absent, as with fhir::string_field.
struct CodingFields {
  std::string_view system, code, display;
};
CodingFields read_coding(const json::object& o) noexcept {
  CodingFields f;
  for (const json::key_value_pair& kv : o) {
    const json::string* s = kv.value().if_string();
    if (s == nullptr) continue;
    const std::string_view k = kv.key();
    if (k == "code") f.code = *s;
    else if (k == "system") f.system = *s;
    else if (k == "display") f.display = *s;
  }
  return f;
}

struct ConceptFields {
  std::string_view text;
  const json::array* coding = nullptr;
};
ConceptFields read_concept(const json::object& o) noexcept {
  ConceptFields f;
  for (const json::key_value_pair& kv : o) {
    const std::string_view k = kv.key();
    if (k == "coding") f.coding = kv.value().if_array();
    else if (k == "text")
      if (const json::string* s = kv.value().if_string()) f.text = *s;
  }
  return f;
}

}  // namespace

int ConceptMatcher::system_index(std::string_view system) noexcept {
  for (std::size_t i = 0; i < systems_seen_count_; ++i)
    if (systems_seen_[i].system == system) return systems_seen_[i].index;
  SystemSeen& slot = systems_seen_[next_system_slot_];  // the oldest, once all are taken
  next_system_slot_ = (next_system_slot_ + 1) % kSystemCache;
  systems_seen_count_ = std::min(systems_seen_count_ + 1, kSystemCache);
  slot = SystemSeen{system, rules_.systems.find(system)};
  return slot.index;
}

ConceptMatcher::ConceptHits& ConceptMatcher::fill_concept_hits(ConceptHits& h, const json::object* key) {
  h.concept_json = key;
  h.coding.fill(kNoCoding);
  h.terms_known = 0;
  h.candidates = 0;
  h.source_count = 0;
  const ConceptFields concept_fields = read_concept(*key);
  // The texts, in the order they are asked (text, then each display): kept for concept_term().
  bool sources_fit = true;
  auto keep = [&](std::string_view text) {
    if (text.empty()) return;
    if (h.source_count == kMaxSources) {
      sources_fit = false;
      return;
    }
    const RoleMask candidates = text_entry(text).candidates;
    h.candidates |= candidates;
    h.source_candidates[h.source_count] = candidates;
    h.sources[h.source_count++] = Source{text.data(), text.size()};
  };
  keep(concept_fields.text);
  std::uint16_t k = 0;
  for (fhir::Coding c : fhir::ObjectRange<fhir::Coding>(concept_fields.coding)) {
    const CodingFields f = read_coding(*c.json());
    keep(f.display);
    if (k == kNoCoding) continue;
    CodeIndex::Mask roles = rules_.code_index.find(system_index(f.system), f.code);
    while (roles != 0) {
      const auto r = static_cast<std::size_t>(std::countr_zero(roles));
      roles &= roles - 1;
      if (h.coding[r] == kNoCoding) h.coding[r] = k;
    }
    ++k;
  }
  if (!sources_fit) {
    // More texts than kept (rare): every role's term now, from all of them, as concept_term() would.
    h.term.fill(TermIndex::kNone);  // asserted ever, as concept_term() asks
    auto take = [&](std::string_view text) {
      if (text.empty()) return;
      TextHits& e = text_entry(text);
      for (std::size_t r = 0; r < kRoleCount; ++r)
        if (h.term[r] == TermIndex::kNone) h.term[r] = first_term(e, static_cast<Role>(r));
    };
    take(concept_fields.text);
    for (fhir::Coding c : fhir::ObjectRange<fhir::Coding>(concept_fields.coding)) take(read_coding(*c.json()).display);
    h.terms_known = ~RoleMask{0};
  }
  return h;
}

// The first source (text, then each display) with a term of the role decides, as in text().
std::uint16_t ConceptMatcher::concept_term(ConceptHits& h, Role role) {
  const auto r = static_cast<std::size_t>(role);
  if ((h.terms_known & role_bit(role)) != 0) return h.term[r];
  const RoleMask bit = role_bit(role);
  std::uint16_t t = TermIndex::kNone;
  if ((h.candidates & bit) != 0)
    for (std::size_t i = 0; i < h.source_count && t == TermIndex::kNone; ++i)
      if ((h.source_candidates[i] & bit) != 0) t = first_term(text_entry(std::string_view(h.sources[i].data, h.sources[i].size)), role);
  h.term[r] = t;
  h.terms_known |= role_bit(role);
  return t;
}

ConceptMatcher::Hit ConceptMatcher::coding_hit(const fhir::CodeableConcept& cc, std::uint16_t k) noexcept {
  if (k == kNoCoding) return {};
  std::uint16_t i = 0;
  for (fhir::Coding c : cc.codings())
    if (i++ == k) return Hit{true, c.code(), true};
  return {};
}

ConceptMatcher::Hit ConceptMatcher::term_hit(Role role, std::uint16_t t) const noexcept {
  if (t == TermIndex::kNone) return {};
  return Hit{true, rules_.vs(role).terms[t].text, false};
}

ConceptMatcher::Hit ConceptMatcher::code(Role role, const fhir::CodeableConcept& cc) noexcept {
  return coding_hit(cc, concept_hits(cc).coding[static_cast<std::size_t>(role)]);
}

ConceptMatcher::Hit ConceptMatcher::concept_text(Role role, const fhir::CodeableConcept& cc) {
  return term_hit(role, concept_term(concept_hits(cc), role));
}

ConceptMatcher::Hit ConceptMatcher::matches(Role role, const fhir::CodeableConcept& cc) {
  ConceptHits& h = concept_hits(cc);
  if (Hit hit = coding_hit(cc, h.coding[static_cast<std::size_t>(role)])) return hit;
  return term_hit(role, concept_term(h, role));
}

ResourceList knee_oa_conditions(const ClinicalRecord& record, ConceptMatcher& m) {
  ResourceList out;
  for (const json::object* c : record.conditions) {
    const fhir::Condition cond(c);
    // The (cached) concept match first: most problem-list Conditions are not knee OA, and
    // is_active() reads two more CodeableConcepts.
    if (m.matches(Role::knee_oa, cond.code()) && cond.is_active()) out.push_back(c);
  }
  return out;
}

bool status_in(std::string_view status, const std::vector<std::string>& allowed) noexcept {
  return std::find(allowed.begin(), allowed.end(), status) != allowed.end();
}

int first_integer(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
  if (i == text.size()) return -1;
  int v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && v < 100000) v = v * 10 + (text[i++] - '0');
  return v;
}

}  // namespace rules::detail
