#include "rules/detail/card_builder.hpp"
#include "rules/detail/text_template.hpp"

#include <charconv>

namespace rules::detail {
namespace {

void component_line_to(Text& out, const RuleSet& rules, const PlanComponent& c) {
  char sessions[16], weeks[16];
  const auto s = std::to_chars(sessions, sessions + sizeof sessions, c.sessions).ptr - sessions;
  const auto w = std::to_chars(weeks, weeks + sizeof weeks, c.every_weeks).ptr - weeks;
  render_to(out, rules.text("plan.component"),
            {{"text", c.text},
             {"sessions", std::string_view(sessions, static_cast<std::size_t>(s))},
             {"weeks", std::string_view(weeks, static_cast<std::size_t>(w))}});
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
    component_line_to(components, rules, c);
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
    const Product& product = rules.products.find(c.product)->second;  // checked at load
    json::object code(sp);
    code.emplace("text", c.text);
    if (product.coding) code.emplace("coding", one(json::value(*product.coding, sp), sp));

    json::object repeat(sp);
    repeat.reserve(3);
    repeat.emplace("count", c.sessions);
    repeat.emplace("period", c.every_weeks);
    repeat.emplace("periodUnit", "wk");
    json::object timing(sp);
    timing.emplace("repeat", std::move(repeat));
    json::object subject_ref(sp);
    subject_ref.emplace("reference", std::string_view(subject));
    json::object note(sp);
    note.emplace("text", c.note);

    json::object sr(sp);
    sr.reserve(10);
    sr.emplace("resourceType", "ServiceRequest");
    sr.emplace("status", "draft");
    sr.emplace("intent", "proposal");
    sr.emplace("code", std::move(code));
    sr.emplace("subject", std::move(subject_ref));
    sr.emplace("occurrenceTiming", std::move(timing));
    sr.emplace("bodySite", one(share(site), sp));
    sr.emplace("note", one(std::move(note), sp));
    if (!reason.empty()) sr.emplace("reasonCode", one(share(reason), sp));
    --remaining;
    if (!target.replaces.empty()) {
      json::object replaced(sp);
      replaced.emplace("reference", target.replaces);
      sr.emplace("replaces", one(std::move(replaced), sp));
    }

    Text line(in.scratch);
    component_line_to(line, rules, c);
    json::string description(sp);
    render_to(description, description_template, {{"component", line}});
    json::object action(sp);
    action.reserve(3);
    action.emplace("type", "create");
    action.emplace("description", std::move(description));
    action.emplace("resource", std::move(sr));
    actions.push_back(std::move(action));
  }
}

}  // namespace rules::detail
