#pragma once
// Shared set-up for the micro-benchmarks: the benchmark request, the rules, allocation counters.
#include "alloc_counter.hpp"
#include "cds/hooks/hook_request.hpp"
#include "cds/hooks/rules_store.hpp"
#include "cds/hooks/services.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace bench {

// bench/data/order-sign-60.json (or $CDS_BENCH_REQUEST), read once.
const std::string& request_body();
// The rules directory's rule set (or $CDS_RULES_DIR), loaded once via cds::RulesStore::open.
std::shared_ptr<const rules::RuleSet> rule_set();
const cds::ServiceDefinition& order_sign_service();
// The benchmark request parsed and validated once (views into it stay valid for the process).
const cds::HookRequest& parsed_request();
// The evaluation time the expected cards assume.
fhir::Instant bench_now();

// Sets per-iteration counters "allocs/op" and "alloc_bytes/op" from the C++ allocations made
// between construction and the destructor (which runs after the timing loop).
class AllocScope {
 public:
  explicit AllocScope(benchmark::State& state) : state_(state), start_(alloc_count()) {}
  ~AllocScope();
  AllocScope(const AllocScope&) = delete;
  AllocScope& operator=(const AllocScope&) = delete;

 private:
  benchmark::State& state_;
  AllocCount start_;
};

}  // namespace bench
