#pragma once
// Shared helpers for the rules tests: reading the real rule data and fixtures from disk (the
// engine itself never does file I/O) and turning a request document into a HookInput.
#include "rules/detail/rule_set.hpp"
#include "rules/detail/term_matcher.hpp"
#include "rules/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rules_test {

namespace json = boost::json;

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Every *.json under CDS_RULES_DIR, named relative to it, as the service would pass them.
inline std::vector<rules::RuleFile> rule_files() {
  const std::filesystem::path dir = CDS_RULES_DIR;
  std::vector<rules::RuleFile> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json")
      files.push_back({e.path().lexically_relative(dir).generic_string(), read_file(e.path())});
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return files;
}

inline std::shared_ptr<const rules::RuleSet> load_real_rules() {
  auto loaded = rules::load_rule_set(rule_files());
  if (auto* err = std::get_if<rules::LoadError>(&loaded))
    throw std::runtime_error("rules failed to load: " + err->file + ": " + err->message);
  return std::get<std::shared_ptr<const rules::RuleSet>>(loaded);
}

// The real rules, loaded once for the whole test binary.
inline const rules::RuleSet& real_rules() {
  static const std::shared_ptr<const rules::RuleSet> rs = load_real_rules();
  return *rs;
}

// The cards an evaluation wrote, parsed back (Evaluation::cards_json is what the EHR receives).
inline boost::json::array cards_of(const rules::Evaluation& ev) { return boost::json::parse(ev.cards_json).as_array(); }

inline fhir::Instant instant(std::string_view text) {
  auto dt = fhir::parse_date_time(text);
  if (!dt) throw std::runtime_error("bad instant " + std::string(text));
  return dt->start;
}

// A parsed request and the HookInput viewing it (keep the Request alive while using input).
struct Request {
  json::value doc;
  std::string service_id;
  rules::HookInput input;
};

inline void bind(Request& r, std::string_view service_id) {
  const json::object& o = r.doc.as_object();
  r.service_id = service_id;
  r.input.hook = o.at("hook").as_string();
  r.input.service_id = r.service_id;
  if (const auto* hi = o.if_contains("hookInstance")) r.input.hook_instance = hi->as_string();
  r.input.context = &o.at("context").as_object();
  const json::value* pf = o.if_contains("prefetch");
  r.input.prefetch = pf ? pf->if_object() : nullptr;
}

// An order-sign HookInput viewing `doc`'s "context" and "prefetch" (keep `doc` alive).
inline rules::HookInput order_sign_input(const json::value& doc) {
  rules::HookInput in;
  in.hook = "order-sign";
  in.context = &doc.at("context").as_object();
  in.prefetch = &doc.at("prefetch").as_object();
  return in;
}

inline std::unique_ptr<Request> request_from_json(std::string_view text, std::string_view service_id = "test-service") {
  auto r = std::make_unique<Request>();
  r->doc = json::parse(text);
  bind(*r, service_id);
  return r;
}

inline rules::EvalOptions options(fhir::Instant now, std::string_view seed = "seed-1") {
  rules::EvalOptions o;
  o.now = now;
  o.uuid_seed = seed;
  o.base_url = "https://cds.example.org/";
  return o;
}

// A text pattern as a rule file would give it; throws on a bad one.
inline rules::detail::WordPattern pat(std::string_view text) {
  std::string error;
  auto p = rules::detail::compile_pattern(text, error);
  if (!p) throw std::runtime_error("bad pattern " + std::string(text) + ": " + error);
  return *p;
}

// A value-set term, optionally only counted when one of `requires_any` is also present.
inline rules::detail::Term term(std::string_view text, std::initializer_list<std::string_view> requires_any = {}) {
  rules::detail::Term t;
  t.text = text;
  t.pattern = pat(text);
  for (auto r : requires_any) t.requires_any.push_back(pat(r));
  return t;
}

}  // namespace rules_test
