// POST /cds-services/{id}/feedback (CDS Hooks 2.0): what the clinician did with a card.
// Every item is checked against the card as it was issued (by this service, with these
// suggestions and override reasons) before anything is stored; stored means committed.
#include "cds/app.hpp"
#include "cds/http/helpers.hpp"
#include "cds/hooks/services.hpp"

namespace cds {
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

std::variant<FeedbackRecord, ApiError> check_item(const json::value& v, std::size_t index,
                                                  const ServiceDefinition& service, AuditStore& audit) {
  // The card lookup may reach a database (shared store): one that cannot be read is a 503, not
  // "no such card".
  const std::string at = "feedback[" + std::to_string(index) + "]";
  const json::object* item = v.if_object();
  if (item == nullptr) return bad_request("'" + at + "' must be an object");
  FeedbackRecord f;
  f.card_uuid = fhir::string_field(item, "card");
  if (f.card_uuid.empty()) return bad_request("'" + at + ".card' is required (the card's uuid)");
  auto lookup = audit.lookup_card(f.card_uuid);
  if (std::holds_alternative<StoreUnavailable>(lookup)) return ApiError{503, "the audit store cannot be read; try again later"};
  const auto& card = std::get<std::optional<IssuedCard>>(lookup);
  if (!card) return bad_request("'" + at + ".card' names no card this service issued");
  if (card->service_id != service.id)
    return bad_request("'" + at + ".card' was issued by service " + card->service_id + ", not " + std::string(service.id));
  f.service_id = service.id;

  f.outcome = fhir::string_field(item, "outcome");
  if (f.outcome != "accepted" && f.outcome != "overridden")
    return bad_request("'" + at + ".outcome' must be \"accepted\" or \"overridden\"");

  const json::value* accepted = item->if_contains("acceptedSuggestions");
  if (f.outcome == "accepted" && accepted == nullptr)
    return bad_request("'" + at + ".acceptedSuggestions' is required when the outcome is accepted");
  if (accepted != nullptr) {
    const json::array* list = accepted->if_array();
    if (list == nullptr || list->empty())
      return bad_request("'" + at + ".acceptedSuggestions' must be a non-empty array of {\"id\": ...}");
    for (std::size_t i = 0; i < list->size(); ++i) {
      auto id = fhir::string_field((*list)[i].if_object(), "id");
      auto& offered = card->suggestion_uuids;
      if (id.empty() || std::find(offered.begin(), offered.end(), id) == offered.end())
        return bad_request("'" + at + ".acceptedSuggestions[" + std::to_string(i) + "].id' is not a suggestion of that card");
      f.accepted_suggestions.emplace_back(id);
    }
  }

  if (const json::value* override_reason = item->if_contains("overrideReason")) {
    const json::object* o = override_reason->if_object();
    if (o == nullptr) return bad_request("'" + at + ".overrideReason' must be an object");
    if (const json::value* reason = o->if_contains("reason")) {
      const json::object* coding = reason->if_object();
      std::string code = std::string(fhir::string_field(coding, "system")) + "|" + std::string(fhir::string_field(coding, "code"));
      auto& offered = card->override_reason_codes;
      if (coding == nullptr || std::find(offered.begin(), offered.end(), code) == offered.end())
        return bad_request("'" + at + ".overrideReason.reason' is not one of the card's overrideReasons");
      f.override_reason = std::move(code);
    }
    if (const json::value* comment = o->if_contains("userComment")) {
      if (!comment->is_string()) return bad_request("'" + at + ".overrideReason.userComment' must be a string");
      f.has_user_comment = !comment->get_string().empty();
    }
  }

  f.outcome_timestamp = fhir::string_field(item, "outcomeTimestamp");
  auto when = fhir::parse_date_time(f.outcome_timestamp);
  if (!when || when->precision != fhir::Precision::second)
    return bad_request("'" + at + ".outcomeTimestamp' must be an ISO 8601 date-time");
  return f;
}

}  // namespace

void App::feedback(const ServiceDefinition& service, HttpRequest&& req, Principal principal, Respond respond) {
  auto reject = [&](const ApiError& e) {
    HttpResponse res = json_response(e.status, error_body(e), req);
    if (e.status == 503) res.set(http::field::retry_after, "5");
    respond(std::move(res));
  };
  if (!is_json_content_type(req[http::field::content_type])) return reject({415, "Content-Type must be application/json"});
  boost::system::error_code ec;
  json::value body = json::parse(req.body(), ec);
  if (ec) return reject(bad_request("request body is not valid JSON: " + ec.message()));
  const json::array* items = fhir::array_field(body.if_object(), "feedback");
  if (items == nullptr || items->empty()) return reject(bad_request("'feedback' must be a non-empty array"));

  std::vector<FeedbackRecord> records;
  const std::string now = iso_utc(std::chrono::system_clock::now());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto checked = check_item((*items)[i], i, service, audit_);
    if (auto* e = std::get_if<ApiError>(&checked)) return reject(*e);
    auto& f = std::get<FeedbackRecord>(checked);
    f.received_at = now;
    f.jwt_iss = principal.iss;
    f.jwt_sub = principal.sub;
    f.tenant = principal.tenant;
    if (audit_.shared() && !principal.jti.empty()) f.token = {principal.iss, principal.jti, principal.jti_expires_unix};
    records.push_back(std::move(f));
  }
  HttpResponse ok = json_response(200, {}, req);
  ok.erase(http::field::content_type);
  ok.content_length(0);
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  std::string origin(req[http::field::origin]);
  const std::size_t count = records.size();
  auto request = std::make_shared<HttpRequest>(std::move(req));  // for a 401 on replay
  audit_.submit(std::move(records), [this, ok = std::move(ok), respond = std::move(respond), version, keep_alive,
                                     origin, count, request](Committed fate) mutable {
    if (fate.replay) return refuse(AuthFailure{"jti has already been used"}, *request, respond);
    if (fate.durable) metrics_.feedback_items.fetch_add(count, std::memory_order_relaxed);
    respond(fate.durable ? std::move(ok) : audit_unavailable(version, keep_alive, origin));
  });
}

}  // namespace cds
