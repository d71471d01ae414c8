#include "cds/hooks/hook_request.hpp"

#include "cds/http/url.hpp"

#include "fhir/bundle.hpp"
#include "fhir/reference_index.hpp"
#include "fhir/resources.hpp"
#include "fhir/validate.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory_resource>
#include <tuple>
#include <vector>


namespace cds {
namespace json = boost::json;

namespace {

using fhir::string_field;

std::optional<ApiError> require_string(const json::object& o, std::string_view key, std::string_view path,
                                       std::string_view& out, bool required = true) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) return bad_request("missing required field '" + std::string(path) + "'");
    return std::nullopt;
  }
  const json::string* s = v->if_string();
  if (s == nullptr || s->empty()) return bad_request("'" + std::string(path) + "' must be a non-empty string");
  out = *s;
  return std::nullopt;
}

// The FHIR checks on one resource of the request, named `source` ("context.draftOrders",
// "prefetch.conditions"). A fatal issue (no resourceType, an id that is not a FHIR id) refuses
// the request: 400. Any other malformed element is removed, so no rule ever reads it, and
// recorded as a data-quality issue (where it was, never its value).
std::optional<ApiError> drop_malformed(json::value& resource, std::string_view source, HookRequest& r) {
  auto issues = fhir::drop_malformed(resource);
  for (const fhir::Issue& i : issues)
    if (i.fatal) return bad_request("'" + std::string(source) + "' is not valid FHIR R4: " + i.path + ": " + i.message);
  for (fhir::Issue& i : issues) r.data_issues.push_back({std::string(source) + ": " + i.path, i.read_by_rules});
  return std::nullopt;
}

std::optional<ApiError> check_fhir_authorization(const json::object& auth) {
  std::string_view s;
  for (std::string_view key : {"access_token", "token_type", "scope", "subject"})
    if (auto e = require_string(auth, key, "fhirAuthorization." + std::string(key), s)) return e;
  if (string_field(&auth, "token_type") != "Bearer") return bad_request("'fhirAuthorization.token_type' must be \"Bearer\"");
  const json::value* exp = auth.if_contains("expires_in");
  if (exp == nullptr) return bad_request("missing required field 'fhirAuthorization.expires_in'");
  if (!exp->is_int64() && !exp->is_uint64()) return bad_request("'fhirAuthorization.expires_in' must be an integer");
  return std::nullopt;
}

// Cards name a draft order as Type/id, as CDS Hooks' selections and a delete action's resourceId
// do, and a card's uuid is derived from that name: so each order needs an id, and no other
// draft order of its type may have the same one. Without an id no suggestion could refer to the
// order; two under one name would be two cards with one uuid, which the audit refuses.
std::optional<ApiError> check_order_ids(const json::object& bundle) {
  const json::array* entries = fhir::array_field(&bundle, "entry");
  if (entries == nullptr) return std::nullopt;
  struct Name {
    std::string_view type, id;
    std::size_t entry;
  };
  // On the stack for the few orders a request has (a heap block only past 32), as the rest of
  // validation allocates nothing.
  std::array<std::byte, 32 * sizeof(Name)> room;
  std::pmr::monotonic_buffer_resource arena(room.data(), room.size());
  std::pmr::vector<Name> names(&arena);
  names.reserve(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const json::object* resource = fhir::object_field((*entries)[i].if_object(), "resource");
    if (!fhir::Order::is_order(resource)) continue;
    const std::string_view id = string_field(resource, "id");
    if (id.empty())
      return bad_request("missing required field 'context.draftOrders.entry[" + std::to_string(i) +
                         "].resource.id': cards and their suggestions refer to a draft order by its id");
    names.push_back({string_field(resource, "resourceType"), id, i});
  }
  // Sorted by name (entry order within one), so a repeat sits right after the first of its name.
  std::sort(names.begin(), names.end(), [](const Name& a, const Name& b) {
    return std::tie(a.type, a.id, a.entry) < std::tie(b.type, b.id, b.entry);
  });
  for (std::size_t k = 1; k < names.size(); ++k)
    if (names[k].type == names[k - 1].type && names[k].id == names[k - 1].id)
      return bad_request("'context.draftOrders.entry[" + std::to_string(names[k].entry) + "]' repeats entry[" +
                         std::to_string(names[k - 1].entry) + "] (" + std::string(names[k].type) + "/" +
                         std::string(names[k].id) + "): each draft order must appear once");
  return std::nullopt;
}

std::optional<ApiError> check_draft_orders(json::object& context, std::string_view hook, HookRequest& r) {
  json::value* d = context.if_contains("draftOrders");
  if (d == nullptr) return bad_request("missing required field 'context.draftOrders' for hook " + std::string(hook));
  if (!fhir::Bundle::is_bundle(*d)) return bad_request("'context.draftOrders' must be a FHIR Bundle");
  if (auto e = drop_malformed(*d, "context.draftOrders", r)) return e;
  return check_order_ids(d->get_object());
}

std::optional<ApiError> check_selections(const json::object& context) {
  const json::value* s = context.if_contains("selections");
  if (s == nullptr) return bad_request("missing required field 'context.selections' for hook order-select");
  const json::array* a = s->if_array();
  if (a == nullptr || a->empty()) return bad_request("'context.selections' must be a non-empty array of references");
  fhir::ReferenceIndex drafts;
  drafts.add(context.at("draftOrders"));
  for (std::size_t i = 0; i < a->size(); ++i) {
    const json::string* ref = (*a)[i].if_string();
    std::string path = "context.selections[" + std::to_string(i) + "]";
    std::string_view type, id;
    if (ref == nullptr || !fhir::split_reference(*ref, type, id))
      return bad_request("'" + path + "' must be a reference such as \"ServiceRequest/abc\"");
    if (drafts.resolve(*ref) == nullptr) return bad_request("'" + path + "' names no entry of context.draftOrders");
  }
  return std::nullopt;
}

std::optional<ApiError> check_context(json::object& context, HookRequest& r) {
  if (auto e = require_string(context, "userId", "context.userId", r.user_id)) return e;
  if (auto e = require_string(context, "patientId", "context.patientId", r.patient_id)) return e;
  if (auto e = require_string(context, "encounterId", "context.encounterId", r.encounter_id, false)) return e;
  std::string_view hook = r.input.hook;
  if (hook == "order-select" || hook == "order-sign")
    if (auto e = check_draft_orders(context, hook, r)) return e;
  if (hook == "order-select")
    if (auto e = check_selections(context)) return e;
  return std::nullopt;
}

bool is_operation_outcome(const json::value& v) {
  const json::object* o = v.if_object();
  return o && string_field(o, "resourceType") == "OperationOutcome";
}

std::optional<ApiError> check_prefetch(json::value* prefetch, HookRequest& r) {
  json::object* p = nullptr;
  if (prefetch != nullptr && !prefetch->is_null()) {
    p = prefetch->if_object();
    if (p == nullptr) return bad_request("'prefetch' must be an object");
    for (auto& kv : *p) {
      if (kv.value().is_null()) continue;
      const std::string source = "prefetch." + std::string(kv.key());
      if (!kv.value().is_object()) {
        // Not a resource at all: the key is as good as missing (fetched, or else unavailable).
        // Only a key the service asked for is read by the rules.
        const auto& wanted = r.service->prefetch;
        r.data_issues.push_back({source, std::any_of(wanted.begin(), wanted.end(), [&](const auto& t) { return t.key == kv.key(); })});
        kv.value() = nullptr;
        r.unsatisfied_prefetch.push_back(kv.key());
        continue;
      }
      if (auto e = drop_malformed(kv.value(), source, r)) return e;
    }
  }
  r.input.prefetch = p;
  for (const auto& t : r.service->prefetch) {
    const json::value* v = p ? p->if_contains(t.key) : nullptr;
    const bool unsatisfied = std::find(r.unsatisfied_prefetch.begin(), r.unsatisfied_prefetch.end(), t.key) !=
                             r.unsatisfied_prefetch.end();
    if (v == nullptr || unsatisfied || is_operation_outcome(*v)) r.missing_prefetch.push_back(t.key);
    else if (v->is_null()) r.null_prefetch.push_back(t.key);
  }
  return std::nullopt;
}

}  // namespace

std::variant<std::unique_ptr<HookRequest>, ApiError> parse_hook_request(const ServiceDefinition& service,
                                                                        std::string_view body) {
  auto r = std::make_unique<HookRequest>(body.size());
  boost::system::error_code ec;
  r->document = json::parse(body, ec, json::storage_ptr(&r->arena));
  if (ec) return bad_request("request body is not valid JSON: " + ec.message());
  const json::object* root = r->document.if_object();
  if (root == nullptr) return bad_request("request body must be a JSON object");
  r->service = &service;

  std::string_view hook;
  if (auto e = require_string(*root, "hook", "hook", hook)) return *e;
  if (hook != service.hook)
    return bad_request("'hook' is \"" + std::string(hook) + "\" but service " + std::string(service.id) +
                       " answers \"" + std::string(service.hook) + "\"");
  r->input.hook = service.hook;
  r->input.service_id = service.id;
  if (auto e = require_string(*root, "hookInstance", "hookInstance", r->input.hook_instance)) return *e;
  if (auto e = require_string(*root, "fhirServer", "fhirServer", r->fhir_server, false)) return *e;
  if (!r->fhir_server.empty()) {
    if (!parse_http_url(r->fhir_server))
      return bad_request("'fhirServer' must be an absolute http(s) URL");
  }
  if (const json::value* auth = root->if_contains("fhirAuthorization")) {
    if (!auth->is_object()) return bad_request("'fhirAuthorization' must be an object");
    if (r->fhir_server.empty()) return bad_request("'fhirAuthorization' is only allowed together with 'fhirServer'");
    if (auto e = check_fhir_authorization(auth->get_object())) return *e;
    r->fhir_authorization = &auth->get_object();
  }
  // Mutable from here on: malformed FHIR elements are removed before any rule reads the data.
  json::object& body_object = r->document.get_object();
  json::value* context = body_object.if_contains("context");
  if (context == nullptr) return bad_request("missing required field 'context'");
  if (!context->is_object()) return bad_request("'context' must be an object");
  r->input.context = &context->get_object();
  if (auto e = check_context(context->get_object(), *r)) return *e;
  if (auto e = check_prefetch(body_object.if_contains("prefetch"), *r)) return *e;
  return r;
}

std::optional<ApiError> check_data_available(const HookRequest& r) {
  if (r.missing_prefetch.empty() || !r.fhir_server.empty()) return std::nullopt;
  // Some patient data (a key sent, even as null) is enough to advise on: the rest is unavailable.
  if (r.service != nullptr && r.missing_prefetch.size() < r.service->prefetch.size()) return std::nullopt;
  std::string keys;
  for (auto k : r.missing_prefetch) keys += (keys.empty() ? "" : ", ") + std::string(k);
  return ApiError{412, "prefetch not satisfied for: " + keys + "; and no fhirServer to fetch it from"};
}

void settle_unfetchable(HookRequest& r) {
  if (r.missing_prefetch.empty() || !r.fhir_server.empty()) return;
  r.unavailable.insert(r.unavailable.end(), r.missing_prefetch.begin(), r.missing_prefetch.end());
  r.missing_prefetch.clear();
}

std::string fetched_data_problem(json::value& fetched, std::string_view patient_id, std::string_view key,
                                 std::vector<DataIssue>& data_issues) {
  auto issues = fhir::drop_malformed(fetched);
  for (const fhir::Issue& i : issues)
    if (i.fatal) return "not valid FHIR R4: " + i.path + ": " + i.message;
  for (fhir::Issue& i : issues) data_issues.push_back({"fetched." + std::string(key) + ": " + i.path, i.read_by_rules});
  const json::object* o = fetched.if_object();
  if (string_field(o, "resourceType") == "Patient" && string_field(o, "id") != patient_id)
    return "a Patient other than context.patientId";
  return {};
}

std::string hook_response_body(std::string_view cards_json) {
  constexpr std::string_view open = "{\"cards\":", close = "}";
  std::string body;
  body.reserve(open.size() + cards_json.size() + close.size());
  body.append(open).append(cards_json).append(close);
  return body;
}

}  // namespace cds
