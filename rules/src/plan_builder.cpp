#include "rules/detail/card_builder.hpp"
#include "rules/detail/text_template.hpp"

namespace rules::detail {
namespace {

// "plan.component" for one component: what it is, in the plan and in create descriptions.
std::string component_line(const RuleSet& rules, const PlanComponent& c) {
  return render(rules.text("plan.component"),
                {{"text", c.text}, {"sessions", std::to_string(c.sessions)}, {"weeks", std::to_string(c.every_weeks)}});
}

// Serialized members of `o` without its braces ("a":1,"b":2), to be written inside another object.
std::string members_of(const json::object& o) {
  std::string s = json::serialize(o);
  return s.substr(1, s.size() - 2);
}

// The members of a proposed ServiceRequest that depend only on rule data, serialized once.
void compile_request(const RuleSet& rules, PlanComponent& c) {
  const Product& product = rules.products.find(c.product)->second;  // checked at load
  json::object code;
  code.emplace("text", c.text);
  if (product.coding) code.emplace("coding", json::array{*product.coding});
  c.request_head = members_of(
      {{"resourceType", "ServiceRequest"}, {"status", "draft"}, {"intent", "proposal"}, {"code", std::move(code)}});
  c.request_timing = members_of(
      {{"occurrenceTiming",
        json::object{{"repeat", json::object{{"count", c.sessions}, {"period", c.every_weeks}, {"periodUnit", "wk"}}}}}});
  c.request_note = json::serialize(json::object{{"text", c.note}});
}

template <typename Strings>
Text join_phrases(const Strings& parts, std::pmr::memory_resource* mr) {
  Text out(mr);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "; ";
    out += parts[i];
  }
  return out;
}

}  // namespace

void compile_plans(RuleSet& rules) {
  for (std::size_t i = 0; i < rules.plans.size(); ++i) {
    Plan& plan = rules.plans[i];
    std::string components;
    for (PlanComponent& c : plan.components) {
      c.line = component_line(rules, c);
      compile_request(rules, c);
      if (!components.empty()) components += '\n';
      components += "- ";
      components += c.line;
    }
    const std::string type = std::to_string(i + 1);
    plan.text_json = rules.json_text("plan.typed")
                         .with({{"type", type},
                                {"typeLabel", rules.text("typeLabel." + type)},
                                {"title", plan.title},
                                {"components", components},
                                {"note", plan.note}});
  }
}

bool clean_concept_to(TextJson& out, const json::object* concept_json) {
  out.begin_object();
  if (concept_json != nullptr) {
    const fhir::CodeableConcept cc(concept_json);
    bool codings = false;
    for (fhir::Coding c : cc.codings()) {
      if (c.system().empty() || c.code().empty()) continue;
      if (!codings) out.key("coding").begin_array();
      codings = true;
      out.begin_object().key("system").string(c.system()).key("code").string(c.code());
      if (!c.display().empty()) out.key("display").string(c.display());
      out.end_object();
    }
    if (codings) out.end_array();
    if (!cc.text().empty()) out.key("text").string(cc.text());
  }
  const bool any = out.has_items();
  out.end_object();
  return any;
}

Text plan_json(const CardInputs& in) {
  const RuleSet& rules = in.rules;
  Text out(in.scratch);
  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr)
    rules.json_text("plan.unknown").render_to(out, {{"missing", join_phrases(in.typing.missing, in.scratch)}});
  else
    plan->text_json.render_to(out, {{"reasons", join_phrases(in.typing.reasons, in.scratch)}});
  return out;
}

std::size_t plan_create_count(const CardInputs& in, const PlanTarget& target) {
  const Plan* plan = in.rules.plan_for(in.typing.type);
  if (plan == nullptr) return 0;
  std::size_t n = 0;
  for (const PlanComponent& c : plan->components) n += !(target.keep_cell_order && c.omit_when_keeping_cell_order);
  return n;
}

void plan_create_actions(const CardInputs& in, const PlanTarget& target, std::string_view description_template) {
  const RuleSet& rules = in.rules;
  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) return;

  // The patient's parts, the same in every created ServiceRequest, serialized once.
  Text site(in.scratch);
  TextJson site_json(site);
  if (!clean_concept_to(site_json, target.body_site)) site = rules.default_body_site;
  // reasonCode: the problem-list knee-OA code when there is one, else the order's own reason.
  Text reason(in.scratch);
  TextJson reason_json(reason);
  const bool has_reason =
      clean_concept_to(reason_json, in.knee_oa.empty() ? target.reason : fhir::Condition(in.knee_oa.front()).code().json());
  Text subject(in.scratch);
  subject += "Patient/";
  subject += in.patient_id;
  Text description(in.scratch);
  // FHIR: ServiceRequest.replaces may reference only a ServiceRequest. A replaced order of
  // another type (a MedicationRequest) is named in the proposal's note instead.
  const bool replaces_request = target.replaces.starts_with("ServiceRequest/");
  Text replaces_note(in.scratch);
  if (!target.replaces.empty() && !replaces_request)
    render_to(replaces_note, rules.text("plan.replacesNote"), {{"orderRef", target.replaces}});

  CardsText& w = *in.out;
  for (const PlanComponent& c : plan->components) {
    if (target.keep_cell_order && c.omit_when_keeping_cell_order) continue;
    description.clear();
    render_to(description, description_template, {{"component", c.line}});
    w.begin_object().key("type").string("create").key("description").string(description);
    w.key("resource").begin_object().members(c.request_head);
    w.key("subject").begin_object().key("reference").string(subject).end_object();
    w.members(c.request_timing);
    w.key("bodySite").begin_array().raw(site).end_array();
    w.key("note").begin_array().raw(c.request_note);
    if (!replaces_note.empty()) w.begin_object().key("text").string(replaces_note).end_object();
    w.end_array();
    if (has_reason) w.key("reasonCode").begin_array().raw(reason).end_array();
    if (replaces_request)
      w.key("replaces").begin_array().begin_object().key("reference").string(target.replaces).end_object().end_array();
    w.end_object().end_object();
  }
}

}  // namespace rules::detail
