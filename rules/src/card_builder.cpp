#include "rules/detail/card_builder.hpp"

#include "rules/detail/text_template.hpp"
#include "rules/detail/uuid.hpp"

#include <algorithm>
#include <cmath>

namespace rules::detail {
namespace {

constexpr std::size_t kSummaryLimit = 140;  // CDS Hooks: summary < 140 characters
constexpr std::string_view kDonor = "donor-derived-product";
constexpr std::string_view kSingleShot = "single-shot-cell-injection";
constexpr std::string_view kPlan = "whole-joint-plan";

std::string key(std::string_view rule, std::string_view rest) {
  std::string k = "cards.";
  k.append(rule).append(".").append(rest);
  return k;
}

std::string uuid_for(const CardInputs& in, std::string_view rule, std::string_view subject, std::string_view part = {}) {
  std::string name(in.options.uuid_seed);
  name.append("/").append(rule).append("/").append(subject);
  if (!part.empty()) name.append("/").append(part);
  return uuid_v5(name);
}

// The order as card text: its own words (escaped), or its codes when it has none.
std::string order_label(const CardInputs& in, const OrderFacts& f) {
  if (!f.text.empty()) return markdown_text(f.text);
  std::string codes;
  for (fhir::Coding c : fhir::Order(f.resource).code().codings()) {
    if (c.code().empty()) continue;
    if (!codes.empty()) codes += ", ";
    codes += c.code();
  }
  return render(in.rules.text("codedOrder"), {{"codes", markdown_text(codes, 60)}});
}

std::string concept_label(const fhir::CodeableConcept& cc) {
  std::string_view t = cc.text();
  for (fhir::Coding c : cc.codings())
    if (t.empty()) t = c.display();
  for (fhir::Coding c : cc.codings())
    if (t.empty()) t = c.code();
  return markdown_text(t, 80);
}

std::string date_label(const CardInputs& in, std::optional<fhir::Instant> when) {
  if (!when) return std::string(in.rules.text("noDate"));
  return format_date(when->time_since_epoch().count());
}

void add_unique(json::array& refs, std::string_view ref) {
  if (ref.empty()) return;
  for (const json::value& v : refs)
    if (v.as_string() == ref) return;
  refs.emplace_back(ref);
}

// Why-lines about knee OA: the problem-list Conditions, or the order's own reason.
void knee_oa_lines(const CardInputs& in, const OrderFacts* order, std::vector<std::string>& lines, json::array& refs) {
  for (const json::object* c : in.knee_oa) {
    const std::string ref = reference_of(*c);
    lines.push_back(render(in.rules.text("why.kneeOa"), {{"ref", ref}, {"text", concept_label(fhir::Condition(c).code())}}));
    add_unique(refs, ref);
  }
  if (order == nullptr || !order->knee_oa_reason) return;
  const std::string_view ref = order->reason_ref.empty() ? std::string_view(order->ref) : std::string_view(order->reason_ref);
  if (!order->reason_ref.empty()) {
    for (const json::value& v : refs)
      if (v.as_string() == ref) return;  // already listed as a problem-list Condition
    add_unique(refs, ref);
  }
  lines.push_back(render(in.rules.text("why.orderReason"),
                         {{"ref", ref}, {"text", concept_label(fhir::CodeableConcept(order->reason_concept))}}));
}

void patient_type_line(const CardInputs& in, std::vector<std::string>& lines) {
  std::string joined;
  const auto& parts = in.typing.type == "unknown" ? in.typing.missing : in.typing.reasons;
  for (const std::string& p : parts) joined += (joined.empty() ? "" : "; ") + p;
  if (in.typing.type == "unknown")
    lines.push_back(render(in.rules.text("why.patientTypeUnknown"), {{"missing", joined}}));
  else
    lines.push_back(render(in.rules.text("why.patientType"), {{"type", in.typing.type}, {"reasons", joined}}));
}

std::string with_why(const CardInputs& in, std::string detail, const std::vector<std::string>& lines) {
  detail += "\n\n";
  detail += in.rules.text("why.heading");
  detail += "\n\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) detail += '\n';
    detail += lines[i];
  }
  return detail;
}

json::array override_reasons(const CardInputs& in, std::string_view rule) {
  json::array out;
  const std::string system = in.base_url + in.rules.override_reason_system_path;
  for (const OverrideReason& r : in.rules.override_reasons) {
    if (!r.only_for.empty() && std::find(r.only_for.begin(), r.only_for.end(), rule) == r.only_for.end()) continue;
    out.push_back(json::object{{"code", r.code}, {"system", system}, {"display", r.display}});
  }
  return out;
}

std::vector<std::string> link_keys(const CardInputs& in, std::string_view rule) {
  std::vector<std::string> keys = in.rules.card_styles.find(rule)->second.links;
  if (rule == kPlan)
    if (const Plan* plan = in.rules.plan_for(in.typing.type))
      for (const std::string& k : plan->evidence)
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  return keys;
}

json::array links(const CardInputs& in, const std::vector<std::string>& keys) {
  json::array out;
  for (const std::string& k : keys) {
    const Evidence* e = in.rules.find_evidence(k);
    out.push_back(json::object{{"label", e->label}, {"url", e->url}, {"type", "absolute"}});
  }
  return out;
}

std::string evidence_markdown(const CardInputs& in, const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) {
    if (!out.empty()) out += '\n';
    out += "- ";
    out += in.rules.find_evidence(k)->summary;
  }
  return out;
}

struct CardParts {
  std::string_view rule;
  std::string subject;  // what the card is about, for its uuid
  std::string summary;
  std::string detail;
  json::array triggered_by;
  json::array suggestions;
};

json::object assemble(const CardInputs& in, CardParts&& p) {
  const auto& style = in.rules.card_styles.find(p.rule)->second;
  json::object provenance{{"ruleId", p.rule}, {"rulesVersion", in.rules.version}, {"triggeredBy", std::move(p.triggered_by)}};
  if (p.rule == kPlan) provenance["patientType"] = in.typing.type;

  json::object source{{"label", in.rules.source_label}};
  if (!in.base_url.empty()) source["url"] = in.base_url + in.rules.source_path;
  source["topic"] = json::object{{"system", in.base_url + in.rules.topic_system_path},
                                 {"code", style.topic_code},
                                 {"display", style.topic_display}};

  json::object card{
      {"uuid", uuid_for(in, p.rule, p.subject)},
      {"summary", shorten(p.summary, kSummaryLimit)},
      {"detail", std::move(p.detail)},
      {"indicator", style.indicator},
      {"source", std::move(source)},
  };
  if (!p.suggestions.empty()) {
    card["suggestions"] = std::move(p.suggestions);
    card["selectionBehavior"] = "at-most-one";  // the suggestions are alternatives
  }
  card["overrideReasons"] = override_reasons(in, p.rule);
  if (json::array l = links(in, link_keys(in, p.rule)); !l.empty()) card["links"] = std::move(l);
  card["extension"] = json::object{{std::string(kProvenanceExtensionKey), std::move(provenance)}};
  return card;
}

json::object suggestion(const CardInputs& in, const CardParts& p, std::string_view name, std::string label,
                        bool recommended, json::array actions) {
  return json::object{{"uuid", uuid_for(in, p.rule, p.subject, name)},
                      {"label", shorten(label, kSummaryLimit)},
                      {"isRecommended", recommended},
                      {"actions", std::move(actions)}};
}

json::object delete_action(const CardInputs& in, std::string_view tmpl, const OrderFacts& f) {
  return json::object{{"type", "delete"},
                      {"description", render(tmpl, {{"orderRef", f.ref}, {"order", order_label(in, f)}})},
                      {"resourceId", f.ref}};
}

std::string type_short(const CardInputs& in) { return std::string(in.rules.text("typeShort." + in.typing.type)); }

// Why-lines and triggeredBy shared by the two order flag cards.
void order_why(const CardInputs& in, const OrderFacts& f, CardParts& p, std::vector<std::string>& lines) {
  add_unique(p.triggered_by, f.ref);
  lines.push_back(render(in.rules.text("why.order"), {{"ref", f.ref}, {"text", order_label(in, f)}, {"matched", markdown_text(f.matched, 60)}}));
  knee_oa_lines(in, &f, lines, p.triggered_by);
}

}  // namespace

json::object donor_card(const CardInputs& in, const OrderFacts& f) {
  const RuleSet& rules = in.rules;
  CardParts p{kDonor, std::string(f.ref.view()), std::string(rules.text(key(kDonor, "summary"))), {}, {}, {}};
  p.detail = render(rules.text(key(kDonor, "detail")), {{"order", order_label(in, f)},
                                                         {"orderRef", f.ref},
                                                         {"matched", markdown_text(f.matched, 60)},
                                                         {"plan", plan_markdown(in)}});
  std::vector<std::string> lines;
  order_why(in, f, p, lines);
  patient_type_line(in, lines);
  p.detail = with_why(in, std::move(p.detail), lines);

  const bool typed = rules.plan_for(in.typing.type) != nullptr;
  p.suggestions.push_back(suggestion(in, p, "remove", std::string(rules.text(key(kDonor, "suggestions.remove.label"))),
                                     !typed, json::array{delete_action(in, rules.text(key(kDonor, "suggestions.remove.delete")), f)}));
  if (typed) {
    json::array actions{delete_action(in, rules.text(key(kDonor, "suggestions.replace.delete")), f)};
    PlanTarget target{f.knee_site_concept, f.reason_concept, f.ref, false};
    for (json::value& a : plan_create_actions(in, target, rules.text(key(kDonor, "suggestions.replace.create"))))
      actions.push_back(std::move(a));
    p.suggestions.push_back(suggestion(in, p, "replace",
                                       render(rules.text(key(kDonor, "suggestions.replace.label")), {{"typeShort", type_short(in)}}),
                                       true, std::move(actions)));
  }
  return assemble(in, std::move(p));
}

json::object single_shot_card(const CardInputs& in, const OrderFacts& f) {
  const RuleSet& rules = in.rules;
  const auto& t = rules.thresholds;
  CardParts p{kSingleShot, std::string(f.ref.view()), std::string(rules.text(key(kSingleShot, "summary"))), {}, {}, {}};
  p.detail = render(rules.text(key(kSingleShot, "detail")), {{"order", order_label(in, f)},
                                                              {"orderRef", f.ref},
                                                              {"matched", markdown_text(f.matched, 60)},
                                                              {"plan", plan_markdown(in)}});
  std::vector<std::string> lines;
  order_why(in, f, p, lines);
  lines.push_back(render(rules.text("why.singleShot"),
                         {{"ref", f.ref},
                          {"count", std::to_string(t.single_shot_series_repeat_count_at_least)},
                          {"quantity", format_number(t.single_shot_quantity_at_most)}}));
  lines.emplace_back(rules.text("why.noPlan"));
  patient_type_line(in, lines);
  p.detail = with_why(in, std::move(p.detail), lines);

  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) {
    // No plan to offer without a patient type; removing the single shot is still an option.
    p.suggestions.push_back(suggestion(in, p, "remove", std::string(rules.text(key(kSingleShot, "suggestions.remove.label"))),
                                       false, json::array{delete_action(in, rules.text(key(kSingleShot, "suggestions.remove.delete")), f)}));
    return assemble(in, std::move(p));
  }
  // When the typed plan itself contains a cell session, the order can stay as that session.
  const bool cell_order_fits = std::any_of(plan->components.begin(), plan->components.end(),
                                           [](const PlanComponent& c) { return c.omit_when_keeping_cell_order; });
  const std::string ts = type_short(in);
  PlanTarget keep{f.knee_site_concept, f.reason_concept, {}, true};
  json::array keep_actions = plan_create_actions(in, keep, rules.text(key(kSingleShot, "suggestions.keep.create")));
  if (!keep_actions.empty())
    p.suggestions.push_back(suggestion(in, p, "keep", render(rules.text(key(kSingleShot, "suggestions.keep.label")), {{"typeShort", ts}}),
                                       cell_order_fits, std::move(keep_actions)));
  json::array replace_actions{delete_action(in, rules.text(key(kSingleShot, "suggestions.replace.delete")), f)};
  PlanTarget replace{f.knee_site_concept, f.reason_concept, f.ref, false};
  for (json::value& a : plan_create_actions(in, replace, rules.text(key(kSingleShot, "suggestions.replace.create"))))
    replace_actions.push_back(std::move(a));
  p.suggestions.push_back(suggestion(in, p, "replace", render(rules.text(key(kSingleShot, "suggestions.replace.label")), {{"typeShort", ts}}),
                                     !cell_order_fits, std::move(replace_actions)));
  return assemble(in, std::move(p));
}

namespace {

// The plan card's own create suggestion (no delete: the flag cards own the orders).
void plan_suggestion(const CardInputs& in, CardParts& p, const PlanTarget& target) {
  const RuleSet& rules = in.rules;
  json::array actions = plan_create_actions(in, target, rules.text(key(kPlan, "suggestions.order.create")));
  if (actions.empty()) return;
  p.suggestions.push_back(suggestion(in, p, "order",
                                     render(rules.text(key(kPlan, "suggestions.order.label")), {{"typeShort", type_short(in)}}),
                                     true, std::move(actions)));
}

}  // namespace

json::object plan_card_for_orders(const CardInputs& in, const std::vector<const OrderFacts*>& flagged) {
  const RuleSet& rules = in.rules;
  CardParts p{kPlan, {}, render(rules.text(key(kPlan, "summaryOrders")), {{"typeShort", type_short(in)}}), {}, {}, {}};
  std::string orders;
  std::vector<std::string> lines;
  for (const OrderFacts* f : flagged) {
    if (!p.subject.empty()) p.subject += ',';
    p.subject += f->ref;
    if (!orders.empty()) orders += ", ";
    orders += order_label(in, *f) + " (" + std::string(f->ref.view()) + ")";
    add_unique(p.triggered_by, f->ref);
    lines.push_back(render(rules.text("why.order"), {{"ref", f->ref}, {"text", order_label(in, *f)}, {"matched", markdown_text(f->matched, 60)}}));
  }
  knee_oa_lines(in, flagged.size() == 1 ? flagged.front() : nullptr, lines, p.triggered_by);
  patient_type_line(in, lines);
  const auto keys = link_keys(in, kPlan);
  p.detail = with_why(in,
                      render(rules.text(key(kPlan, "detailOrders")),
                             {{"orders", orders}, {"plan", plan_markdown(in)}, {"evidence", evidence_markdown(in, keys)}}),
                      lines);

  // One knee site when every flagged order names the same one; otherwise the knee region.
  PlanTarget target;
  target.body_site = flagged.front()->knee_site_concept;
  for (const OrderFacts* f : flagged)
    if (f->knee_site_concept == nullptr || target.body_site == nullptr || *f->knee_site_concept != *target.body_site)
      target.body_site = nullptr;
  target.reason = flagged.front()->reason_concept;
  plan_suggestion(in, p, target);
  return assemble(in, std::move(p));
}

json::object plan_card_for_patient_view(const CardInputs& in, const PersistingPain& pain) {
  const RuleSet& rules = in.rules;
  const auto& t = rules.thresholds;
  const OrderFacts& inj = pain.injection;
  CardParts p{kPlan, std::string(inj.ref.view()), render(rules.text(key(kPlan, "summaryPatientView")), {{"typeShort", type_short(in)}}), {}, {}, {}};
  add_unique(p.triggered_by, inj.ref);

  const double months = std::round(fhir::months_between(pain.injected, pain.after.when) * 10) / 10;
  const std::string after = format_number(pain.after.value);
  std::string pain_text;
  if (pain.above_threshold || !pain.before)
    pain_text = render(rules.text(key(kPlan, "painPersists")),
                       {{"after", after}, {"months", format_number(months)}, {"threshold", format_number(t.pain_nrs_at_least)}});
  else
    pain_text = render(rules.text(key(kPlan, "painNotImproved")),
                       {{"before", format_number(pain.before->value)}, {"after", after}, {"months", format_number(months)},
                        {"drop", format_number(t.pain_relative_drop_below * 100)}});

  const std::string date = date_label(in, pain.injected);
  const std::string label = order_label(in, inj);
  std::vector<std::string> lines;
  lines.push_back(render(rules.text("why.procedure"), {{"ref", inj.ref}, {"text", label}, {"date", date}}));
  if (pain.before) {
    const std::string ref = reference_of(*pain.before->observation);
    lines.push_back(render(rules.text("why.painBefore"), {{"ref", ref}, {"value", format_number(pain.before->value)},
                                                          {"date", date_label(in, pain.before->when)}}));
    add_unique(p.triggered_by, ref);
  }
  const std::string after_ref = reference_of(*pain.after.observation);
  lines.push_back(render(rules.text("why.painAfter"), {{"ref", after_ref}, {"value", after},
                                                       {"date", date_label(in, pain.after.when)}, {"months", format_number(months)}}));
  add_unique(p.triggered_by, after_ref);
  knee_oa_lines(in, &inj, lines, p.triggered_by);
  patient_type_line(in, lines);

  const auto keys = link_keys(in, kPlan);
  p.detail = with_why(in,
                      render(rules.text(key(kPlan, "detailPatientView")),
                             {{"procedure", label + " (" + std::string(inj.ref.view()) + ")"}, {"procedureDate", date}, {"pain", pain_text},
                              {"plan", plan_markdown(in)}, {"evidence", evidence_markdown(in, keys)}}),
                      lines);
  PlanTarget target;
  target.body_site = inj.knee_site_concept;
  target.reason = inj.reason_concept;
  plan_suggestion(in, p, target);
  return assemble(in, std::move(p));
}

}  // namespace rules::detail
