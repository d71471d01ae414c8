// What start-up spends its time on, piece by piece (bench/load.sh measures the whole: exec to
// the first 200 from /readyz): loading and compiling the rules, and the outbound TLS client
// context's CA store that cds::FhirClient builds at construction (set_default_verify_paths,
// which on Debian parses /etc/ssl/certs/ca-certificates.crt).
#include "bench_common.hpp"

#include <openssl/ssl.h>

#include <cstdlib>

namespace {

void BM_RulesStoreOpen(benchmark::State& state) {
  const char* dir = std::getenv("CDS_RULES_DIR");
  for (auto _ : state) {
    auto store = cds::RulesStore::open(dir && *dir ? dir : CDS_RULES_DIR);
    if (std::holds_alternative<std::string>(store)) state.SkipWithError("rules did not load");
    benchmark::DoNotOptimize(store);
  }
}
BENCHMARK(BM_RulesStoreOpen)->Unit(benchmark::kMillisecond);

void BM_ClientCaStore(benchmark::State& state) {
  for (auto _ : state) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    const int ok = SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_free(ctx);
    if (ok != 1) state.SkipWithError("no default CA store");
  }
}
BENCHMARK(BM_ClientCaStore)->Unit(benchmark::kMillisecond);

}  // namespace
