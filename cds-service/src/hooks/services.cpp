#include "cds/hooks/services.hpp"

namespace cds {
namespace {

// The rules read the patient, knee conditions, the procedure history and observations (pain
// scores, imaging grade). Searches are by patient; the rules filter by code, so a client's
// prefetch never has to understand our value sets.
constexpr std::array<PrefetchTemplate, 4> kPrefetch{{
    {"patient", "Patient/{{context.patientId}}"},
    {"conditions", "Condition?patient={{context.patientId}}"},
    {"procedures", "Procedure?patient={{context.patientId}}"},
    {"observations", "Observation?patient={{context.patientId}}"},
}};

constexpr std::array<ServiceDefinition, 3> kServices{{
    {"knee-oa-order-select", "order-select", "Knee OA: regenerative injection order check",
     "When a clinician selects a stem-cell or other regenerative injection for a knee with osteoarthritis, flags "
     "donor-derived products and single-shot injections without a whole-joint plan, and suggests a plan fitted to "
     "the patient.",
     kPrefetch},
    {"knee-oa-order-sign", "order-sign", "Knee OA: regenerative injection order review at signing",
     "Before orders are signed, flags donor-derived \"stem cell\" products and single-shot knee injections without a "
     "whole-joint plan, and suggests a series of intra-articular and periarticular treatments fitted to the patient.",
     kPrefetch},
    {"knee-oa-patient-view", "patient-view", "Knee OA: whole-joint plan after a single stem-cell injection",
     "When a patient with knee osteoarthritis had a single stem-cell injection and pain persists, recommends a "
     "whole-joint treatment plan as a series, with the evidence cited.",
     kPrefetch},
}};

}  // namespace

std::span<const ServiceDefinition> services() noexcept { return kServices; }

const ServiceDefinition* find_service(std::string_view id) noexcept {
  for (const auto& s : kServices)
    if (s.id == id) return &s;
  return nullptr;
}

boost::json::value discovery_document() {
  boost::json::array list;
  for (const auto& s : kServices) {
    boost::json::object prefetch;
    for (const auto& p : s.prefetch) prefetch[p.key] = p.query;
    list.push_back(boost::json::object{{"hook", s.hook},
                                       {"id", s.id},
                                       {"title", s.title},
                                       {"description", s.description},
                                       {"prefetch", std::move(prefetch)}});
  }
  return boost::json::object{{"services", std::move(list)}};
}

}  // namespace cds
