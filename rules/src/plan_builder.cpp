#include "rules/detail/card_builder.hpp"
#include "rules/detail/text_template.hpp"

namespace rules::detail {
namespace {

// "plan.component" for one component: what it is, in the plan and in create descriptions.
std::string component_line(const RuleSet& rules, const PlanComponent& c) {
  return render(rules.text("plan.component"),
                {{"text", c.text}, {"sessions", std::to_string(c.sessions)}, {"weeks", std::to_string(c.every_weeks)}});
}

// The members of a proposed ServiceRequest that depend only on rule data, in output order; the
// subject reference and the bodySite list are left empty for plan_create_actions.
json::object service_request_of(const RuleSet& rules, const PlanComponent& c) {
  const Product& product = rules.products.find(c.product)->second;  // checked at load
  json::object code;
  code.emplace("text", c.text);
  if (product.coding) code.emplace("coding", json::array{*product.coding});
  json::object sr;
  sr.reserve(10);
  sr.emplace("resourceType", "ServiceRequest");
  sr.emplace("status", "draft");
  sr.emplace("intent", "proposal");
  sr.emplace("code", std::move(code));
  sr.emplace("subject", json::object{{"reference", ""}});
  sr.emplace("occurrenceTiming",
             json::object{{"repeat", json::object{{"count", c.sessions}, {"period", c.every_weeks}, {"periodUnit", "wk"}}}});
  sr.emplace("bodySite", json::array());
  sr.emplace("note", json::array{json::object{{"text", c.note}}});
  return sr;
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

json::array one(json::value v, const json::storage_ptr& sp) {
  json::array a(sp);
  a.push_back(std::move(v));
  return a;
}

}  // namespace

void compile_plans(RuleSet& rules) {
  for (Plan& plan : rules.plans)
    for (PlanComponent& c : plan.components) {
      c.line = component_line(rules, c);
      c.service_request = service_request_of(rules, c);
    }
}

json::object clean_concept(const json::object* concept_json, json::storage_ptr sp) {
  json::object out(sp);
  if (concept_json == nullptr) return out;
  const fhir::CodeableConcept cc(concept_json);
  json::array codings(sp);
  for (fhir::Coding c : cc.codings()) {
    if (c.system().empty() || c.code().empty()) continue;
    json::object k(sp);
    k.reserve(3);
    k.emplace("system", c.system());
    k.emplace("code", c.code());
    if (!c.display().empty()) k.emplace("display", c.display());
    codings.push_back(std::move(k));
  }
  if (!codings.empty()) out.emplace("coding", std::move(codings));
  if (!cc.text().empty()) out.emplace("text", cc.text());
  return out;
}

Text plan_markdown(const CardInputs& in) {
  const RuleSet& rules = in.rules;
  Text out(in.scratch);
  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) {
    render_to(out, rules.text("plan.unknown"), {{"missing", join_phrases(in.typing.missing, in.scratch)}});
    return out;
  }
  Text components(in.scratch);
  for (const PlanComponent& c : plan->components) {
    if (!components.empty()) components += '\n';
    components += "- ";
    components += c.line;
  }
  InlineString<32> label_key;
  label_key.assign("typeLabel.");
  label_key.append(in.typing.type);
  render_to(out, rules.text("plan.typed"), {{"type", in.typing.type},
                                            {"typeLabel", rules.text(label_key)},
                                            {"title", plan->title},
                                            {"reasons", join_phrases(in.typing.reasons, in.scratch)},
                                            {"components", components},
                                            {"note", plan->note}});
  return out;
}

void plan_create_actions(const CardInputs& in, const PlanTarget& target, std::string_view description_template,
                         json::array& actions) {
  const RuleSet& rules = in.rules;
  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) return;
  const json::storage_ptr& sp = in.sp;

  json::object site = clean_concept(target.body_site, sp);
  if (site.empty()) site = json::object(rules.default_body_site, sp);
  // reasonCode: the problem-list knee-OA code when there is one, else the order's own reason.
  json::object reason =
      clean_concept(in.knee_oa.empty() ? target.reason : fhir::Condition(in.knee_oa.front()).code().json(), sp);
  Text subject(in.scratch);
  subject += "Patient/";
  subject += in.patient_id;

  // The site and reason objects are copied into every created ServiceRequest but the last,
  // which takes them.
  std::size_t remaining = 0;
  for (const PlanComponent& c : plan->components) remaining += !(target.keep_cell_order && c.omit_when_keeping_cell_order);
  auto share = [&](json::object& original) -> json::value {
    if (remaining == 1) return json::value(std::move(original), sp);
    return json::value(original, sp);
  };

  for (const PlanComponent& c : plan->components) {
    if (target.keep_cell_order && c.omit_when_keeping_cell_order) continue;
    // A copy of the compiled request (no key checks), completed with this patient's parts.
    json::object sr(c.service_request, sp);
    sr.at("subject").as_object().at("reference") = std::string_view(subject);
    sr.at("bodySite").as_array().push_back(share(site));
    if (!reason.empty()) sr.emplace("reasonCode", one(share(reason), sp));
    --remaining;
    if (!target.replaces.empty()) {
      json::object replaced(sp);
      replaced.emplace("reference", target.replaces);
      sr.emplace("replaces", one(std::move(replaced), sp));
    }

    json::string description(sp);
    render_to(description, description_template, {{"component", c.line}});
    json::object action(sp);
    action.reserve(3);
    action.emplace("type", "create");
    action.emplace("description", std::move(description));
    action.emplace("resource", std::move(sr));
    actions.push_back(std::move(action));
  }
}

}  // namespace rules::detail
