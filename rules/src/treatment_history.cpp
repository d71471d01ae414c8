#include "rules/detail/treatment_history.hpp"

namespace rules::detail {
namespace {

using fhir::Instant;

std::optional<Instant> start_of(const fhir::Period& p) noexcept { return p.start ? p.start : p.end; }

// A pain score on the 0-10 scale, or none: a value off the scale (99, 1e308) is an error in the
// record, and was once printed in a card as "pain scored -9223372036854775808/10".
std::optional<double> pain_value(const fhir::Observation& o) noexcept {
  std::optional<double> v = o.value().number();
  if (!v)
    if (int n = first_integer(o.value().string()); n >= 0) v = static_cast<double>(n);
  if (v && *v >= 0 && *v <= kPainNrsMax) return v;
  return std::nullopt;
}

bool care_plan_has_prolotherapy(const fhir::CarePlan& plan, ConceptMatcher& m, const RecordIndex& index) {
  if (m.text(Role::prolotherapy, plan.title()) || m.text(Role::prolotherapy, plan.description())) return true;
  for (fhir::CarePlanActivity a : plan.activities()) {
    if (a.detail_status() == "cancelled" || a.detail_status() == "stopped" || a.detail_status() == "entered-in-error")
      continue;
    if (m.matches(Role::prolotherapy, a.detail_code()) || m.text(Role::prolotherapy, a.detail_description())) return true;
    if (const json::object* target = index.resolve(a.reference().reference()))
      if (fhir::Order::is_order(target) && m.matches(Role::prolotherapy, fhir::Order(target).code())) return true;
  }
  return false;
}

}  // namespace

const json::object* plan_in_record(const ClinicalRecord& record, ConceptMatcher& m, Instant now) {
  const RuleSet& rules = m.rules();
  const auto& t = rules.thresholds;
  for (const json::object* c : record.care_plans) {
    const fhir::CarePlan plan(c);
    if (status_in(plan.status(), rules.statuses.plan_care_plan) && care_plan_has_prolotherapy(plan, m, record.index))
      return c;
  }
  for (const json::object* r : record.service_requests) {
    const fhir::Order sr(r);
    const auto count = sr.repeat_count();
    if (status_in(sr.status(), rules.statuses.plan_service_request) && count &&
        *count >= t.plan_series_repeat_count_at_least && m.matches(Role::prolotherapy, sr.code()))
      return r;
  }
  for (const json::object* p : record.procedures) {
    const fhir::Procedure proc(p);
    const auto when = start_of(proc.performed());
    if (!status_in(proc.status(), rules.statuses.plan_procedure) || !when || *when > now ||
        fhir::months_between(*when, now) > t.plan_procedure_within_months)
      continue;
    if (m.matches(Role::prolotherapy, proc.code())) return p;
  }
  return nullptr;
}

std::optional<PersistingPain> find_persisting_pain(const ClinicalRecord& record,
                                                   const ResourceList& knee_oa, ConceptMatcher& m,
                                                   Instant now) {
  const RuleSet& rules = m.rules();
  const auto& t = rules.thresholds;

  // The most recent completed single cell injection at the knee for knee OA.
  std::optional<PersistingPain> best;
  for (const json::object* p : record.procedures) {
    const fhir::Procedure proc(p);
    if (!status_in(proc.status(), rules.statuses.prior_cell_procedure)) continue;
    const auto when = start_of(proc.performed());
    if (!when || *when > now) continue;
    OrderFacts f = classify_order(*p, m, record.index, Assertion::ever);
    if (!f.is_knee_cell_injection() || !f.single_shot || (knee_oa.empty() && !f.knee_oa_reason)) continue;
    if (best && best->injected >= *when) continue;
    best = PersistingPain{std::move(f), *when, std::nullopt, {}, false};
  }
  if (!best) return std::nullopt;

  std::optional<PainReading> after;
  for (const json::object* o : record.observations) {
    const fhir::Observation obs(o);
    if (!obs.is_usable() || !m.matches(Role::pain_score, obs.code())) continue;
    const auto when = start_of(obs.effective());
    const auto value = pain_value(obs);
    if (!when || !value || *when > now) continue;
    const PainReading reading{o, *value, *when};
    if (*when < best->injected) {
      if (!best->before || *when > best->before->when) best->before = reading;
    } else if (fhir::months_between(best->injected, *when) >= t.pain_months_after_at_least) {
      if (!after || *when > after->when) after = reading;
    }
  }
  if (!after) return std::nullopt;  // no reading late enough to judge: say nothing
  best->after = *after;
  best->above_threshold = after->value >= t.pain_nrs_at_least;
  bool small_drop = false;
  if (best->before && best->before->value > 0)
    small_drop = (best->before->value - after->value) / best->before->value < t.pain_relative_drop_below;
  if (!best->above_threshold && !small_drop) return std::nullopt;
  return best;
}

}  // namespace rules::detail
