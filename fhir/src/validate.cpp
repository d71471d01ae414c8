#include "fhir/validate.hpp"

#include "fhir/datetime.hpp"

#include <algorithm>
#include <array>
#include <span>

namespace fhir {
namespace {

enum class Kind { string, date_time, integer, number, object, concept_, concepts, references, objects, quantity, boolean, entries };

struct FieldRule {
  std::string_view field;
  Kind kind;
  // Whether a rule reads the element, so that dropping it could change a verdict. Only what no
  // view reads (an order's subject: the patient is context.patientId) is marked false.
  bool read = true;
};

constexpr std::array patient_rules{FieldRule{"birthDate", Kind::date_time}, FieldRule{"gender", Kind::string}};
constexpr std::array condition_rules{
    FieldRule{"code", Kind::concept_},          FieldRule{"bodySite", Kind::concepts},
    FieldRule{"clinicalStatus", Kind::concept_}, FieldRule{"verificationStatus", Kind::concept_},
    FieldRule{"onsetDateTime", Kind::date_time}, FieldRule{"onsetPeriod", Kind::object},
    FieldRule{"onsetAge", Kind::quantity},       FieldRule{"recordedDate", Kind::date_time}};
constexpr std::array procedure_rules{
    FieldRule{"code", Kind::concept_},              FieldRule{"bodySite", Kind::concepts},
    FieldRule{"status", Kind::string},              FieldRule{"performedDateTime", Kind::date_time},
    FieldRule{"performedPeriod", Kind::object},     FieldRule{"reasonCode", Kind::concepts}};
constexpr std::array observation_rules{
    FieldRule{"code", Kind::concept_},               FieldRule{"status", Kind::string},
    FieldRule{"valueQuantity", Kind::quantity},      FieldRule{"valueCodeableConcept", Kind::concept_},
    FieldRule{"valueInteger", Kind::integer},        FieldRule{"valueString", Kind::string},
    FieldRule{"valueBoolean", Kind::boolean},        FieldRule{"effectiveDateTime", Kind::date_time},
    FieldRule{"effectiveInstant", Kind::date_time},  FieldRule{"effectivePeriod", Kind::object},
    FieldRule{"component", Kind::objects},           FieldRule{"bodySite", Kind::concept_}};
constexpr std::array service_request_rules{
    FieldRule{"code", Kind::concept_},                 FieldRule{"bodySite", Kind::concepts},
    FieldRule{"status", Kind::string},                 FieldRule{"intent", Kind::string},
    FieldRule{"quantityQuantity", Kind::quantity},     FieldRule{"occurrenceTiming", Kind::object},
    FieldRule{"occurrenceDateTime", Kind::date_time},  FieldRule{"occurrencePeriod", Kind::object},
    FieldRule{"basedOn", Kind::references},            FieldRule{"reasonCode", Kind::concepts},
    FieldRule{"reasonReference", Kind::references},    FieldRule{"note", Kind::objects},
    FieldRule{"subject", Kind::object, false}};
constexpr std::array medication_request_rules{
    FieldRule{"medicationCodeableConcept", Kind::concept_}, FieldRule{"status", Kind::string},
    FieldRule{"intent", Kind::string},                      FieldRule{"dosageInstruction", Kind::objects},
    FieldRule{"dispenseRequest", Kind::object},             FieldRule{"basedOn", Kind::references},
    FieldRule{"reasonCode", Kind::concepts},                FieldRule{"reasonReference", Kind::references},
    FieldRule{"note", Kind::objects},                       FieldRule{"authoredOn", Kind::date_time},
    FieldRule{"subject", Kind::object, false}};
constexpr std::array care_plan_rules{FieldRule{"status", Kind::string}, FieldRule{"intent", Kind::string},
                                     FieldRule{"activity", Kind::objects}, FieldRule{"category", Kind::concepts},
                                     FieldRule{"period", Kind::object}};
constexpr std::array bundle_rules{FieldRule{"type", Kind::string}, FieldRule{"entry", Kind::entries},
                                  FieldRule{"link", Kind::objects}};

std::span<const FieldRule> rules_for(std::string_view type) {
  if (type == "Patient") return patient_rules;
  if (type == "Condition") return condition_rules;
  if (type == "Procedure") return procedure_rules;
  if (type == "Observation") return observation_rules;
  if (type == "ServiceRequest") return service_request_rules;
  if (type == "MedicationRequest") return medication_request_rules;
  if (type == "CarePlan") return care_plan_rules;
  if (type == "Bundle") return bundle_rules;
  return {};
}

// The rule for a member, if its type has one. Members are visited once each (rather than
// looking every rule's field up in the object), so a resource costs one pass over its members.
const FieldRule* rule_for(std::span<const FieldRule> rules, std::string_view key) {
  for (const FieldRule& r : rules)
    if (r.field == key) return &r;
  return nullptr;
}

const char* check_coding(const json::object& coding) {
  for (const json::key_value_pair& m : coding) {
    const std::string_view k = m.key();
    if ((k == "system" || k == "code" || k == "display") && !m.value().is_string())
      return "Coding.system/code/display must be strings";
  }
  return nullptr;
}

const char* check_concept(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return "expected a CodeableConcept object";
  for (const json::key_value_pair& m : *o) {
    const std::string_view k = m.key();
    if (k == "text" && !m.value().is_string()) return "CodeableConcept.text must be a string";
    if (k != "coding") continue;
    if (!m.value().is_array()) return "CodeableConcept.coding must be an array";
    for (const json::value& e : m.value().get_array()) {
      const json::object* co = e.if_object();
      if (co == nullptr) return "each coding must be an object";
      if (const char* msg = check_coding(*co)) return msg;
    }
  }
  return nullptr;
}

const char* check(const json::value& v, Kind kind) {
  switch (kind) {
    case Kind::string: return v.is_string() ? nullptr : "expected a string";
    case Kind::date_time:
      if (!v.is_string()) return "expected a FHIR date/dateTime string";
      return parse_date_time(v.get_string()) ? nullptr : "not a valid FHIR date/dateTime";
    case Kind::integer: return v.is_int64() || v.is_uint64() ? nullptr : "expected an integer";
    case Kind::number: return v.is_number() ? nullptr : "expected a number";
    case Kind::boolean: return v.is_bool() ? nullptr : "expected a boolean";
    case Kind::object: return v.is_object() ? nullptr : "expected an object";
    case Kind::concept_: return check_concept(v);
    case Kind::quantity: {
      const json::object* o = v.if_object();
      if (o == nullptr) return "expected a Quantity object";
      if (const json::value* n = o->if_contains("value"); n && !n->is_number()) return "Quantity.value must be a number";
      return nullptr;
    }
    case Kind::concepts:
      if (!v.is_array()) return "expected an array of CodeableConcept";
      for (const json::value& e : v.get_array())
        if (const char* m = check_concept(e)) return m;
      return nullptr;
    case Kind::entries: return v.is_array() ? nullptr : "expected an array of entries";  // each checked on its own
    case Kind::references:
    case Kind::objects:
      if (!v.is_array()) return "expected an array of objects";
      for (const json::value& e : v.get_array())
        if (!e.is_object()) return "expected an array of objects";
      return nullptr;
  }
  return nullptr;
}

// Where a resource sits, kept as views: the path is spelled out only when there is an issue
// to report, so valid input (the common case) costs no allocation.
struct Where {
  const Where* bundle = nullptr;  // the Bundle this resource is an entry of; null at the top
  std::size_t entry = 0;          // its index in that Bundle's entry array
  std::string_view type;          // its resourceType, once known
};

std::string path_of(const Where& w);

// "Bundle.entry[3].resource"
std::string slot_path(const Where& bundle, std::size_t entry) {
  return path_of(bundle) + ".entry[" + std::to_string(entry) + "].resource";
}

// What a resource's own fields are prefixed with: "" at the top, "Bundle.entry[3].resource." inside.
std::string prefix_of(const Where& w) { return w.bundle ? slot_path(*w.bundle, w.entry) + "." : std::string(); }

// "Condition", or "Bundle.entry[3].resource.Condition"
std::string path_of(const Where& w) { return prefix_of(w) + std::string(w.type); }

// The FHIR R4 id datatype, [A-Za-z0-9\-\.]{1,64}: ids end up in references ("Type/id") that
// cards hand back to the EHR, such as a delete action's resourceId, so a slash must not get in.
bool is_fhir_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

// Where a malformed element sits, so that drop_malformed() can remove it after the walk:
// a member of an object (by key), or an element of an array (by index).
struct DropTarget {
  const json::object* object = nullptr;
  std::string_view key;
  const json::array* array = nullptr;
  std::size_t index = 0;
};

void validate_object(const json::object& o, Where where, std::vector<Issue>& out, std::vector<DropTarget>* drops) {
  auto droppable = [&](Issue issue, DropTarget target) {
    out.push_back(std::move(issue));
    if (drops) drops->push_back(target);
  };
  const json::value* rt = o.if_contains("resourceType");
  if (rt == nullptr || !rt->is_string() || rt->get_string().empty()) {
    out.push_back({prefix_of(where) + "resourceType", "missing or not a string", true});
    if (drops) drops->push_back({});
    return;
  }
  where.type = rt->get_string();
  const std::span<const FieldRule> rules = rules_for(where.type);
  for (const json::key_value_pair& m : o) {  // issues come in document order
    if (m.key() == "id") {
      if (!m.value().is_string()) out.push_back({path_of(where) + ".id", "expected a string", true});
      else if (!is_fhir_id(m.value().get_string()))
        out.push_back({path_of(where) + ".id", "expected a FHIR id: 1 to 64 of A-Z, a-z, 0-9, '-' and '.'", true});
      else continue;
      if (drops) drops->push_back({});
      continue;
    }
    const FieldRule* r = rule_for(rules, m.key());
    if (r == nullptr) continue;
    if (const char* msg = check(m.value(), r->kind))
      droppable({path_of(where) + "." + std::string(r->field), msg, false, r->read}, {&o, r->field});
  }
  if (where.type != "Bundle") return;
  if (const json::array* entries = array_field(&o, "entry"))
    for (std::size_t i = 0; i < entries->size(); ++i) {
      const json::object* entry = (*entries)[i].if_object();
      if (entry == nullptr) {
        droppable({path_of(where) + ".entry[" + std::to_string(i) + "]", "expected an object"}, {nullptr, {}, entries, i});
        continue;
      }
      const json::value* r = field(entry, "resource");
      if (r == nullptr) continue;
      if (const json::object* ro = r->if_object())
        validate_object(*ro, Where{&where, i, {}}, out, drops);
      else
        droppable({slot_path(where, i), "expected a resource object"}, {nullptr, {}, entries, i});
    }
}

}  // namespace

std::vector<Issue> validate_resource(const json::value& v) {
  std::vector<Issue> out;
  if (const json::object* o = v.if_object())
    validate_object(*o, Where{}, out, nullptr);
  else
    out.push_back({"", "a resource must be a JSON object", true});
  return out;
}

std::vector<Issue> drop_malformed(json::value& v) {
  std::vector<Issue> out;
  std::vector<DropTarget> drops;
  json::object* top = v.if_object();
  if (top == nullptr) {
    out.push_back({"", "a resource must be a JSON object", true});
    return out;
  }
  validate_object(*top, Where{}, out, &drops);
  if (std::any_of(out.begin(), out.end(), [](const Issue& i) { return i.fatal; })) return out;  // unusable as a whole
  // Last found first: issues come outside-in and in document order, so each removal only moves
  // what was already dealt with (a later array element, a member of an object already done).
  // The targets were found in this very tree, which the caller owns mutably.
  for (auto d = drops.rbegin(); d != drops.rend(); ++d) {
    if (d->object) const_cast<json::object*>(d->object)->erase(d->key);
    else if (d->array) {
      auto* a = const_cast<json::array*>(d->array);
      a->erase(a->begin() + static_cast<std::ptrdiff_t>(d->index));
    }
  }
  return out;
}

}  // namespace fhir
