#include "bench_common.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace bench {
namespace {
[[noreturn]] void die(const std::string& why) {
  std::cerr << "cds_micro_bench: " << why << "\n";
  std::exit(2);
}
const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
}  // namespace

const std::string& request_body() {
  static const std::string body = [] {
    const char* path = env_or("CDS_BENCH_REQUEST", CDS_BENCH_REQUEST);
    std::ifstream in(path, std::ios::binary);
    if (!in) die(std::string("cannot read ") + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  return body;
}

std::shared_ptr<const rules::RuleSet> rule_set() {
  static const std::shared_ptr<const rules::RuleSet> rules = [] {
    auto store = cds::RulesStore::open(env_or("CDS_RULES_DIR", CDS_RULES_DIR));
    if (auto* err = std::get_if<std::string>(&store)) die("rules: " + *err);
    return std::get<std::unique_ptr<cds::RulesStore>>(store)->current();
  }();
  return rules;
}

const cds::ServiceDefinition& order_sign_service() {
  static const cds::ServiceDefinition* s = [] {
    const auto* found = cds::find_service("knee-oa-order-sign");
    if (found == nullptr) die("no service knee-oa-order-sign");
    return found;
  }();
  return *s;
}

const cds::HookRequest& parsed_request() {
  static const std::unique_ptr<cds::HookRequest> request = [] {
    auto parsed = cds::parse_hook_request(order_sign_service(), request_body());
    if (auto* e = std::get_if<cds::ApiError>(&parsed)) die("benchmark request refused: " + e->message);
    auto r = std::get<std::unique_ptr<cds::HookRequest>>(std::move(parsed));
    if (auto e = cds::check_data_available(*r)) die("benchmark request lacks prefetch: " + e->message);
    return r;
  }();
  return *request;
}

fhir::Instant bench_now() { return fhir::parse_date_time("2026-11-25T12:00:00Z")->start; }

AllocScope::~AllocScope() {
  const AllocCount end = alloc_count();
  state_.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(end.allocations - start_.allocations), benchmark::Counter::kAvgIterations);
  state_.counters["alloc_bytes/op"] =
      benchmark::Counter(static_cast<double>(end.bytes - start_.bytes), benchmark::Counter::kAvgIterations);
}

}  // namespace bench
