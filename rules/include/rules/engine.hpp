#pragma once
// The decision core: a pure function of (hook request, rule set, now) -> cards.
// No I/O, no clocks, no globals: the caller reads rule files, supplies "now" and a UUID seed.
#include "fhir/datetime.hpp"
#include "fhir/json.hpp"

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rules {

namespace json = boost::json;

// One rule data file as read by the caller: its path relative to the rules directory
// (e.g. "knee-oa.json", "valuesets/prp.json") and its bytes.
struct RuleFile {
  std::string name;
  std::string content;
};

struct LoadError {
  std::string file;     // which file
  std::string message;  // what is wrong, naming the field
};

class RuleSet;  // immutable once loaded; share it with std::shared_ptr<const RuleSet>

// Parses and checks every file; on any error returns the first one and no rules, so a broken
// edit never half-applies.
std::variant<std::shared_ptr<const RuleSet>, LoadError> load_rule_set(std::span<const RuleFile> files);

// The rules version: a content hash over all files (names and bytes), e.g. "sha256:ab12…".
std::string_view version_of(const RuleSet& rules) noexcept;

// A validated CDS Hooks request, as views into its parsed JSON (which must outlive the call).
struct HookInput {
  std::string_view hook;        // "order-select" | "order-sign" | "patient-view"
  std::string_view service_id;  // e.g. "knee-oa-order-sign"
  std::string_view hook_instance;
  const json::object* context = nullptr;   // never null for a validated request
  const json::object* prefetch = nullptr;  // may be null; keys: patient, conditions, procedures, observations
  // Prefetch keys whose data could be had neither from the client nor by fetching. Absent data
  // is not "no data": a rule whose verdict depends on such a key must not flag.
  std::span<const std::string_view> unavailable;
};

// The key of our object inside every card's `extension`:
// {"provenance": {"ruleId", "rulesVersion", "triggeredBy": [references], "patientType"?}}.
inline constexpr std::string_view kProvenanceExtensionKey = "provenance";

struct EvalOptions {
  fhir::Instant now{};            // the clock, passed in
  std::string_view uuid_seed;     // card and suggestion uuids: a SHA-1 of it and what the card is about
  std::string_view base_url;      // this service's public base URL, for source and override-reason URLs
  // When the cards are issued, to the millisecond: the time part of card and suggestion uuids
  // (time-ordered UUIDv7). Unset (the epoch): `now`.
  std::chrono::sys_time<std::chrono::milliseconds> issued_at{};
};

// What the audit keeps of a card (never its free text beyond the summary), and what feedback on
// it is checked against.
struct CardRecord {
  std::string uuid;
  std::string rule_id;
  std::string indicator;
  std::string summary;
  std::vector<std::string> triggered_by;           // references, e.g. "ServiceRequest/sr-1"
  std::vector<std::string> override_reason_codes;  // "system|code", as offered on the card
  std::vector<std::string> suggestion_uuids;
};

// What the audit keeps of an evaluated draft order.
struct OrderRecord {
  std::string reference;           // "ServiceRequest/sr-1"
  std::vector<std::string> codes;  // "system|code"
  std::string category;            // "donor-derived" | "autologous" | "" (not a cell injection)
};

struct Evaluation {
  // The CDS Hooks 2.0 Card objects as one serialized JSON array ("[]" when none): the response's
  // "cards" member, written as text by the engine (byte for byte what json::serialize would write
  // for the same cards as a tree).
  std::string cards_json = "[]";
  std::vector<CardRecord> card_records;  // one per card, in the same order
  std::vector<OrderRecord> orders;
  std::string patient_type;           // "1" | "2" | "3" | "unknown" | "" (not evaluated)
};

Evaluation evaluate(const HookInput& input, const RuleSet& rules, const EvalOptions& options);

// What the rules contain, for reviewers and rule authors (the rules page): version, value sets
// with their codes and terms and what is unverified, plans, evidence, the ConText triggers,
// override reasons. {"id", "version", "sourcePath", "valueSets": [...], "plans": {...}, ...}
json::value describe(const RuleSet& rules);

// What a clinician reads behind a card's evidence link (the page source.url points to): the
// regulatory facts, every study with its full citation and summary, and the plans by patient
// type with their key studies. {"version", "source", "rulesPath", "regulatory": {"title",
// "facts", "links"}, "evidence": [...], "plans": [...]}
json::value describe_evidence(const RuleSet& rules);

}  // namespace rules
