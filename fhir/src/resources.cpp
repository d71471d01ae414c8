#include "fhir/resources.hpp"

#include <algorithm>

namespace fhir {
namespace {

// A choice-type [x] element given as a dateTime or a Period (and, for some, an instant).
Period read_choice_period(const json::object* o, std::string_view date_time_key, std::string_view period_key,
                          std::string_view instant_key = {}) noexcept {
  if (auto dt = parse_date_time(string_field(o, date_time_key))) return Period{dt->start, dt->end};
  if (!instant_key.empty())
    if (auto dt = parse_date_time(string_field(o, instant_key))) return Period{dt->start, dt->end};
  return read_period(object_field(o, period_key));
}

std::optional<long long> repeat_count_of(const json::object* timing) noexcept {
  const json::object* repeat = object_field(timing, "repeat");
  auto count = integer_field(repeat, "count");
  auto count_max = integer_field(repeat, "countMax");
  if (count && count_max) return std::max(*count, *count_max);
  return count ? count : count_max;
}

}  // namespace

std::optional<double> ObservedValue::number() const noexcept {
  if (auto i = integer_field(o_, "valueInteger")) return static_cast<double>(*i);
  if (auto q = quantity()) return q->value;
  return std::nullopt;
}

std::optional<bool> ObservedValue::boolean() const noexcept {
  const json::value* v = field(o_, "valueBoolean");
  if (v && v->is_bool()) return v->get_bool();
  return std::nullopt;
}

Period Condition::onset() const noexcept { return read_choice_period(o_, "onsetDateTime", "onsetPeriod"); }

bool Condition::is_active() const noexcept {
  constexpr std::string_view clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
  constexpr std::string_view verification = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
  auto ver = verification_status();
  std::string_view v = ver.code_in(verification);
  if (v.empty())
    for (Coding c : ver.codings()) v = c.code();  // EHRs sometimes omit the system
  if (v == "refuted" || v == "entered-in-error") return false;
  auto cs = clinical_status();
  if (!cs.present()) {
    for (std::string_view k : {"abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString"})
      if (field(o_, k) != nullptr) return false;
    return true;
  }
  std::string_view c = cs.code_in(clinical);
  if (c.empty())
    for (Coding k : cs.codings()) c = k.code();
  return c == "active" || c == "recurrence" || c == "relapse";
}

Period Procedure::performed() const noexcept { return read_choice_period(o_, "performedDateTime", "performedPeriod"); }

Period Observation::effective() const noexcept {
  return read_choice_period(o_, "effectiveDateTime", "effectivePeriod", "effectiveInstant");
}

bool Observation::is_usable() const noexcept {
  auto s = status();
  return s != "cancelled" && s != "entered-in-error";
}

bool Order::is_order(const json::object* o) noexcept {
  auto t = string_field(o, "resourceType");
  return t == "ServiceRequest" || t == "MedicationRequest" || t == "Procedure";
}

CodeableConcept Order::code() const noexcept {
  if (resource_type() == "MedicationRequest") return CodeableConcept(object_field(o_, "medicationCodeableConcept"));
  return CodeableConcept(object_field(o_, "code"));
}

std::optional<double> Order::quantity() const noexcept {
  if (auto q = read_quantity(object_field(o_, "quantityQuantity"))) return q->value;
  if (auto q = read_quantity(object_field(object_field(o_, "dispenseRequest"), "quantity"))) return q->value;
  return std::nullopt;
}

std::optional<long long> Order::repeat_count() const noexcept {
  std::optional<long long> best = repeat_count_of(object_field(o_, "occurrenceTiming"));
  for (auto d : ObjectRange<Resource>(array_field(o_, "dosageInstruction")))
    if (auto c = repeat_count_of(object_field(d.json(), "timing")); c && (!best || *c > *best)) best = c;
  return best;
}

Period Order::when() const noexcept {
  Period p = read_choice_period(o_, "occurrenceDateTime", "occurrencePeriod");
  if (p.start || p.end) return p;
  p = read_choice_period(o_, "performedDateTime", "performedPeriod");
  if (p.start || p.end) return p;
  if (auto a = parse_date_time(string_field(o_, "authoredOn"))) return Period{a->start, a->end};
  return {};
}

bool Order::has_reference(std::string_view reference) const noexcept {
  auto type = resource_type();
  auto rid = id();
  return !rid.empty() && reference.size() == type.size() + 1 + rid.size() && reference.starts_with(type) &&
         reference[type.size()] == '/' && reference.ends_with(rid);
}

}  // namespace fhir
