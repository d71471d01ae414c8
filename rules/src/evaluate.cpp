// evaluate(): which rules fire for one hook request, and the cards they produce.
#include "rules/detail/card_builder.hpp"

namespace rules {
namespace {

using namespace rules::detail;

std::string_view context_string(const HookInput& in, std::string_view key) {
  return fhir::string_field(in.context, key);
}

bool selected(const HookInput& in, const json::object& order) {
  const json::array* selections = fhir::array_field(in.context, "selections");
  if (selections == nullptr) return false;
  const fhir::Order o(&order);
  for (const json::value& s : *selections)
    if (const json::string* ref = s.if_string(); ref && o.has_reference(*ref)) return true;
  return false;
}

OrderRecord order_record(const OrderFacts& f) {
  OrderRecord r{std::string(f.ref.view()), {}, std::string(category_name(f.category))};
  for (fhir::Coding c : fhir::Order(f.resource).code().codings())
    if (!c.code().empty()) r.codes.push_back(std::string(c.system()) + "|" + std::string(c.code()));
  return r;
}

bool unavailable(const HookInput& in, std::string_view key) {
  return std::find(in.unavailable.begin(), in.unavailable.end(), key) != in.unavailable.end();
}

}  // namespace

Evaluation evaluate(const HookInput& input, const RuleSet& rules, const EvalOptions& options) {
  Evaluation ev;
  if (input.context == nullptr) return ev;
  ClinicalRecord record;
  collect_record(input, record);
  ConceptMatcher m(rules, options.now);
  const ResourceList knee_oa = knee_oa_conditions(record, m);

  // Per-evaluation temporaries (the draft orders' facts, the text cards are assembled from: each
  // card's detail is up to 800 characters) live here, so the analysis and the card text allocate
  // nothing on the heap.
  std::array<std::byte, 64 * 1024> scratch_buffer;
  std::pmr::monotonic_buffer_resource scratch(scratch_buffer.data(), scratch_buffer.size());
  std::pmr::vector<OrderFacts> facts(&scratch);  // the evaluated draft orders, in draftOrders order
  SmallVector<const OrderFacts*, 8> donor, single_shot, prior_donor;
  std::optional<PersistingPain> pain;

  if (input.hook == "order-select" || input.hook == "order-sign") {
    const bool select = input.hook == "order-select";
    bool prolotherapy_ordered = false;
    facts.reserve(record.draft_orders.size());
    ev.orders.reserve(record.draft_orders.size());  // one heap block for the audit's order list
    for (const json::object* o : record.draft_orders) {
      OrderFacts f = classify_order(*o, m, record.index);
      prolotherapy_ordered = prolotherapy_ordered || f.prolotherapy;  // every draft order counts here
      if (select && !selected(input, *o)) continue;
      ev.orders.push_back(order_record(f));
      facts.push_back(std::move(f));
    }
    std::optional<bool> plan_on_record;  // looked up only when a single shot needs it
    for (const OrderFacts& f : facts) {
      // A knee-OA patient's order that names a donor-derived injection given before: context
      // for the plan card, never a flag on this order.
      if (!f.past_donor.empty() && (!knee_oa.empty() || f.knee_oa_reason)) prior_donor.push_back(&f);
      if (!f.is_knee_cell_injection() || (knee_oa.empty() && !f.knee_oa_reason)) continue;
      if (f.category == Category::donor) {
        donor.push_back(&f);
        continue;
      }
      // "No whole-joint plan" can only be said of a procedure history we have: when it could
      // not be had, the single-shot warning is not justified and does not fire.
      if (!f.single_shot || prolotherapy_ordered || unavailable(input, "procedures")) continue;
      if (!plan_on_record) plan_on_record = plan_in_record(record, m, options.now) != nullptr;
      if (!*plan_on_record) single_shot.push_back(&f);
    }
  } else if (input.hook == "patient-view") {
    pain = find_persisting_pain(record, knee_oa, m, options.now);
    if (pain && plan_in_record(record, m, options.now) != nullptr) pain.reset();  // already on a plan
  }
  if (donor.empty() && single_shot.empty() && prior_donor.empty() && !pain) return ev;

  const PatientTyping typing = type_patient(record, knee_oa, m, options.now, &scratch);
  ev.patient_type.assign(typing.type.data(), typing.type.size());
  std::string_view base(options.base_url);
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  Sha1 ids(rules.sha1.get());
  // Room for the cards text, so it is not copied as it grows: a card's detail is under 1 KiB,
  // and the rest of a card (its suggestions and proposed orders) is 6-7 KiB.
  const std::size_t cards = donor.size() + single_shot.size() + 1;
  CardsText out(ev.cards_json);
  ev.cards_json.clear();
  ev.card_records.reserve(cards);
  CardInputs in{rules, options, base, context_string(input, "patientId"), typing, knee_oa, &scratch, {}, {}, &ids, &out,
                &ev.card_records};
  const Text plan = plan_json(in);
  in.plan_json = plan;
  Text more(&scratch);  // the link to the evidence page, in every card's detail
  if (!base.empty()) {
    Text url(&scratch);
    url.append(base).append(rules.source_path);
    rules.json_text("more").render_to(more, {{"url", url}});
  }
  in.more_json = more;
  ev.cards_json.reserve(cards * 8 * 1024);

  out.begin_array();
  // Flag cards in draftOrders order, donor and single-shot interleaved as ordered.
  SmallVector<const OrderFacts*, 8> flagged;
  for (const OrderFacts& f : facts) {
    if (std::find(donor.begin(), donor.end(), &f) != donor.end()) {
      donor_card(in, f);
      flagged.push_back(&f);
    } else if (std::find(single_shot.begin(), single_shot.end(), &f) != single_shot.end()) {
      single_shot_card(in, f);
      flagged.push_back(&f);
    }
  }
  const std::span<const OrderFacts* const> context(prior_donor.data(), prior_donor.size());
  if (!flagged.empty()) plan_card_for_orders(in, std::span<const OrderFacts* const>(flagged.data(), flagged.size()), context);
  else if (!prior_donor.empty()) plan_card_for_prior_donor(in, context);
  if (pain) plan_card_for_patient_view(in, *pain);
  out.end_array();
  return ev;
}

}  // namespace rules
