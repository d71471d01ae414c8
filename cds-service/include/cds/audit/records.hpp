#pragma once
// What the audit trail records: one row per invocation (with its cards and evaluated orders)
// and per feedback item. Backend-neutral: every AuditStore writes these.
#include "rules/engine.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cds {

// A JWT's single use: (iss, jti), remembered until `expires_unix` (its exp plus the clock
// skew; seconds since 1970). A shared store claims it in the same commit as the record that
// carries it, so a token accepted by one replica is refused by every other. Empty when
// authentication is off.
struct TokenUse {
  std::string iss, jti;
  std::int64_t expires_unix = 0;
  bool empty() const noexcept { return jti.empty(); }
};

struct InvocationRecord {
  std::string received_at;  // ISO 8601 UTC, milliseconds
  std::string hook, service_id, hook_instance;
  std::string user_id, encounter_id;
  std::string patient_ref;  // pseudonymised unless configured otherwise
  std::string jwt_iss, jwt_sub, tenant;
  std::string rules_version;
  std::string outcome;  // "ok" | "incomplete" | "rejected"
  unsigned http_status = 200;
  std::int64_t latency_us = 0;
  std::string patient_type;
  std::vector<rules::CardRecord> cards;  // with what feedback on each is checked against
  std::vector<rules::OrderRecord> orders;
  // Malformed FHIR elements dropped before the rules ran: where ("context.draftOrders:
  // Bundle.entry[0].resource.ServiceRequest.reasonCode"), never the value.
  std::vector<std::string> data_issues;
  TokenUse token;  // not a column: claimed in the same commit by a shared store
};

struct FeedbackRecord {
  std::string received_at;
  std::string card_uuid;
  std::string service_id;
  std::string outcome;  // "accepted" | "overridden"
  std::vector<std::string> accepted_suggestions;
  std::string override_reason;  // "system|code", empty when none
  bool has_user_comment = false;  // the comment itself is free text: not stored
  std::string outcome_timestamp;
  std::string jwt_iss, jwt_sub, tenant;
  TokenUse token;  // the request's token (the same on every item of one request)
};

// What feedback validation needs to know about an issued card.
struct IssuedCard {
  std::string service_id;
  std::vector<std::string> override_reason_codes;  // "system|code"
  std::vector<std::string> suggestion_uuids;
};

}  // namespace cds
