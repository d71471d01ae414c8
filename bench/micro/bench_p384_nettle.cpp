// ES384 (ECDSA P-384 + SHA-384) verification of one signature by the libraries alone, outside
// the service: OpenSSL 3.0's generic prime-field code and Nettle 3.8's dedicated P-384 code
// (Debian 12's libhogweed), which the service verifies ECDSA with. See bench/README.md.
#include <benchmark/benchmark.h>

#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <gmp.h>

#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view kMessage = "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJodHRwczovL2Voci5leGFtcGxlLm9yZyJ9";

struct Signed {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
  std::vector<unsigned char> der;  // ECDSA-Sig-Value, as OpenSSL verifies it
  std::vector<unsigned char> x, y, r, s;
  unsigned char digest[48];
};

std::vector<unsigned char> bytes_of(const BIGNUM* bn) {
  std::vector<unsigned char> out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

const Signed& fixture() {
  static const Signed s = [] {
    Signed f;
    f.key.reset(EVP_EC_gen("P-384"));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t len = 0;
    const auto* msg = reinterpret_cast<const unsigned char*>(kMessage.data());
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, f.key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, msg, kMessage.size()) != 1)
      throw std::runtime_error("sign");
    f.der.resize(len);
    if (EVP_DigestSign(ctx.get(), f.der.data(), &len, msg, kMessage.size()) != 1) throw std::runtime_error("sign");
    f.der.resize(len);
    const unsigned char* p = f.der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(f.der.size()));
    f.r = bytes_of(ECDSA_SIG_get0_r(sig));
    f.s = bytes_of(ECDSA_SIG_get0_s(sig));
    ECDSA_SIG_free(sig);
    BIGNUM *x = nullptr, *y = nullptr;
    EVP_PKEY_get_bn_param(f.key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(f.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    f.x = bytes_of(x);
    f.y = bytes_of(y);
    BN_free(x);
    BN_free(y);
    unsigned int dlen = 0;
    EVP_Digest(msg, kMessage.size(), f.digest, &dlen, EVP_sha384(), nullptr);
    return f;
  }();
  return s;
}

void import(mpz_t z, const std::vector<unsigned char>& b) { mpz_import(z, b.size(), 1, 1, 1, 0, b.data()); }

// SHA-384 + ECDSA verify with a pre-parsed key and a reused context, as the service does.
void BM_P384Verify_OpenSSL(benchmark::State& state) {
  const Signed& f = fixture();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = true;
  for (auto _ : state) {
    EVP_MD_CTX_reset(ctx.get());
    ok = ok && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, f.key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), f.der.data(), f.der.size(), reinterpret_cast<const unsigned char*>(kMessage.data()),
                          kMessage.size()) == 1;
  }
  if (!ok) state.SkipWithError("did not verify");
}
BENCHMARK(BM_P384Verify_OpenSSL)->Unit(benchmark::kMicrosecond);

// The same signature and key in Nettle (SHA-384 by OpenSSL, as the digest is not the question).
void BM_P384Verify_Nettle(benchmark::State& state) {
  const Signed& f = fixture();
  ecc_point pub;
  ecc_point_init(&pub, nettle_get_secp_384r1());
  mpz_t x, y;
  mpz_inits(x, y, nullptr);
  import(x, f.x);
  import(y, f.y);
  if (!ecc_point_set(&pub, x, y)) state.SkipWithError("public key not on the curve");
  dsa_signature sig;
  dsa_signature_init(&sig);
  import(sig.r, f.r);
  import(sig.s, f.s);
  const auto* msg = reinterpret_cast<const unsigned char*>(kMessage.data());
  bool ok = true;
  for (auto _ : state) {
    unsigned char digest[48];
    unsigned int dlen = 0;
    EVP_Digest(msg, kMessage.size(), digest, &dlen, EVP_sha384(), nullptr);
    ok = ok && ecdsa_verify(&pub, sizeof digest, digest, &sig) == 1;
  }
  if (!ok) state.SkipWithError("did not verify");
  dsa_signature_clear(&sig);
  mpz_clears(x, y, nullptr);
  ecc_point_clear(&pub);
}
BENCHMARK(BM_P384Verify_Nettle)->Unit(benchmark::kMicrosecond);

}  // namespace
