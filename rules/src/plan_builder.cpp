#include "rules/detail/card_builder.hpp"
#include "rules/detail/text_template.hpp"

namespace rules::detail {
namespace {

std::string component_line(const RuleSet& rules, const PlanComponent& c) {
  return render(rules.text("plan.component"),
                {{"text", c.text}, {"sessions", std::to_string(c.sessions)}, {"weeks", std::to_string(c.every_weeks)}});
}

std::string join_phrases(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "; ";
    out += parts[i];
  }
  return out;
}

}  // namespace

json::object clean_concept(const json::object* concept_json) {
  json::object out;
  if (concept_json == nullptr) return out;
  const fhir::CodeableConcept cc(concept_json);
  json::array codings;
  for (fhir::Coding c : cc.codings()) {
    if (c.system().empty() || c.code().empty()) continue;
    json::object k{{"system", c.system()}, {"code", c.code()}};
    if (!c.display().empty()) k["display"] = c.display();
    codings.push_back(std::move(k));
  }
  if (!codings.empty()) out["coding"] = std::move(codings);
  if (!cc.text().empty()) out["text"] = cc.text();
  return out;
}

std::string plan_markdown(const CardInputs& in) {
  const RuleSet& rules = in.rules;
  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) return render(rules.text("plan.unknown"), {{"missing", join_phrases(in.typing.missing)}});
  std::string components;
  for (const PlanComponent& c : plan->components) {
    if (!components.empty()) components += '\n';
    components += "- ";
    components += component_line(rules, c);
  }
  return render(rules.text("plan.typed"), {{"type", in.typing.type},
                                           {"typeLabel", rules.text("typeLabel." + in.typing.type)},
                                           {"title", plan->title},
                                           {"reasons", join_phrases(in.typing.reasons)},
                                           {"components", components},
                                           {"note", plan->note}});
}

json::array plan_create_actions(const CardInputs& in, const PlanTarget& target, std::string_view description_template) {
  json::array actions;
  const RuleSet& rules = in.rules;
  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) return actions;

  json::object site = clean_concept(target.body_site);
  if (site.empty()) site = rules.default_body_site;
  // reasonCode: the problem-list knee-OA code when there is one, else the order's own reason.
  json::object reason = clean_concept(in.knee_oa.empty() ? target.reason : fhir::Condition(in.knee_oa.front()).code().json());

  for (const PlanComponent& c : plan->components) {
    if (target.keep_cell_order && c.omit_when_keeping_cell_order) continue;
    const Product& product = rules.products.find(c.product)->second;  // checked at load
    json::object code{{"text", c.text}};
    if (product.coding) code["coding"] = json::array{*product.coding};

    json::object sr{
        {"resourceType", "ServiceRequest"},
        {"status", "draft"},
        {"intent", "proposal"},
        {"code", std::move(code)},
        {"subject", json::object{{"reference", "Patient/" + std::string(in.patient_id)}}},
        {"occurrenceTiming",
         json::object{{"repeat", json::object{{"count", c.sessions}, {"period", c.every_weeks}, {"periodUnit", "wk"}}}}},
        {"bodySite", json::array{site}},
        {"note", json::array{json::object{{"text", c.note}}}},
    };
    if (!reason.empty()) sr["reasonCode"] = json::array{reason};
    if (!target.replaces.empty()) sr["replaces"] = json::array{json::object{{"reference", target.replaces}}};

    actions.push_back(json::object{
        {"type", "create"},
        {"description", render(description_template, {{"component", component_line(rules, c)}})},
        {"resource", std::move(sr)},
    });
  }
  return actions;
}

}  // namespace rules::detail
