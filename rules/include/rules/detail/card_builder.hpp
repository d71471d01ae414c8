#pragma once
// CDS Hooks 2.0 cards for the three rules, all text from knee-oa.json templates. Cards are built
// straight into the caller's JSON storage (EvalOptions::storage); the strings they are made of
// are written there directly or assembled on a per-evaluation scratch arena.
#include "rules/detail/patient_type.hpp"
#include "rules/detail/treatment_history.hpp"

#include <memory_resource>

namespace rules::detail {

using Text = std::pmr::string;  // card text being assembled, on CardInputs::scratch

// Everything a card needs beyond the one order or injection it is about.
struct CardInputs {
  const RuleSet& rules;
  const EvalOptions& options;
  std::string_view base_url;  // options.base_url without a trailing '/'
  std::string_view patient_id;
  const PatientTyping& typing;
  const ResourceList& knee_oa;  // knee-OA Conditions in the record
  json::storage_ptr sp;         // where the cards go
  std::pmr::memory_resource* scratch;
  std::string_view plan;        // plan_markdown(), rendered once for every card
  Sha1* ids;                    // card and suggestion uuids
};

json::object donor_card(const CardInputs& in, const OrderFacts& order);
json::object single_shot_card(const CardInputs& in, const OrderFacts& order);
// The one whole-joint-plan card that accompanies the flag cards of an order hook.
json::object plan_card_for_orders(const CardInputs& in, std::span<const OrderFacts* const> flagged);
// The patient-view card after a single cell injection with persisting pain.
json::object plan_card_for_patient_view(const CardInputs& in, const PersistingPain& pain);

// ---- plan parts (plan_builder.cpp) ----------------------------------------------------------

// The typed plan as markdown ("unknown" type: what data is missing and the principles).
Text plan_markdown(const CardInputs& in);

struct PlanTarget {
  const json::object* body_site = nullptr;    // the order's knee site; null: the default knee region
  const json::object* reason = nullptr;       // the order's knee-OA reason: reasonCode without a problem-list code
  std::string_view replaces;                  // the flagged order this plan replaces, or empty
  bool keep_cell_order = false;               // the flagged cell order stays as the plan's cell session
};

// Appends `create` actions to `actions`, one ServiceRequest per plan component; none when the
// type is unknown.
void plan_create_actions(const CardInputs& in, const PlanTarget& target, std::string_view description_template,
                         json::array& actions);

// A CodeableConcept from request data, keeping only non-empty text and complete codings (so a
// created resource never carries the EHR's empty strings or nulls). Empty object when nothing is left.
json::object clean_concept(const json::object* concept_json, json::storage_ptr sp = {});

}  // namespace rules::detail
