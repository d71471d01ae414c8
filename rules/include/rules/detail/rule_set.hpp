#pragma once
// The loaded, checked and precompiled rule data (knee-oa.json + valuesets/*.json). Immutable
// after load_rule_set(); evaluation only reads it.
#include "rules/detail/uuid.hpp"
#include "rules/detail/code_table.hpp"
#include "rules/detail/context.hpp"
#include "rules/detail/term_index.hpp"
#include "rules/detail/term_matcher.hpp"
#include "rules/detail/text_template.hpp"
#include "rules/engine.hpp"

#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace rules::detail {

struct ValueSet {
  std::string id;
  std::string title;
  CodeTable codes;
  std::vector<Term> terms;
};

// The value sets the decision logic needs, by role; knee-oa.json maps each role to a value-set id.
enum class Role : std::uint8_t {
  knee_oa, knee_injury, knee_site, donor_derived, autologous_cell, cell_requires_knee_site, prolotherapy, prp,
  corticosteroid, hyaluronic_acid, nsaid, physical_therapy, knee_replacement, kellgren_lawrence,
  severe_joint_space, pain_score,
  count_
};
inline constexpr std::size_t kRoleCount = static_cast<std::size_t>(Role::count_);
// The JSON names of the roles, in enum order.
inline constexpr std::array<std::string_view, kRoleCount> kRoleNames{
    "kneeOa", "kneeInjury", "kneeSite", "donorDerived", "autologousCell", "cellRequiresKneeSite", "prolotherapy",
    "prp", "corticosteroid", "hyaluronicAcid", "nsaid", "physicalTherapy", "kneeReplacement", "kellgrenLawrence",
    "severeJointSpace", "painScore"};

struct Statuses {
  std::vector<std::string> history_procedure, history_medication_request, plan_care_plan, plan_service_request,
      plan_procedure, replacement_service_request, prior_cell_procedure;
};

// The scales the thresholds are on, which are not rule data but what the measures are: a
// Kellgren-Lawrence grade is 0 to 4, a pain numeric rating scale 0 to 10. A reading outside its
// scale is an error in the record and is not used.
inline constexpr int kKlGradeMax = 4;
inline constexpr double kPainNrsMax = 10;

struct Thresholds {
  int type1_age_below_years = 0;
  double type1_injury_within_months = 0;
  double type2_injury_older_than_months = 0;
  double type2_oa_at_least_years = 0;
  int type2_conservative_kinds_at_least = 0;
  std::vector<Role> type2_conservative_kinds;
  int type3_kl_grade_at_least = 0;
  double type3_oa_at_least_years = 0;
  int type3_prior_injection_kinds_at_least = 0;
  std::vector<Role> type3_prior_injection_kinds;
  long long single_shot_series_repeat_count_at_least = 0;
  double single_shot_quantity_at_most = 0;
  long long plan_series_repeat_count_at_least = 0;
  double plan_procedure_within_months = 0;
  double pain_nrs_at_least = 0;
  double pain_months_after_at_least = 0;
  double pain_relative_drop_below = 0;
};

struct Product {
  std::string text;
  std::optional<json::object> coding;  // a verified code, or none (text only)
};

struct PlanComponent {
  std::string route;    // "intra-articular" | "periarticular"
  std::string product;  // key into RuleSet::products
  int sessions = 0;
  int every_weeks = 0;
  std::string text;
  std::string note;
  bool omit_when_keeping_cell_order = false;  // the kept cell order already is this component

  // Compiled at load from the fields above and the "plan.component" text (compile_plans), so
  // proposing the component per card is a copy, not a rebuild:
  std::string line;  // "plan.component" rendered: what the component is, for descriptions
  // The proposed ServiceRequest's members that depend only on rule data, serialized, around the
  // patient's subject and bodySite that plan_create_actions writes between them:
  // {<request_head>,"subject":…,<request_timing>,"bodySite":[…],<request_note>,"reasonCode"…}.
  std::string request_head;    // "resourceType":…,"status":…,"intent":…,"code":{…}
  std::string request_timing;  // "occurrenceTiming":{…}
  std::string request_note;    // {"text":…}: the first element of "note"
};

struct Plan {
  std::string title;
  std::vector<PlanComponent> components;
  std::string note;
  std::vector<std::string> evidence;  // keys into RuleSet::evidence: its key studies, the plan card's links

  // Compiled at load, the parts of the plan card that depend only on rule data:
  std::string card_links;     // (compile_cards) its links, serialized array elements ("" if none)
  JsonTemplate text_json;     // (compile_plans) "plan.typed" for this plan, all but {{reasons}} filled in
};

struct Evidence {
  std::string key;
  std::string label;
  std::string citation;  // in full, for the evidence page
  std::string url;  // https://doi.org/<doi> or a plain URL
  std::string summary;
  bool verified = true;
};

struct OverrideReason {
  std::string code;
  std::string display;
  std::vector<std::string> only_for;  // rule ids; empty = every card
};

// Text keys are looked up by std::string_view (the engine builds them in stack buffers), in a
// hash table: a search tree compared long keys sharing their "cards.<rule>." prefix.
struct TextKeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
};
using TextMap = std::unordered_map<std::string, std::string, TextKeyHash, std::equal_to<>>;
using JsonTemplateMap = std::unordered_map<std::string, JsonTemplate, TextKeyHash, std::equal_to<>>;

struct CardStyle {
  std::string indicator;
  std::string topic_code;
  std::string topic_display;
  std::vector<std::string> links;  // evidence keys

  // Compiled at load (compile_cards), copied into each card rather than rebuilt:
  std::string link_objects;                    // the links above, serialized array elements ("" if none)
  std::vector<std::size_t> override_reasons;   // the reasons offered on this rule's cards (RuleSet::override_reasons)
};

}  // namespace rules::detail

namespace rules {

// Defined here (declared in engine.hpp) so the engine's parts can read it; callers outside
// rules/ only hold it through shared_ptr<const RuleSet>.
class RuleSet {
 public:
  using ValueSet = detail::ValueSet;
  using Role = detail::Role;
  using Plan = detail::Plan;
  using Evidence = detail::Evidence;

  std::string version;
  detail::SystemTable systems;
  std::vector<ValueSet> value_sets;
  std::array<std::size_t, detail::kRoleCount> role_index{};
  detail::ContextRules context;  // ConText: negated, historical, hypothetical, experiencer
  // The value-set roles that name what an order is for (a product or procedure): the first
  // clause of an order's text naming one of them, un-modified, is what the order is for.
  std::vector<Role> orderable_roles;
  detail::TermIndex term_index;  // one list per role, in Role order: the terms of vs(role)
  detail::CodeIndex code_index;  // one table per role, in Role order: the codes of vs(role)
  detail::Statuses statuses;
  detail::Thresholds thresholds;
  std::map<std::string, detail::Product, std::less<>> products;
  std::array<Plan, 3> plans;  // types 1, 2, 3
  std::vector<Evidence> evidence;
  std::vector<detail::OverrideReason> override_reasons;
  std::map<std::string, detail::CardStyle, std::less<>> card_styles;  // by rule id
  std::string source_label, source_path, topic_system_path, override_reason_system_path;
  std::string rules_page_path;      // the rules in force, for rule authors
  std::string evidence_page_label;  // the link to source_path on every card
  // The regulatory facts behind the donor-derived card, for the evidence page.
  std::string regulatory_title;
  std::vector<std::string> regulatory_facts;
  std::vector<std::string> regulatory_links;  // evidence keys
  std::string default_body_site;  // a serialized CodeableConcept
  // Every card and plan text, flattened: "cards.whole-joint-plan.summaryOrders" -> template.
  detail::TextMap texts;
  // The same texts compiled for card detail, which goes into JSON strings (JsonTemplate).
  detail::JsonTemplateMap json_texts;
  std::shared_ptr<EVP_MD> sha1;  // for card and suggestion ids (detail::Sha1), fetched at load

  const ValueSet& vs(Role r) const noexcept { return value_sets[role_index[static_cast<std::size_t>(r)]]; }
  // A text template; the loader guarantees every key the engine asks for exists.
  std::string_view text(std::string_view key) const noexcept {
    auto it = texts.find(key);
    return it == texts.end() ? std::string_view{} : std::string_view(it->second);
  }
  const detail::JsonTemplate& json_text(std::string_view key) const noexcept {
    static const detail::JsonTemplate none;
    auto it = json_texts.find(key);
    return it == json_texts.end() ? none : it->second;
  }
  const Evidence* find_evidence(std::string_view key) const noexcept {
    for (const Evidence& e : evidence)
      if (e.key == key) return &e;
    return nullptr;
  }
  const Plan* plan_for(std::string_view type) const noexcept {
    if (type == "1") return &plans[0];
    if (type == "2") return &plans[1];
    if (type == "3") return &plans[2];
    return nullptr;
  }
};

}  // namespace rules

namespace rules::detail {

// The template keys the engine uses and the placeholders each may contain; the loader checks
// knee-oa.json against this table so a typo in a placeholder fails at load, not in a card.
struct TextKey {
  std::string_view key;
  std::string_view placeholders;  // comma-separated names
};
std::span<const TextKey> required_text_keys() noexcept;

// Fills in each plan component's compiled parts (PlanComponent::line, ::service_request); the
// loader calls it once plans, products and texts are read (plan_builder.cpp).
void compile_plans(RuleSet& rules);
// Fills in the card parts that depend only on rule data (CardStyle::link_objects,
// ::override_reasons, Plan::card_links); called after compile_plans (card_builder.cpp).
void compile_cards(RuleSet& rules);

}  // namespace rules::detail
