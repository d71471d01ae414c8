#pragma once
// Read-only views of the FHIR R4 resources the rules read. A view is a pointer to the JSON
// object it reads: cheap to copy, never owns, valid as long as the document lives.
#include "fhir/coding.hpp"

#include <optional>
#include <string_view>

namespace fhir {

class Resource {
 public:
  explicit Resource(const json::object* o) noexcept : o_(o) {}
  std::string_view resource_type() const noexcept { return string_field(o_, "resourceType"); }
  std::string_view id() const noexcept { return string_field(o_, "id"); }
  const json::object* json() const noexcept { return o_; }
  bool is(std::string_view type) const noexcept { return resource_type() == type; }
 protected:
  const json::object* o_;
};

// The value[x] of an Observation or of one of its components.
class ObservedValue {
 public:
  explicit ObservedValue(const json::object* o) noexcept : o_(o) {}
  std::optional<Quantity> quantity() const noexcept { return read_quantity(object_field(o_, "valueQuantity")); }
  // valueInteger, or valueQuantity.value: the number a score or a grade is given as.
  std::optional<double> number() const noexcept;
  CodeableConcept concept_value() const noexcept { return CodeableConcept(object_field(o_, "valueCodeableConcept")); }
  std::string_view string() const noexcept { return string_field(o_, "valueString"); }
  std::optional<bool> boolean() const noexcept;
 private:
  const json::object* o_;
};

class Patient : public Resource {
 public:
  using Resource::Resource;
  std::optional<DateTime> birth_date() const noexcept { return parse_date_time(string_field(o_, "birthDate")); }
  std::string_view gender() const noexcept { return string_field(o_, "gender"); }
};

class Condition : public Resource {
 public:
  using Resource::Resource;
  CodeableConcept code() const noexcept { return CodeableConcept(object_field(o_, "code")); }
  ObjectRange<CodeableConcept> body_sites() const noexcept { return ObjectRange<CodeableConcept>(array_field(o_, "bodySite")); }
  CodeableConcept clinical_status() const noexcept { return CodeableConcept(object_field(o_, "clinicalStatus")); }
  CodeableConcept verification_status() const noexcept { return CodeableConcept(object_field(o_, "verificationStatus")); }
  // onsetDateTime or onsetPeriod (onsetAge/onsetString need a birth date or a reader: not here).
  Period onset() const noexcept;
  std::optional<Quantity> onset_age() const noexcept { return read_quantity(object_field(o_, "onsetAge")); }
  std::optional<DateTime> recorded_date() const noexcept { return parse_date_time(string_field(o_, "recordedDate")); }
  // clinicalStatus in {active, recurrence, relapse} and verificationStatus not refuted or
  // entered-in-error. A Condition without clinicalStatus counts as active only when it has
  // no abatement: EHR problem lists often omit it.
  bool is_active() const noexcept;
};

class Procedure : public Resource {
 public:
  using Resource::Resource;
  CodeableConcept code() const noexcept { return CodeableConcept(object_field(o_, "code")); }
  ObjectRange<CodeableConcept> body_sites() const noexcept { return ObjectRange<CodeableConcept>(array_field(o_, "bodySite")); }
  std::string_view status() const noexcept { return string_field(o_, "status"); }
  Period performed() const noexcept;  // performedDateTime or performedPeriod
  ObjectRange<CodeableConcept> reason_codes() const noexcept { return ObjectRange<CodeableConcept>(array_field(o_, "reasonCode")); }
  // Products used (e.g. the HCPCS drug code of an injection): part of what a history entry was.
  ObjectRange<CodeableConcept> used_codes() const noexcept { return ObjectRange<CodeableConcept>(array_field(o_, "usedCode")); }
};

class ObservationComponent {
 public:
  explicit ObservationComponent(const json::object* o) noexcept : o_(o) {}
  CodeableConcept code() const noexcept { return CodeableConcept(object_field(o_, "code")); }
  ObservedValue value() const noexcept { return ObservedValue(o_); }
 private:
  const json::object* o_;
};

class Observation : public Resource {
 public:
  using Resource::Resource;
  CodeableConcept code() const noexcept { return CodeableConcept(object_field(o_, "code")); }
  std::string_view status() const noexcept { return string_field(o_, "status"); }
  ObservedValue value() const noexcept { return ObservedValue(o_); }
  Period effective() const noexcept;  // effectiveDateTime, effectivePeriod or effectiveInstant
  ObjectRange<ObservationComponent> components() const noexcept {
    return ObjectRange<ObservationComponent>(array_field(o_, "component"));
  }
  CodeableConcept body_site() const noexcept { return CodeableConcept(object_field(o_, "bodySite")); }
  // Not cancelled or entered-in-error.
  bool is_usable() const noexcept;
};

struct Annotation {
  explicit Annotation(const json::object* o) noexcept : o_(o) {}
  std::string_view text() const noexcept { return string_field(o_, "text"); }
 private:
  const json::object* o_;
};

// One view over the three resource types that carry an order in draftOrders or a history:
// ServiceRequest, MedicationRequest (medicationCodeableConcept, dosage sites and timing) and
// Procedure. The differences between them are settled here, not in the rules.
class Order : public Resource {
 public:
  using Resource::Resource;
  static bool is_order(const json::object* o) noexcept;

  CodeableConcept code() const noexcept;
  std::string_view status() const noexcept { return string_field(o_, "status"); }
  std::string_view intent() const noexcept { return string_field(o_, "intent"); }
  // bodySite (ServiceRequest, Procedure) or dosageInstruction[].site (MedicationRequest).
  template <class F>
  void for_each_body_site(F&& f) const {
    for (CodeableConcept c : ObjectRange<CodeableConcept>(array_field(o_, "bodySite"))) f(c);
    for (auto d : ObjectRange<Resource>(array_field(o_, "dosageInstruction")))
      if (const auto* site = object_field(d.json(), "site")) f(CodeableConcept(site));
  }
  ObjectRange<CodeableConcept> reason_codes() const noexcept { return ObjectRange<CodeableConcept>(array_field(o_, "reasonCode")); }
  ObjectRange<Reference> reason_references() const noexcept { return ObjectRange<Reference>(array_field(o_, "reasonReference")); }
  ObjectRange<Reference> based_on() const noexcept { return ObjectRange<Reference>(array_field(o_, "basedOn")); }
  ObjectRange<Annotation> notes() const noexcept { return ObjectRange<Annotation>(array_field(o_, "note")); }
  // quantityQuantity.value (ServiceRequest) or dispenseRequest.quantity.value (MedicationRequest).
  std::optional<double> quantity() const noexcept;
  // The largest Timing.repeat.count (or countMax) in occurrenceTiming or dosageInstruction[].timing.
  std::optional<long long> repeat_count() const noexcept;
  // occurrence[x] / performed[x] / authoredOn.
  Period when() const noexcept;
  // "ServiceRequest/abc": what draftOrders references and selections name.
  bool has_reference(std::string_view reference) const noexcept;
};

class CarePlanActivity {
 public:
  explicit CarePlanActivity(const json::object* o) noexcept : o_(o) {}
  CodeableConcept detail_code() const noexcept { return CodeableConcept(object_field(object_field(o_, "detail"), "code")); }
  std::string_view detail_status() const noexcept { return string_field(object_field(o_, "detail"), "status"); }
  std::string_view detail_description() const noexcept { return string_field(object_field(o_, "detail"), "description"); }
  Reference reference() const noexcept { return Reference(object_field(o_, "reference")); }
 private:
  const json::object* o_;
};

class CarePlan : public Resource {
 public:
  using Resource::Resource;
  std::string_view status() const noexcept { return string_field(o_, "status"); }
  std::string_view intent() const noexcept { return string_field(o_, "intent"); }
  std::string_view title() const noexcept { return string_field(o_, "title"); }
  std::string_view description() const noexcept { return string_field(o_, "description"); }
  ObjectRange<CodeableConcept> categories() const noexcept { return ObjectRange<CodeableConcept>(array_field(o_, "category")); }
  ObjectRange<CarePlanActivity> activities() const noexcept { return ObjectRange<CarePlanActivity>(array_field(o_, "activity")); }
  Period period() const noexcept { return read_period(object_field(o_, "period")); }
};

}  // namespace fhir
