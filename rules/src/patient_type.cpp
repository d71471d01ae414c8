#include "rules/detail/patient_type.hpp"

#include "rules/detail/text_template.hpp"

#include <algorithm>
#include <cmath>

namespace rules::detail {
namespace {

using fhir::Instant;

struct Dated {
  const json::object* resource = nullptr;
  Instant when{};
};

// Earliest evidence of a condition: its onset if given, else when it was recorded. The
// recorded date is a lower bound on how long the condition has existed, so it may prove "at
// least N years" but never "recent".
std::optional<Instant> earliest_known(const fhir::Condition& c) noexcept {
  const fhir::Period onset = c.onset();
  if (onset.start) return onset.start;
  if (onset.end) return onset.end;
  if (auto r = c.recorded_date()) return r->start;
  return std::nullopt;
}

bool not_refuted(const fhir::Condition& c) noexcept {
  for (fhir::Coding k : c.verification_status().codings())
    if (k.code() == "refuted" || k.code() == "entered-in-error") return false;
  return true;
}

// A KL grade from valueInteger / valueQuantity / valueCodeableConcept code or text digits / valueString.
int kl_grade(const fhir::Observation& o) noexcept {
  const fhir::ObservedValue v = o.value();
  // Rounded (3.7 reads as 4), but only from within the scale: lround of a huge value is not a grade.
  if (auto n = v.number()) return *n >= 0 && *n < kKlGradeMax + 0.5 ? static_cast<int>(std::lround(*n)) : -1;
  const fhir::CodeableConcept cc = v.concept_value();
  for (fhir::Coding c : cc.codings())
    if (int g = first_integer(c.code()); g >= 0) return g;
  if (int g = first_integer(cc.text()); g >= 0) return g;
  return first_integer(v.string());
}

using Kinds = SmallVector<std::string_view, kRoleCount>;

// Which kinds of prior care the history shows, from Procedures (code, usedCode) and
// MedicationRequests of the prefetch that were actually under way before `now`.
class History {
 public:
  History(const ClinicalRecord& record, ConceptMatcher& m, Instant now) {
    const RuleSet& rules = m.rules();
    for (const json::object* p : record.procedures) {
      const fhir::Procedure proc(p);
      if (!status_in(proc.status(), rules.statuses.history_procedure)) continue;
      // A procedure after `now` does not count. Its date (parsing it is most of the cost here)
      // only matters when the procedure would be the first one or would show a kind not seen yet.
      RoleSet kinds = unseen_kinds(m, proc.code());
      for (fhir::CodeableConcept used : proc.used_codes()) kinds |= unseen_kinds(m, used);
      if (any_ && kinds == 0) continue;
      if (auto s = proc.performed().start; s && *s > now) continue;
      any_ = true;
      note(kinds, p);
    }
    for (const json::object* r : record.medication_requests) {
      const fhir::Order med(r);
      if (!status_in(med.status(), rules.statuses.history_medication_request)) continue;
      any_ = true;
      note(unseen_kinds(m, med.code()), r);
    }
  }
  bool any() const noexcept { return any_; }
  const json::object* find(Role r) const noexcept { return seen_[static_cast<std::size_t>(r)]; }

  // The kinds of `kinds` the history shows, as their display names.
  Kinds kinds_seen(const std::vector<Role>& kinds, const RuleSet& rules) const {
    Kinds out;
    for (Role r : kinds)
      if (find(r) != nullptr) {
        InlineString<64> key;
        key.assign("kind.");
        key.append(kRoleNames[static_cast<std::size_t>(r)]);
        out.push_back(rules.text(key));
      }
    return out;
  }

 private:
  static constexpr Role kKinds[] = {Role::nsaid, Role::physical_therapy, Role::corticosteroid,
                                    Role::hyaluronic_acid, Role::prp, Role::prolotherapy};
  using RoleSet = std::uint32_t;
  static constexpr RoleSet bit(Role r) noexcept { return RoleSet{1} << static_cast<std::size_t>(r); }
  // The kinds not seen yet that the concept names.
  RoleSet unseen_kinds(ConceptMatcher& m, const fhir::CodeableConcept& cc) const {
    RoleSet kinds = 0;
    for (Role r : kKinds)
      if (seen_[static_cast<std::size_t>(r)] == nullptr && m.matches(r, cc)) kinds |= bit(r);
    return kinds;
  }
  void note(RoleSet kinds, const json::object* source) {
    for (Role r : kKinds)
      if ((kinds & bit(r)) != 0) seen_[static_cast<std::size_t>(r)] = source;
  }
  bool any_ = false;
  std::array<const json::object*, kRoleCount> seen_{};
};

std::pmr::string join(const Kinds& parts, std::pmr::memory_resource* mr) {
  std::pmr::string out(mr);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ", ";  // punctuation only: every word of card text comes from knee-oa.json
    out += parts[i];
  }
  return out;
}

PatientTyping classify(const ClinicalRecord& record, const ResourceList& knee_oa,
                       ConceptMatcher& m, Instant now, std::pmr::memory_resource* mr) {
  const RuleSet& rules = m.rules();
  const auto& t = rules.thresholds;
  PatientTyping out(mr);
  out.reasons.reserve(8);
  out.evidence.reserve(8);
  auto reason = [&](std::string_view key, std::initializer_list<Arg> args) {
    render_to(out.reasons.emplace_back(), rules.text(key), args);
  };
  auto ref = [](const json::object* r) {
    Reference x;
    reference_of(*r, x);
    return x;
  };
  auto evidence = [&](const json::object* r) { out.evidence.emplace_back(ref(r).view()); };

  // --- the facts --------------------------------------------------------------------------
  std::optional<int> age;
  if (record.patient != nullptr)
    if (auto b = fhir::Patient(record.patient).birth_date()) age = fhir::age_in_years(*b, now);

  std::optional<Dated> oa_since;  // the longest-known knee OA
  for (const json::object* c : knee_oa)
    if (auto e = earliest_known(fhir::Condition(c)); e && (!oa_since || *e < oa_since->when)) oa_since = Dated{c, *e};
  const std::optional<double> oa_years =
      oa_since ? std::optional<double>(fhir::years_between(oa_since->when, now)) : std::nullopt;

  // Knee injuries: the most recent proven onset, and the oldest known one.
  std::optional<Dated> recent_injury, old_injury;
  for (const json::object* c : record.conditions) {
    const fhir::Condition cond(c);
    // The cached concept match first: few Conditions are knee injuries.
    if (!m.matches(Role::knee_injury, cond.code()) || !not_refuted(cond)) continue;
    if (auto s = cond.onset().start; s && *s <= now && (!recent_injury || *s > recent_injury->when))
      recent_injury = Dated{c, *s};
    if (auto e = earliest_known(cond); e && (!old_injury || *e < old_injury->when)) old_injury = Dated{c, *e};
  }

  int best_grade = -1;
  const json::object* grade_obs = nullptr;
  const json::object* severe = nullptr;
  std::string_view severe_term;
  bool imaging_known = false;
  for (const json::object* o : record.observations) {
    const fhir::Observation obs(o);
    if (!obs.is_usable()) continue;
    if (m.matches(Role::kellgren_lawrence, obs.code())) {
      if (int g = kl_grade(obs); g >= 0 && g <= kKlGradeMax) {
        imaging_known = true;
        if (g > best_grade) best_grade = g, grade_obs = o;
      }
    }
    if (severe == nullptr) {
      ConceptMatcher::Hit h = m.concept_text(Role::severe_joint_space, obs.code());
      if (!h) h = m.text(Role::severe_joint_space, obs.value().string());
      if (!h) h = m.concept_text(Role::severe_joint_space, obs.value().concept_value());
      if (h) severe = o, severe_term = h.what;
    }
  }
  for (const json::object* c : record.conditions) {
    if (severe != nullptr) break;
    const fhir::Condition cond(c);
    if (auto h = m.concept_text(Role::severe_joint_space, cond.code()); h && not_refuted(cond))
      severe = c, severe_term = h.what;
  }
  if (severe != nullptr) imaging_known = true;

  const json::object* replacement = nullptr;
  auto check_replacement = [&](const json::object* r) {
    const fhir::Order sr(r);
    if (replacement == nullptr && sr.is("ServiceRequest") &&
        status_in(sr.status(), rules.statuses.replacement_service_request) && m.matches(Role::knee_replacement, sr.code()))
      replacement = r;
  };
  for (const json::object* r : record.service_requests) check_replacement(r);
  for (const json::object* r : record.draft_orders) check_replacement(r);

  const History history(record, m, now);
  const auto prior_injections = history.kinds_seen(t.type3_prior_injection_kinds, rules);
  const auto conservative = history.kinds_seen(t.type2_conservative_kinds, rules);

  auto years_text = [](double y) { return format_number(std::floor(y)); };

  // --- type 3 -----------------------------------------------------------------------------
  if (best_grade >= t.type3_kl_grade_at_least) {
    reason("typeReason.klGrade", {{"grade", std::to_string(best_grade)}, {"ref", ref(grade_obs)}});
    evidence(grade_obs);
  }
  if (severe != nullptr) {
    reason("typeReason.severeJointSpace", {{"matched", severe_term}, {"ref", ref(severe)}});
    evidence(severe);
  }
  if (replacement != nullptr) {
    reason("typeReason.replacement", {{"ref", ref(replacement)}});
    evidence(replacement);
  }
  if (oa_years && *oa_years >= t.type3_oa_at_least_years &&
      static_cast<int>(prior_injections.size()) >= t.type3_prior_injection_kinds_at_least) {
    reason("typeReason.longOaInjections", {{"years", years_text(*oa_years)}, {"kinds", join(prior_injections, mr)}});
    evidence(oa_since->resource);
    for (Role r : t.type3_prior_injection_kinds)
      if (const json::object* src = history.find(r)) evidence(src);
  }
  if (!out.reasons.empty()) {
    out.type = "3";
    return out;
  }

  // --- type 2 -----------------------------------------------------------------------------
  const bool injury_old =
      old_injury && fhir::months_between(old_injury->when, now) > t.type2_injury_older_than_months;
  const bool oa_long = oa_years && *oa_years >= t.type2_oa_at_least_years;
  if ((injury_old || oa_long) && static_cast<int>(conservative.size()) >= t.type2_conservative_kinds_at_least) {
    if (injury_old) {
      reason("typeReason.oldInjury", {{"months", format_number(t.type2_injury_older_than_months)},
                                      {"ref", ref(old_injury->resource)}});
      evidence(old_injury->resource);
    }
    if (oa_long) {
      reason("typeReason.longOa", {{"years", years_text(*oa_years)}});
      evidence(oa_since->resource);
    }
    reason("typeReason.conservative", {{"kinds", join(conservative, mr)}});
    for (Role r : t.type2_conservative_kinds)
      if (const json::object* src = history.find(r)) evidence(src);
    out.type = "2";
    return out;
  }

  // --- type 1 -----------------------------------------------------------------------------
  if (age && *age < t.type1_age_below_years && recent_injury &&
      fhir::months_between(recent_injury->when, now) <= t.type1_injury_within_months) {
    reason("typeReason.age", {{"age", std::to_string(*age)}});
    reason("typeReason.recentInjury", {{"months", format_number(t.type1_injury_within_months)},
                                       {"ref", ref(recent_injury->resource)}});
    evidence(recent_injury->resource);
    out.type = "1";
    return out;
  }

  // --- unknown: say what is missing -------------------------------------------------------
  auto missing = [&](std::string_view key) { out.missing.emplace_back(rules.text(key)); };
  if (!age) missing("missing.birthDate");
  if (!imaging_known) missing("missing.imagingGrade");
  if (!history.any()) missing("missing.procedureHistory");
  if (!oa_since && !old_injury) missing("missing.onset");
  if (out.missing.empty()) missing("missing.fitsNone");
  return out;
}

}  // namespace

PatientTyping type_patient(const ClinicalRecord& record, const ResourceList& knee_oa, ConceptMatcher& m,
                           Instant now, std::pmr::memory_resource* mr) {
  PatientTyping out = classify(record, knee_oa, m, now, mr);
  std::sort(out.evidence.begin(), out.evidence.end());
  out.evidence.erase(std::unique(out.evidence.begin(), out.evidence.end()), out.evidence.end());
  return out;
}

}  // namespace rules::detail
