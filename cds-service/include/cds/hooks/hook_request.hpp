#pragma once
// Parsing and validating a CDS Hooks 2.0 service request (the body of POST /cds-services/{id}).
#include "cds/http/api_error.hpp"
#include "cds/hooks/services.hpp"
#include "rules/engine.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cds {

// A malformed FHIR element that was removed before the rules ran: where it was (the part of
// the request, then the FHIR path: "context.draftOrders: Bundle.entry[0].resource.ServiceRequest.reasonCode"),
// never its value; and whether a rule reads such an element (then the call is `incomplete`).
struct DataIssue {
  std::string path;
  bool read_by_rules = true;
};

struct HookRequest {
  // `body_size` sizes the arena: the parsed tree takes about four times the text.
  explicit HookRequest(std::size_t body_size) : arena(body_size * 4 + 1024), document(&arena) {}
  HookRequest(const HookRequest&) = delete;  // `input` points into `document`
  HookRequest& operator=(const HookRequest&) = delete;

  // The parsed body lives in one per-request arena: parsing costs a few allocations instead of
  // one per JSON node (thousands for a 60-resource prefetch), and dropping the request frees it
  // all at once. Declared first, so it outlives the document.
  boost::json::monotonic_resource arena;
  boost::json::value document;  // the parsed body, in `arena`; everything below views into it
  const ServiceDefinition* service = nullptr;
  rules::HookInput input;
  std::string_view fhir_server;                              // empty when absent
  const boost::json::object* fhir_authorization = nullptr;  // null when absent
  std::string_view user_id, patient_id, encounter_id;
  // Prefetch keys the service asked for that the client did not satisfy (absent, or an
  // OperationOutcome instead of data). A key sent as null was satisfied with "no data".
  std::vector<std::string_view> missing_prefetch;
  // Keys sent as null ("the query found nothing"). With a fhirServer we fetch them again to be
  // sure; without one they stand as "no data" (not missing, so no 412).
  std::vector<std::string_view> null_prefetch;
  // Keys whose value was not a FHIR resource at all (replaced by null): treated as missing.
  std::vector<std::string_view> unsatisfied_prefetch;
  // Malformed elements removed from the draft orders and prefetch (and from fetched data).
  std::vector<DataIssue> data_issues;
  // After gathering: the prefetch the rules read (the client's plus what we fetched), and the
  // keys we could get neither way — the rules must not flag what depends on them.
  boost::json::value gathered_prefetch;
  std::vector<std::string_view> unavailable;
};

// Parses `body` and checks it against CDS Hooks 2.0 and the service's hook. Errors name the
// offending field and carry status 400.
std::variant<std::unique_ptr<HookRequest>, ApiError> parse_hook_request(const ServiceDefinition& service,
                                                                        std::string_view body);

// The data-gathering decision before rules run: 412 only when no patient data at all can be
// had (every prefetch key missing, none sent even as null, and no fhirServer to fetch from).
std::optional<ApiError> check_data_available(const HookRequest& request);

// Without a fhirServer to fetch from, the missing keys are unavailable (as a failed fetch is):
// the rules advise on the rest and the call is recorded `incomplete`.
void settle_unfetchable(HookRequest& request);

// Why a resource or searchset Bundle fetched from the FHIR server for this request cannot be
// used ("" when it can): a fatal FHIR R4 issue (as for a client's prefetch), or a Patient other
// than context.patientId. Malformed elements are removed from `fetched` and added to
// `data_issues` under "fetched.<key>". Names a path and a reason, never a value from the record.
std::string fetched_data_problem(boost::json::value& fetched, std::string_view patient_id, std::string_view key,
                                 std::vector<DataIssue>& data_issues);

// The 200 answer's body, {"cards": [...]}, around the cards the engine wrote as JSON text.
std::string hook_response_body(std::string_view cards_json);

}  // namespace cds
