#include "rules/detail/card_builder.hpp"

#include "rules/detail/text_template.hpp"
#include "rules/detail/uuid.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace rules::detail {
namespace {

constexpr std::size_t kSummaryLimit = 140;  // CDS Hooks: summary < 140 characters
constexpr std::string_view kDonor = "donor-derived-product";
constexpr std::string_view kSingleShot = "single-shot-cell-injection";
constexpr std::string_view kPlan = "whole-joint-plan";

using Lines = std::pmr::vector<Text>;

// A card's detail is assembled JSON-escaped (JsonTemplate): its why-lines, the plan and the
// detail itself are escaped text, and values marked kEscaped go into them as they are.
constexpr bool kEscaped = true;

InlineString<96> card_key(std::string_view rule, std::string_view rest) {
  InlineString<96> key;
  key.assign("cards.");
  key.append(rule);
  key.push_back('.');
  key.append(rest);
  return key;
}

// The template "cards.<rule>.<rest>", as text and compiled for the detail.
std::string_view card_text(const RuleSet& rules, std::string_view rule, std::string_view rest) {
  return rules.text(card_key(rule, rest));
}
const JsonTemplate& card_json_text(const RuleSet& rules, std::string_view rule, std::string_view rest) {
  return rules.json_text(card_key(rule, rest));
}

std::string_view type_short(const CardInputs& in) {
  InlineString<32> key;
  key.assign("typeShort.");
  key.append(in.typing.type);
  return in.rules.text(key);
}

Text concat(const CardInputs& in, std::string_view a, std::string_view b) {
  Text s(in.scratch);
  s.reserve(a.size() + b.size());
  s.append(a);
  s.append(b);
  return s;
}

std::string_view uuid_for(const CardInputs& in, UuidText& out, std::string_view rule, std::string_view subject,
                          std::string_view part = {}) {
  const auto issued = in.options.issued_at.time_since_epoch().count() != 0
                          ? in.options.issued_at
                          : std::chrono::sys_time<std::chrono::milliseconds>(in.options.now);
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, issued.time_since_epoch().count()));
  out = part.empty() ? in.ids->uuid_v7_of_parts(ms, {in.options.uuid_seed, rule, subject})
                     : in.ids->uuid_v7_of_parts(ms, {in.options.uuid_seed, rule, subject, part});
  return std::string_view(out.data(), out.size());
}

// The order as card text: its own words (escaped, cut at kOrderLabelLimit characters), or its
// codes when it has none.
constexpr std::size_t kOrderLabelLimit = 80;
Text order_label(const CardInputs& in, const OrderFacts& f) {
  Text out(in.scratch);
  if (!f.text.empty()) {
    markdown_text_to(out, f.text, kOrderLabelLimit);
    return out;
  }
  Text codes(in.scratch);
  for (fhir::Coding c : fhir::Order(f.resource).code().codings()) {
    if (c.code().empty()) continue;
    if (!codes.empty()) codes += ", ";
    codes += c.code();
  }
  Text escaped(in.scratch);
  markdown_text_to(escaped, codes, 60);
  render_to(out, in.rules.text("codedOrder"), {{"codes", escaped}});
  return out;
}

Text matched_label(const CardInputs& in, const OrderFacts& f) {
  Text out(in.scratch);
  markdown_text_to(out, f.matched, 60);
  return out;
}

Text concept_label(const CardInputs& in, const fhir::CodeableConcept& cc) {
  std::string_view t = cc.text();
  for (fhir::Coding c : cc.codings())
    if (t.empty()) t = c.display();
  for (fhir::Coding c : cc.codings())
    if (t.empty()) t = c.code();
  Text out(in.scratch);
  markdown_text_to(out, t, 80);
  return out;
}

Text date_label(const CardInputs& in, std::optional<fhir::Instant> when) {
  if (!when) return Text(in.rules.text("noDate"), in.scratch);
  return Text(format_date(when->time_since_epoch().count()), in.scratch);
}

using Refs = std::pmr::vector<Text>;  // a card's triggeredBy, in order, without repeats

void add_unique(Refs& refs, std::string_view ref) {
  if (ref.empty()) return;
  for (const Text& r : refs)
    if (r == ref) return;
  refs.emplace_back(ref);
}

// A new why-line (on the lines' arena), JSON-escaped.
Text& new_line(const CardInputs&, Lines& lines) { return lines.emplace_back(); }

// Why-lines about knee OA: the problem-list Conditions, or the order's own reason. Without
// `lines`, only their references (triggeredBy): the plan card does not repeat what the flag
// cards say.
void knee_oa_lines(const CardInputs& in, const OrderFacts* order, Lines* lines, Refs& refs) {
  for (const json::object* c : in.knee_oa) {
    Reference ref;
    reference_of(*c, ref);
    if (lines != nullptr)
      in.rules.json_text("why.kneeOa")
          .render_to(new_line(in, *lines), {{"ref", ref}, {"text", concept_label(in, fhir::Condition(c).code())}});
    add_unique(refs, ref);
  }
  if (order == nullptr || !order->knee_oa_reason) return;
  const std::string_view ref = order->reason_ref.empty() ? order->ref.view() : order->reason_ref.view();
  if (!order->reason_ref.empty()) {
    for (const Text& r : refs)
      if (r == ref) return;  // already listed as a problem-list Condition
    add_unique(refs, ref);
  }
  // The problem list already says knee OA: the order's own reason would say it again.
  if (lines != nullptr && in.knee_oa.empty())
    in.rules.json_text("why.orderReason")
        .render_to(new_line(in, *lines), {{"ref", ref}, {"text", concept_label(in, fhir::CodeableConcept(order->reason_concept))}});
}

// A card is read in seconds: the reasons for the type are cut at this many characters.
constexpr std::size_t kReasonsLimit = 120;

void patient_type_line(const CardInputs& in, Lines& lines) {
  Text all(in.scratch);
  const bool unknown = in.typing.type == "unknown";
  const auto& parts = unknown ? in.typing.missing : in.typing.reasons;
  for (const auto& p : parts) {
    if (!all.empty()) all += "; ";
    all += p;
  }
  Text joined(in.scratch);
  shorten_to(joined, all, kReasonsLimit);
  if (unknown)
    in.rules.json_text("why.patientTypeUnknown").render_to(new_line(in, lines), {{"missing", joined}});
  else
    in.rules.json_text("why.patientType").render_to(new_line(in, lines), {{"type", in.typing.type}, {"reasons", joined}});
}

// Appends the "why" section to a card's (escaped) detail: line breaks are written as JSON's \n.
void append_why(const CardInputs& in, Text& detail, const Lines& lines) {
  constexpr std::string_view kBreak = "\\n";
  detail.append(kBreak).append(kBreak);
  in.rules.json_text("why.heading").render_to(detail, {});
  detail.append(kBreak).append(kBreak);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) detail.append(kBreak);
    detail.append(lines[i]);
  }
}

// Calls f(evidence) for the card's links: the rule's own, then (plan card) the typed plan's
// key studies not already among them.
template <typename F>
void for_each_link(const RuleSet& rules, std::string_view rule, const Plan* plan, F&& f) {
  const std::vector<std::string>& own = rules.card_styles.find(rule)->second.links;
  for (const std::string& k : own) f(*rules.find_evidence(k));
  if (rule != kPlan || plan == nullptr) return;
  for (std::size_t i = 0; i < plan->evidence.size(); ++i) {
    const std::string& k = plan->evidence[i];
    const bool seen = std::find(own.begin(), own.end(), k) != own.end() ||
                      std::find(plan->evidence.begin(), plan->evidence.begin() + static_cast<std::ptrdiff_t>(i), k) !=
                          plan->evidence.begin() + static_cast<std::ptrdiff_t>(i);
    if (!seen) f(*rules.find_evidence(k));
  }
}

// The card's links, serialized as array elements (no brackets): the rule's own, then (plan
// card) the typed plan's key studies. The evidence page's link is added per card (its URL has
// the service's base).
std::string link_objects(const RuleSet& rules, std::string_view rule, const Plan* plan) {
  json::array out;
  for_each_link(rules, rule, plan, [&](const Evidence& e) {
    out.push_back(json::object{{"label", e.label}, {"url", e.url}, {"type", "absolute"}});
  });
  if (out.empty()) return {};
  std::string s = json::serialize(out);
  return s.substr(1, s.size() - 2);
}

struct CardParts {
  CardParts(const CardInputs& in, std::string_view r)
      : rule(r), subject(in.scratch), summary(in.scratch), detail(in.scratch), triggered_by(in.scratch) {}
  std::string_view rule;
  Text subject;  // what the card is about, for its uuid
  Text summary;
  Text detail;  // JSON-escaped
  Refs triggered_by;
  CardRecord* record = nullptr;  // begin_card() to end_card()
  std::size_t suggestions = 0;   // written so far
};

// Writes a card's members up to its suggestions, in output order, and starts its record: the
// card's text parts and triggeredBy are complete by now.
void begin_card(const CardInputs& in, CardParts& p) {
  const auto& style = in.rules.card_styles.find(p.rule)->second;
  Text summary(in.scratch);
  shorten_to(summary, p.summary, kSummaryLimit);
  UuidText id;
  const std::string_view uuid = uuid_for(in, id, p.rule, p.subject);
  CardRecord& r = in.records->emplace_back();
  p.record = &r;
  r.uuid = uuid;
  r.rule_id = p.rule;
  r.indicator = style.indicator;
  r.summary = summary;

  CardsText& w = *in.out;
  w.begin_object().key("uuid").string(uuid).key("summary").string(summary).key("detail").escaped_string(p.detail);
  w.key("indicator").string(style.indicator);
  w.key("source").begin_object().key("label").string(in.rules.source_label);
  if (!in.base_url.empty()) w.key("url").string(concat(in, in.base_url, in.rules.source_path));
  w.key("topic").begin_object().key("system").string(concat(in, in.base_url, in.rules.topic_system_path));
  w.key("code").string(style.topic_code).key("display").string(style.topic_display).end_object();
  w.end_object();
}

// A suggestion, up to its open actions array (the suggestions are alternatives).
void begin_suggestion(const CardInputs& in, CardParts& p, std::string_view name, std::string_view label,
                      bool recommended) {
  CardsText& w = *in.out;
  if (p.suggestions++ == 0) w.key("suggestions").begin_array();
  UuidText id;
  const std::string_view uuid = uuid_for(in, id, p.rule, p.subject, name);
  p.record->suggestion_uuids.emplace_back(uuid);
  Text shortened(in.scratch);
  shorten_to(shortened, label, kSummaryLimit);
  w.begin_object().key("uuid").string(uuid).key("label").string(shortened).key("isRecommended").boolean(recommended);
  w.key("actions").begin_array();
}

void end_suggestion(const CardInputs& in) { in.out->end_array().end_object(); }

// The card's members after its suggestions: override reasons with this service's code system,
// links, and the provenance extension.
void end_card(const CardInputs& in, CardParts& p) {
  const RuleSet& rules = in.rules;
  const auto& style = rules.card_styles.find(p.rule)->second;
  CardRecord& r = *p.record;
  CardsText& w = *in.out;
  if (p.suggestions > 0) w.end_array().key("selectionBehavior").string("at-most-one");

  const Text system = concat(in, in.base_url, rules.override_reason_system_path);
  w.key("overrideReasons").begin_array();
  r.override_reason_codes.reserve(style.override_reasons.size());
  for (std::size_t i : style.override_reasons) {
    const OverrideReason& reason = rules.override_reasons[i];
    w.begin_object().key("code").string(reason.code).key("system").string(system);
    w.key("display").string(reason.display).end_object();
    std::string& code = r.override_reason_codes.emplace_back();
    code.reserve(system.size() + 1 + reason.code.size());
    code.append(system).append("|").append(reason.code);
  }
  w.end_array();

  const Plan* plan = p.rule == kPlan ? rules.plan_for(in.typing.type) : nullptr;
  const std::string& links = plan != nullptr ? plan->card_links : style.link_objects;
  if (!links.empty() || !in.base_url.empty()) {
    w.key("links").begin_array().members(links);
    if (!in.base_url.empty()) {
      w.begin_object().key("label").string(rules.evidence_page_label);
      w.key("url").string(concat(in, in.base_url, rules.source_path)).key("type").string("absolute").end_object();
    }
    w.end_array();
  }

  w.key("extension").begin_object().key(kProvenanceExtensionKey).begin_object();
  w.key("ruleId").string(p.rule).key("rulesVersion").string(rules.version).key("triggeredBy").begin_array();
  r.triggered_by.reserve(p.triggered_by.size());
  for (const Text& ref : p.triggered_by) {
    w.string(ref);
    r.triggered_by.emplace_back(ref);
  }
  w.end_array();
  if (p.rule == kPlan) w.key("patientType").string(in.typing.type);
  w.end_object().end_object();
  w.end_object();
}

void delete_action(const CardInputs& in, std::string_view tmpl, const OrderFacts& f, std::string_view label) {
  Text description(in.scratch);
  render_to(description, tmpl, {{"orderRef", f.ref}, {"order", label}});
  in.out->begin_object().key("type").string("delete").key("description").string(description);
  in.out->key("resourceId").string(f.ref.view()).end_object();
}

Text render_text(const CardInputs& in, std::string_view tmpl, std::initializer_list<Arg> args) {
  Text out(in.scratch);
  render_to(out, tmpl, args);
  return out;
}

// Room for a detail rendered from `tmpl`, so it is not copied as it grows: the template, the
// plan, and a margin for the order text, evidence and why-lines.
void reserve_detail(const CardInputs& in, Text& detail, const JsonTemplate& tmpl) {
  detail.reserve(tmpl.literal_size() + in.plan_json.size() + 1024);
}

// Why-lines and triggeredBy shared by the two order flag cards (the detail names the order).
void order_why(const CardInputs& in, const OrderFacts& f, CardParts& p, Lines& lines) {
  add_unique(p.triggered_by, f.ref);
  knee_oa_lines(in, &f, &lines, p.triggered_by);
}

// The detail of an order flag card: its template, then the why-lines. The plan is on the plan
// card only: the flag card points to it.
void order_detail(const CardInputs& in, std::string_view rule, const OrderFacts& f, std::string_view label,
                  CardParts& p) {
  const JsonTemplate& tmpl = card_json_text(in.rules, rule, "detail");
  reserve_detail(in, p.detail, tmpl);
  tmpl.render_to(p.detail,
                 {{"order", label}, {"orderRef", f.ref}, {"matched", matched_label(in, f)}, {"more", in.more_json, kEscaped}});
}

// The plan card's evidence sentence, as a value for its detail template (rendered into `buf`).
Arg evidence_arg(const CardInputs& in, Text& buf) {
  card_json_text(in.rules, kPlan, "evidence").render_to(buf, {});
  return Arg{"evidence", buf, kEscaped};
}

// An order as the plan card names it: by reference (the flag cards give its text).
void append_order_name(const CardInputs&, Text& out, const OrderFacts& f) {
  if (!out.empty()) out += ", ";
  out += f.ref.view();
}

// Why-lines for orders that name a prior donor-derived injection (context, not a flag).
void prior_donor_lines(const CardInputs& in, std::span<const OrderFacts* const> naming, Lines& lines, Refs& refs) {
  for (const OrderFacts* f : naming) {
    Text matched(in.scratch);
    markdown_text_to(matched, f->past_donor, 60);
    in.rules.json_text("why.priorDonor").render_to(new_line(in, lines), {{"ref", f->ref}, {"matched", matched}});
    add_unique(refs, f->ref);
  }
}

}  // namespace

void donor_card(const CardInputs& in, const OrderFacts& f) {
  const RuleSet& rules = in.rules;
  CardParts p(in, kDonor);
  p.subject = f.ref.view();
  p.summary = card_text(rules, kDonor, "summary");
  const Text label = order_label(in, f);
  order_detail(in, kDonor, f, label, p);
  Lines lines(in.scratch);
  order_why(in, f, p, lines);
  append_why(in, p.detail, lines);
  begin_card(in, p);

  const bool typed = rules.plan_for(in.typing.type) != nullptr;
  begin_suggestion(in, p, "remove", card_text(rules, kDonor, "suggestions.remove.label"), !typed);
  delete_action(in, card_text(rules, kDonor, "suggestions.remove.delete"), f, label);
  end_suggestion(in);
  if (typed) {
    begin_suggestion(in, p, "replace",
                     render_text(in, card_text(rules, kDonor, "suggestions.replace.label"), {{"typeShort", type_short(in)}}),
                     true);
    delete_action(in, card_text(rules, kDonor, "suggestions.replace.delete"), f, label);
    const PlanTarget target{f.knee_site_concept, f.reason_concept, f.ref, false};
    plan_create_actions(in, target, card_text(rules, kDonor, "suggestions.replace.create"));
    end_suggestion(in);
  }
  end_card(in, p);
}

void single_shot_card(const CardInputs& in, const OrderFacts& f) {
  const RuleSet& rules = in.rules;
  const auto& t = rules.thresholds;
  CardParts p(in, kSingleShot);
  p.subject = f.ref.view();
  p.summary = card_text(rules, kSingleShot, "summary");
  const Text label = order_label(in, f);
  order_detail(in, kSingleShot, f, label, p);
  Lines lines(in.scratch);
  order_why(in, f, p, lines);
  char count[24];
  const auto n = std::to_chars(count, count + sizeof count, t.single_shot_series_repeat_count_at_least).ptr - count;
  rules.json_text("why.singleShot")
      .render_to(new_line(in, lines), {{"ref", f.ref},
                                       {"count", std::string_view(count, static_cast<std::size_t>(n))},
                                       {"quantity", format_number(t.single_shot_quantity_at_most)}});
  append_why(in, p.detail, lines);
  begin_card(in, p);

  const Plan* plan = rules.plan_for(in.typing.type);
  if (plan == nullptr) {
    // No plan to offer without a patient type; removing the single shot is still an option.
    begin_suggestion(in, p, "remove", card_text(rules, kSingleShot, "suggestions.remove.label"), false);
    delete_action(in, card_text(rules, kSingleShot, "suggestions.remove.delete"), f, label);
    end_suggestion(in);
    return end_card(in, p);
  }
  // When the typed plan itself contains a cell session, the order can stay as that session.
  const bool cell_order_fits = std::any_of(plan->components.begin(), plan->components.end(),
                                           [](const PlanComponent& c) { return c.omit_when_keeping_cell_order; });
  const std::string_view ts = type_short(in);
  const PlanTarget keep{f.knee_site_concept, f.reason_concept, {}, true};
  if (plan_create_count(in, keep) > 0) {
    begin_suggestion(in, p, "keep", render_text(in, card_text(rules, kSingleShot, "suggestions.keep.label"), {{"typeShort", ts}}),
                     cell_order_fits);
    plan_create_actions(in, keep, card_text(rules, kSingleShot, "suggestions.keep.create"));
    end_suggestion(in);
  }
  begin_suggestion(in, p, "replace",
                   render_text(in, card_text(rules, kSingleShot, "suggestions.replace.label"), {{"typeShort", ts}}),
                   !cell_order_fits);
  delete_action(in, card_text(rules, kSingleShot, "suggestions.replace.delete"), f, label);
  const PlanTarget replace{f.knee_site_concept, f.reason_concept, f.ref, false};
  plan_create_actions(in, replace, card_text(rules, kSingleShot, "suggestions.replace.create"));
  end_suggestion(in);
  end_card(in, p);
}

namespace {

// The plan card's own create suggestion (no delete: the flag cards own the orders).
void plan_suggestion(const CardInputs& in, CardParts& p, const PlanTarget& target) {
  const RuleSet& rules = in.rules;
  if (plan_create_count(in, target) == 0) return;
  begin_suggestion(in, p, "order", render_text(in, card_text(rules, kPlan, "suggestions.order.label"), {{"typeShort", type_short(in)}}),
                   true);
  plan_create_actions(in, target, card_text(rules, kPlan, "suggestions.order.create"));
  end_suggestion(in);
}

}  // namespace

void plan_card_for_orders(const CardInputs& in, std::span<const OrderFacts* const> flagged,
                          std::span<const OrderFacts* const> prior_donor) {
  const RuleSet& rules = in.rules;
  CardParts p(in, kPlan);
  render_to(p.summary, card_text(rules, kPlan, "summaryOrders"), {{"typeShort", type_short(in)}});
  Text orders(in.scratch);
  Lines lines(in.scratch);
  for (const OrderFacts* f : flagged) {
    if (!p.subject.empty()) p.subject += ',';
    p.subject += f->ref.view();
    append_order_name(in, orders, *f);
    add_unique(p.triggered_by, f->ref);
  }
  knee_oa_lines(in, flagged.size() == 1 ? flagged.front() : nullptr, nullptr, p.triggered_by);
  patient_type_line(in, lines);
  prior_donor_lines(in, prior_donor, lines, p.triggered_by);
  const JsonTemplate& detail = card_json_text(rules, kPlan, "detailOrders");
  reserve_detail(in, p.detail, detail);
  Text evidence(in.scratch);
  detail.render_to(p.detail, {{"orders", orders}, {"plan", in.plan_json, kEscaped}, evidence_arg(in, evidence),
                              {"more", in.more_json, kEscaped}});
  append_why(in, p.detail, lines);

  // One knee site when every flagged order names the same one; otherwise the knee region.
  PlanTarget target;
  target.body_site = flagged.front()->knee_site_concept;
  for (const OrderFacts* f : flagged)
    if (f->knee_site_concept == nullptr || target.body_site == nullptr || *f->knee_site_concept != *target.body_site)
      target.body_site = nullptr;
  target.reason = flagged.front()->reason_concept;
  begin_card(in, p);
  plan_suggestion(in, p, target);
  end_card(in, p);
}

void plan_card_for_prior_donor(const CardInputs& in, std::span<const OrderFacts* const> naming) {
  const RuleSet& rules = in.rules;
  CardParts p(in, kPlan);
  render_to(p.summary, card_text(rules, kPlan, "summaryPriorDonor"), {{"typeShort", type_short(in)}});
  Text orders(in.scratch);
  for (const OrderFacts* f : naming) {
    if (!p.subject.empty()) p.subject += ',';
    p.subject += f->ref.view();
    append_order_name(in, orders, *f);
    add_unique(p.triggered_by, f->ref);
  }
  Lines lines(in.scratch);  // the orders and what they name are in the detail itself
  knee_oa_lines(in, naming.size() == 1 ? naming.front() : nullptr, nullptr, p.triggered_by);
  patient_type_line(in, lines);
  Text matched(in.scratch);
  markdown_text_to(matched, naming.front()->past_donor, 40);
  const JsonTemplate& detail = card_json_text(rules, kPlan, "detailPriorDonor");
  reserve_detail(in, p.detail, detail);
  Text evidence(in.scratch);
  detail.render_to(p.detail, {{"orders", orders}, {"matched", matched}, {"plan", in.plan_json, kEscaped},
                              evidence_arg(in, evidence), {"more", in.more_json, kEscaped}});
  append_why(in, p.detail, lines);

  PlanTarget target;
  target.body_site = naming.front()->knee_site_concept;
  target.reason = naming.front()->reason_concept;
  begin_card(in, p);
  plan_suggestion(in, p, target);
  end_card(in, p);
}

void plan_card_for_patient_view(const CardInputs& in, const PersistingPain& pain) {
  const RuleSet& rules = in.rules;
  const auto& t = rules.thresholds;
  const OrderFacts& inj = pain.injection;
  CardParts p(in, kPlan);
  p.subject = inj.ref.view();
  render_to(p.summary, card_text(rules, kPlan, "summaryPatientView"), {{"typeShort", type_short(in)}});
  add_unique(p.triggered_by, inj.ref);

  const double months = std::round(fhir::months_between(pain.injected, pain.after.when) * 10) / 10;
  const std::string after = format_number(pain.after.value);
  const std::string months_text = format_number(months);
  Text pain_text(in.scratch);
  if (pain.above_threshold || !pain.before)
    render_to(pain_text, card_text(rules, kPlan, "painPersists"),
              {{"after", after}, {"months", months_text}, {"threshold", format_number(t.pain_nrs_at_least)}});
  else
    render_to(pain_text, card_text(rules, kPlan, "painNotImproved"),
              {{"before", format_number(pain.before->value)}, {"after", after}, {"months", months_text},
               {"drop", format_number(t.pain_relative_drop_below * 100)}});

  const Text date = date_label(in, pain.injected);
  const Text label = order_label(in, inj);
  Lines lines(in.scratch);  // the injection itself is named in the detail
  if (pain.before) {
    Reference ref;
    reference_of(*pain.before->observation, ref);
    add_unique(p.triggered_by, ref);
  }
  // The readings' values are in the detail; their references in triggeredBy.
  Reference after_ref;
  reference_of(*pain.after.observation, after_ref);
  add_unique(p.triggered_by, after_ref);
  knee_oa_lines(in, &inj, nullptr, p.triggered_by);
  patient_type_line(in, lines);

  Text procedure(in.scratch);
  procedure += inj.ref.view();
  const JsonTemplate& detail = card_json_text(rules, kPlan, "detailPatientView");
  reserve_detail(in, p.detail, detail);
  Text evidence(in.scratch);
  detail.render_to(p.detail, {{"procedure", procedure},
                              {"procedureDate", date},
                              {"pain", pain_text},
                              {"plan", in.plan_json, kEscaped},
                              evidence_arg(in, evidence),
                              {"more", in.more_json, kEscaped}});
  append_why(in, p.detail, lines);
  PlanTarget target;
  target.body_site = inj.knee_site_concept;
  target.reason = inj.reason_concept;
  begin_card(in, p);
  plan_suggestion(in, p, target);
  end_card(in, p);
}

void compile_cards(RuleSet& rules) {
  for (auto& [rule, style] : rules.card_styles) {
    style.link_objects = link_objects(rules, rule, nullptr);
    style.override_reasons.clear();
    for (std::size_t i = 0; i < rules.override_reasons.size(); ++i) {
      const OverrideReason& r = rules.override_reasons[i];
      if (r.only_for.empty() || std::find(r.only_for.begin(), r.only_for.end(), rule) != r.only_for.end())
        style.override_reasons.push_back(i);
    }
  }
  for (Plan& plan : rules.plans) plan.card_links = link_objects(rules, kPlan, &plan);
}

}  // namespace rules::detail
