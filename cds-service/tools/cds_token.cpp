// cds-token: mint a CDS Hooks client JWT (as an EHR would) or print the JWK Set of a key.
//   cds-token --key ehr.key --kid K --iss ISS --aud URL [--sub S] [--alg ES384] [--ttl 300]
//   cds-token --key ehr.key --kid K --jwks [--alg ES384]
// For demos and tests: a real EHR signs with its own key and publishes its own JWKS.
#include "cds/auth/jose.hpp"

#include <boost/program_options.hpp>
#include <openssl/rand.h>

#include <chrono>
#include <iostream>

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string key_file, kid, iss, aud, sub, alg_name = "ES384", tenant, jku;
  long long ttl = 300;
  po::options_description desc("cds-token: mint a signed CDS Hooks JWT, or print a key's JWKS");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help")
    ("key", po::value(&key_file), "PEM private key (EC P-256/384/521 or RSA)")
    ("kid", po::value(&kid), "key id, as published in the JWKS")
    ("alg", po::value(&alg_name), "ES256|ES384|ES512|RS256|RS384|RS512|PS256|PS384|PS512 (default ES384)")
    ("jwks", "print the JWK Set of the key's public half instead of a token")
    ("iss", po::value(&iss), "issuer (the EHR's identifier)")
    ("aud", po::value(&aud), "audience: the exact service endpoint URL called")
    ("sub", po::value(&sub), "subject (client id)")
    ("tenant", po::value(&tenant), "tenant claim")
    ("jku", po::value(&jku), "jku header (JWKS URL)")
    ("ttl", po::value(&ttl), "lifetime in seconds (default 300)");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "cds-token: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  auto alg = cds::jose::parse_alg(alg_name);
  if (!alg || key_file.empty() || kid.empty()) {
    std::cerr << "cds-token: --key, --kid and a supported --alg are required (see --help)\n";
    return 2;
  }
  auto key = cds::jose::load_private_key_pem(key_file);
  if (auto* err = std::get_if<std::string>(&key)) {
    std::cerr << "cds-token: " << *err << "\n";
    return 1;
  }
  EVP_PKEY* pkey = std::get<cds::jose::Pkey>(key).get();
  if (vm.count("jwks")) {
    std::cout << cds::jose::jwks_for(pkey, kid, *alg) << "\n";
    return 0;
  }
  if (iss.empty() || aud.empty()) {
    std::cerr << "cds-token: --iss and --aud are required for a token\n";
    return 2;
  }
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  boost::json::object claims{{"iss", iss}, {"aud", aud}, {"iat", now}, {"exp", now + ttl},
                             {"jti", cds::jose::base64url_encode(std::span<const unsigned char>(nonce))}};
  if (!sub.empty()) claims["sub"] = sub;
  if (!tenant.empty()) claims["tenant"] = tenant;
  auto token = cds::jose::sign_jwt(pkey, *alg, kid, claims, jku);
  if (auto* err = std::get_if<cds::jose::SignError>(&token)) {
    std::cerr << "cds-token: " << err->message << "\n";
    return 1;
  }
  std::cout << std::get<std::string>(token) << "\n";
  return 0;
}
