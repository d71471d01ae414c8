// mint_tokens (bench-only): signs COUNT client JWTs in one process, one per line, each with a
// unique jti, for the wrk load test (bench/load.sh, bench/wrk/order-sign.lua). cds-token mints
// one token per process; spawning it 50 000 times would take longer than the load test.
//   mint_tokens --key KEY.pem --kid KID --alg ES384 --iss ISS --sub SUB --aud URL
//               --count N [--ttl 300] [--threads 0] --out FILE
// Not part of the service; production EHRs mint their own tokens.
#include "cds/auth/jose.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string key_file, kid, alg_name = "ES384", iss, sub, aud, out_file;
  long long count = 0, ttl = 300;
  unsigned threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "mint_tokens: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--key") key_file = next();
    else if (a == "--kid") kid = next();
    else if (a == "--alg") alg_name = next();
    else if (a == "--iss") iss = next();
    else if (a == "--sub") sub = next();
    else if (a == "--aud") aud = next();
    else if (a == "--count") count = std::atoll(next().c_str());
    else if (a == "--ttl") ttl = std::atoll(next().c_str());
    else if (a == "--threads") threads = static_cast<unsigned>(std::atoi(next().c_str()));
    else if (a == "--out") out_file = next();
    else {
      std::cerr << "mint_tokens: unknown argument " << a << "\n";
      return 2;
    }
  }
  auto alg = cds::jose::parse_alg(alg_name);
  if (!alg || key_file.empty() || kid.empty() || iss.empty() || aud.empty() || count <= 0 || out_file.empty()) {
    std::cerr << "usage: mint_tokens --key KEY --kid KID [--alg ES384] --iss ISS [--sub SUB] --aud URL --count N "
                 "[--ttl 300] [--threads 0] --out FILE\n";
    return 2;
  }
  auto key = cds::jose::load_private_key_pem(key_file);
  if (auto* err = std::get_if<std::string>(&key)) {
    std::cerr << "mint_tokens: " << *err << "\n";
    return 1;
  }
  EVP_PKEY* pkey = std::get<cds::jose::Pkey>(key).get();
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());

  // jti = a random run prefix + the index: unique within and across runs.
  unsigned char nonce[9];
  RAND_bytes(nonce, sizeof nonce);
  const std::string prefix = cds::jose::base64url_encode(std::span<const unsigned char>(nonce)) + "-";
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  std::vector<std::string> tokens(static_cast<std::size_t>(count));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i; !failed && (i = next.fetch_add(1)) < tokens.size();) {
        boost::json::object claims{{"iss", iss}, {"aud", aud}, {"iat", now}, {"exp", now + ttl},
                                   {"jti", prefix + std::to_string(i)}};
        if (!sub.empty()) claims["sub"] = sub;
        auto token = cds::jose::sign_jwt(pkey, *alg, kid, claims);
        if (auto* s = std::get_if<std::string>(&token)) tokens[i] = std::move(*s);
        else failed = true;
      }
    });
  for (auto& t : pool) t.join();
  if (failed) {
    std::cerr << "mint_tokens: signing failed (key and --alg do not match?)\n";
    return 1;
  }
  std::FILE* f = std::fopen(out_file.c_str(), "wb");
  if (!f) {
    std::cerr << "mint_tokens: cannot write " << out_file << "\n";
    return 1;
  }
  for (const auto& t : tokens) {
    std::fwrite(t.data(), 1, t.size(), f);
    std::fputc('\n', f);
  }
  if (std::fclose(f) != 0) {
    std::cerr << "mint_tokens: cannot write " << out_file << "\n";
    return 1;
  }
  return 0;
}
