#pragma once
// CDS Hooks 2.0 cards for the three rules, all text from knee-oa.json templates. Cards are
// written as JSON text (json_text.hpp) straight into Evaluation::cards_json, each with its
// CardRecord; the strings they are made of are assembled on a per-evaluation scratch arena.
#include "rules/detail/json_text.hpp"
#include "rules/detail/patient_type.hpp"
#include "rules/detail/treatment_history.hpp"

#include <memory_resource>

namespace rules::detail {

using Text = std::pmr::string;  // card text being assembled, on CardInputs::scratch
using CardsText = JsonText<std::string>;  // the cards array being written
using TextJson = JsonText<Text>;          // a piece serialized once, copied into several cards

// Everything a card needs beyond the one order or injection it is about.
struct CardInputs {
  const RuleSet& rules;
  const EvalOptions& options;
  std::string_view base_url;  // options.base_url without a trailing '/'
  std::string_view patient_id;
  const PatientTyping& typing;
  const ResourceList& knee_oa;  // knee-OA Conditions in the record
  std::pmr::memory_resource* scratch;
  std::string_view plan_json;   // plan_json(), rendered once for every card
  std::string_view more_json;   // the detail's link to the evidence page (JSON-escaped), or empty
  Sha1* ids;                    // card and suggestion uuids
  CardsText* out;               // where the cards go, as elements of the open cards array
  std::vector<CardRecord>* records;  // one appended per card written
};

void donor_card(const CardInputs& in, const OrderFacts& order);
void single_shot_card(const CardInputs& in, const OrderFacts& order);
// The one whole-joint-plan card that accompanies the flag cards of an order hook.
// `prior_donor`: evaluated orders that name a prior donor-derived injection, as context.
void plan_card_for_orders(const CardInputs& in, std::span<const OrderFacts* const> flagged,
                          std::span<const OrderFacts* const> prior_donor);
// The plan card when no order is flagged but an order of a knee-OA patient names a prior
// donor-derived injection (OrderFacts::past_donor): context, never a flag.
void plan_card_for_prior_donor(const CardInputs& in, std::span<const OrderFacts* const> naming);
// The patient-view card after a single cell injection with persisting pain.
void plan_card_for_patient_view(const CardInputs& in, const PersistingPain& pain);

// ---- plan parts (plan_builder.cpp) ----------------------------------------------------------

// The typed plan as markdown ("unknown" type: what data is missing and the principles),
// JSON-escaped for the cards' detail.
Text plan_json(const CardInputs& in);

struct PlanTarget {
  const json::object* body_site = nullptr;    // the order's knee site; null: the default knee region
  const json::object* reason = nullptr;       // the order's knee-OA reason: reasonCode without a problem-list code
  std::string_view replaces;                  // the flagged order this plan replaces, or empty
  bool keep_cell_order = false;               // the flagged cell order stays as the plan's cell session
};

// How many `create` actions plan_create_actions writes for `target`: none when the type is unknown.
std::size_t plan_create_count(const CardInputs& in, const PlanTarget& target);

// Writes `create` actions into the open actions array, one ServiceRequest per plan component.
void plan_create_actions(const CardInputs& in, const PlanTarget& target, std::string_view description_template);

// A CodeableConcept from request data, keeping only non-empty text and complete codings (so a
// created resource never carries the EHR's empty strings or nulls), written to `out`; false when
// nothing is left (`out` then holds {}).
bool clean_concept_to(TextJson& out, const json::object* concept_json);

}  // namespace rules::detail
