// JWT verification micro-benchmarks (ES384, RS384): cds::Authenticator::authenticate exactly as
// the service calls it per request — parse, claim checks, key lookup, signature verification
// and the single-use jti check — on a pool of pre-signed tokens, each used once. Keys are
// generated at start; the JWKS is served to the Authenticator through its injected fetch.
#include "bench_common.hpp"

#include "cds/auth/authenticator.hpp"
#include "cds/auth/jose.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

namespace {
namespace json = boost::json;
using cds::jose::Alg;

constexpr std::string_view kAudience = "https://cds.bench.local/cds-services/knee-oa-order-sign";
// Tokens per algorithm ($CDS_BENCH_JWT_POOL, default 4096); the replay cache is renewed per pool.
std::size_t pool_size() {
  static const std::size_t n = [] {
    const char* v = std::getenv("CDS_BENCH_JWT_POOL");
    const long long parsed = v ? std::atoll(v) : 0;
    return parsed > 0 ? static_cast<std::size_t>(parsed) : std::size_t{4096};
  }();
  return n;
}

struct AlgSetup {
  Alg alg;
  std::string iss, kid, jwks_url;
  cds::jose::Pkey key;
  std::vector<std::string> tokens;  // unique jti each
  std::string bad_signature;        // warms the key cache without spending a jti
};

std::string mint(EVP_PKEY* key, Alg alg, const std::string& kid, const std::string& iss, const std::string& jti) {
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json::object claims{{"iss", iss}, {"sub", "bench-ehr"}, {"aud", kAudience}, {"iat", now}, {"exp", now + 300}, {"jti", jti}};
  auto t = cds::jose::sign_jwt(key, alg, kid, claims);
  if (auto* e = std::get_if<cds::jose::SignError>(&t)) {
    std::cerr << "cds_micro_bench: " << e->message << "\n";
    std::exit(2);
  }
  return std::get<std::string>(std::move(t));
}

struct JwtWorld {
  std::map<std::string, std::string> jwks;  // url -> JWKS document
  AlgSetup es384, rs384;
  cds::AuthConfig config;

  JwtWorld() {
    es384 = {Alg::ES384, "https://ehr-es384.bench", "bench-es384", "https://jwks.bench/es384", cds::jose::Pkey(EVP_EC_gen("P-384")), {}, {}};
    rs384 = {Alg::RS384, "https://ehr-rs384.bench", "bench-rs384", "https://jwks.bench/rs384", cds::jose::Pkey(EVP_RSA_gen(2048)), {}, {}};
    for (AlgSetup* s : {&es384, &rs384}) {
      if (!s->key) {
        std::cerr << "cds_micro_bench: key generation failed\n";
        std::exit(2);
      }
      jwks[s->jwks_url] = cds::jose::jwks_for(s->key.get(), s->kid, s->alg);
      cds::TrustedIssuer issuer;
      issuer.iss = s->iss;
      issuer.jwks_url = s->jwks_url;
      issuer.clients = {"bench-ehr"};
      config.trusted_issuers.push_back(issuer);
      s->tokens.resize(pool_size());
      // Signing is slow (P-384 ~1 ms): use every core.
      const unsigned n = std::max(1u, std::thread::hardware_concurrency());
      std::atomic<std::size_t> next{0};
      std::vector<std::thread> threads;
      for (unsigned t = 0; t < n; ++t)
        threads.emplace_back([&] {
          for (std::size_t i; (i = next.fetch_add(1)) < s->tokens.size();)
            s->tokens[i] = mint(s->key.get(), s->alg, s->kid, s->iss, "bench-" + s->kid + "-" + std::to_string(i));
        });
      for (auto& t : threads) t.join();
      s->bad_signature = mint(s->key.get(), s->alg, s->kid, s->iss, "bench-warm");
      char& last = s->bad_signature[s->bad_signature.size() - 2];
      last = last == 'A' ? 'B' : 'A';
    }
    config.replay_cache_entries = 4 * pool_size();
  }

  std::unique_ptr<cds::Authenticator> authenticator(const AlgSetup& s) const {
    auto a = std::make_unique<cds::Authenticator>(config, std::make_shared<cds::MemoryReplayCache>(config.replay_cache_entries),
                                                  [this](const std::string& url) -> std::optional<std::string> {
                                                    auto it = jwks.find(url);
                                                    if (it == jwks.end()) return std::nullopt;
                                                    return it->second;
                                                  });
    // Fetch and parse the JWKS now (a bad signature fails after the key lookup, spends no jti).
    a->authenticate("Bearer " + s.bad_signature, kAudience, cds::Clock::now());
    return a;
  }
};

const JwtWorld& world() {
  static const JwtWorld w;
  return w;
}

// (e) Full per-request authentication, one fresh token per call.
void BM_Authenticate(benchmark::State& state, Alg alg) {
  const JwtWorld& w = world();
  const AlgSetup& s = alg == Alg::ES384 ? w.es384 : w.rs384;
  std::vector<std::string> headers;
  for (const auto& t : s.tokens) headers.push_back("Bearer " + t);
  auto auth = w.authenticator(s);
  std::size_t i = 0;
  std::uint64_t refused = 0;
  {
    bench::AllocScope allocs(state);
    for (auto _ : state) {
      if (i == headers.size()) {  // pool spent: a fresh replay cache, so no jti is ever refused
        state.PauseTiming();
        auth = w.authenticator(s);
        i = 0;
        state.ResumeTiming();
      }
      auto result = auth->authenticate(headers[i++], kAudience, cds::Clock::now());
      refused += std::holds_alternative<cds::AuthFailure>(result) ? 1 : 0;
      benchmark::DoNotOptimize(result);
    }
  }
  if (refused) state.SkipWithError(("tokens refused: " + std::to_string(refused)).c_str());
  state.counters["verifications/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_Authenticate, ES384, Alg::ES384)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Authenticate, RS384, Alg::RS384)->Unit(benchmark::kMicrosecond);

// The signature check alone (jose::verify on a pre-parsed token): the crypto share of the above.
void BM_JoseVerify(benchmark::State& state, Alg alg) {
  const JwtWorld& w = world();
  const AlgSetup& s = alg == Alg::ES384 ? w.es384 : w.rs384;
  auto keys = cds::jose::parse_jwks(w.jwks.at(s.jwks_url));
  const cds::jose::PublicKey key = std::get<std::vector<cds::jose::PublicKey>>(keys).at(0);
  auto jws = std::get<cds::jose::Jws>(cds::jose::parse_jws(s.tokens[0]));
  bool ok = true;
  {
    bench::AllocScope allocs(state);
    for (auto _ : state) ok = ok && cds::jose::verify(key, alg, jws.signing_input, jws.signature);
  }
  if (!ok) state.SkipWithError("signature did not verify");
}
BENCHMARK_CAPTURE(BM_JoseVerify, ES384, Alg::ES384)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_JoseVerify, RS384, Alg::RS384)->Unit(benchmark::kMicrosecond);

// The same check on 1 and 2 threads sharing one key object, as the service's I/O threads do:
// with real time, 2 threads should verify about twice as many per second if nothing serialises.
// ES384/threads:2 is the two-core verification ceiling bench/load.sh compares the service with;
// ES384_OpenSSL is the same with OpenSSL's ECDSA (the library the service used before Nettle).
void BM_JoseVerifyShared(benchmark::State& state, Alg alg, cds::jose::EcdsaLibrary library) {
  const JwtWorld& w = world();
  const AlgSetup& s = alg == Alg::ES384 ? w.es384 : w.rs384;
  static const cds::jose::PublicKey es_key =
      std::get<std::vector<cds::jose::PublicKey>>(cds::jose::parse_jwks(w.jwks.at(w.es384.jwks_url))).at(0);
  static const cds::jose::PublicKey rs_key =
      std::get<std::vector<cds::jose::PublicKey>>(cds::jose::parse_jwks(w.jwks.at(w.rs384.jwks_url))).at(0);
  const cds::jose::PublicKey& key = alg == Alg::ES384 ? es_key : rs_key;
  auto jws = std::get<cds::jose::Jws>(cds::jose::parse_jws(s.tokens[0]));
  bool ok = true;
  for (auto _ : state) ok = ok && cds::jose::verify_with(library, key, alg, jws.signing_input, jws.signature);
  if (!ok) state.SkipWithError("signature did not verify");
  state.counters["verifications/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
constexpr auto kNettle = cds::jose::EcdsaLibrary::nettle;
constexpr auto kOpenSsl = cds::jose::EcdsaLibrary::openssl;
BENCHMARK_CAPTURE(BM_JoseVerifyShared, ES384, Alg::ES384, kNettle)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_JoseVerifyShared, ES384_OpenSSL, Alg::ES384, kOpenSsl)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_JoseVerifyShared, RS384, Alg::RS384, kNettle)->Unit(benchmark::kMicrosecond)->Threads(1)->Threads(2)->UseRealTime();

// Parsing the compact JWS (base64url + two small JSON documents): the non-crypto share.
void BM_JwsParse(benchmark::State& state) {
  const std::string& token = world().es384.tokens[0];
  bench::AllocScope allocs(state);
  for (auto _ : state) {
    auto jws = cds::jose::parse_jws(token);
    benchmark::DoNotOptimize(jws);
  }
}
BENCHMARK(BM_JwsParse);

// The replay cache when it holds `capacity` unexpired jti values (the default capacity is
// 100000; tokens live up to 5 min + 60 s skew): every new token triggers a full erase_if scan
// under the cache's mutex and is then refused (fail closed).
void BM_ReplayCacheFull(benchmark::State& state) {
  const auto capacity = static_cast<std::size_t>(state.range(0));
  cds::MemoryReplayCache cache(capacity);
  const auto now = cds::Clock::now();
  const auto exp = now + std::chrono::seconds(360);
  // Keys as the service builds them: iss + '\n' + jti (a 22-character base64url jti here).
  const std::string iss = "https://ehr.example.org\n";
  const auto before = mallinfo2().uordblks;  // live heap bytes, malloc overhead included
  for (std::size_t i = 0; i < capacity; ++i) {
    std::string jti = std::to_string(i);
    jti.insert(0, 22 - std::min<std::size_t>(22, jti.size()), 'j');
    cache.first_use(iss + jti, exp, now);
  }
  const auto after = mallinfo2().uordblks;
  state.counters["live_heap_bytes_per_entry"] = (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(capacity);
  const std::string fresh = "iss\njti-fresh";
  std::uint64_t accepted = 0;
  for (auto _ : state) accepted += cache.first_use(fresh, exp, now) == cds::ReplayCache::Use::first ? 1 : 0;
  state.counters["accepted"] = static_cast<double>(accepted);
}
BENCHMARK(BM_ReplayCacheFull)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

}  // namespace
