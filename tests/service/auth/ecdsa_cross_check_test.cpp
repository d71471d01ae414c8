// ECDSA verification is Nettle's in the service and OpenSSL's nowhere else but here: every
// signature below, valid, tampered or malformed, is given to both libraries, which must agree,
// for ES256, ES384 and ES512, with keys made by OpenSSL at test time.
#include "cds/auth/jose.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using namespace cds::jose;
namespace json = boost::json;

struct Curve {
  Alg alg;
  const char* name;  // OpenSSL's and JOSE's
  int nid;
  std::size_t coord;
};
const Curve kCurves[] = {{Alg::ES256, "P-256", NID_X9_62_prime256v1, 32},
                         {Alg::ES384, "P-384", NID_secp384r1, 48},
                         {Alg::ES512, "P-521", NID_secp521r1, 66}};

using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
Bn bn() { return Bn(BN_new(), &BN_free); }
Bn bn_of(std::string_view bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr),
            &BN_free);
}
std::string bytes_of(const BIGNUM* v, std::size_t size) {
  std::string out(size, '\0');
  if (BN_bn2binpad(v, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) < 0) return {};
  return out;  // empty when v does not fit
}

Bn order_of(const Curve& c) {
  std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> g(EC_GROUP_new_by_curve_name(c.nid), &EC_GROUP_free);
  return Bn(BN_dup(EC_GROUP_get0_order(g.get())), &BN_free);
}

struct Signed {
  std::string input, signature;
};

struct World {
  explicit World(const Curve& c) : curve(c) {
    key = Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", c.name));
    other = Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", c.name));
    pub = key_of(key.get(), "k", c.alg);
    other_pub = key_of(other.get(), "o", c.alg);
    for (int i = 0; i < 8; ++i) {
      auto t = std::get<std::string>(sign_jwt(key.get(), c.alg, "k", json::object{{"jti", std::to_string(i)}}));
      auto jws = std::get<Jws>(parse_jws(t));
      tokens.push_back({std::string(jws.signing_input), jws.signature});
    }
  }
  static PublicKey key_of(EVP_PKEY* k, const std::string& kid, Alg alg) {
    auto keys = std::get<std::vector<PublicKey>>(parse_jwks(jwks_for(k, kid, alg)));
    EXPECT_EQ(keys.size(), 1u);
    return keys.at(0);
  }
  const Curve& curve;
  Pkey key, other;
  PublicKey pub, other_pub;
  std::vector<Signed> tokens;
};

// Both libraries' answers with the service's checks in front, and without them.
struct Answers {
  bool nettle, openssl, nettle_alone, openssl_alone;
};
Answers ask(const PublicKey& key, Alg alg, std::string_view input, std::string_view sig) {
  return {verify_with(EcdsaLibrary::nettle, key, alg, input, sig),
          verify_with(EcdsaLibrary::openssl, key, alg, input, sig),
          detail::ecdsa_verify_unchecked(EcdsaLibrary::nettle, key, alg, input, sig),
          detail::ecdsa_verify_unchecked(EcdsaLibrary::openssl, key, alg, input, sig)};
}

void expect_all(const Answers& a, bool want, const std::string& what) {
  EXPECT_EQ(a.nettle, want) << what << ": Nettle";
  EXPECT_EQ(a.openssl, want) << what << ": OpenSSL";
  EXPECT_EQ(a.nettle_alone, want) << what << ": Nettle without the checks in front";
  EXPECT_EQ(a.openssl_alone, want) << what << ": OpenSSL without the checks in front";
}

class EcdsaCrossCheck : public ::testing::TestWithParam<Curve> {};

TEST_P(EcdsaCrossCheck, ValidSignaturesVerifyInBothAndVerifyUsesThem) {
  World w(GetParam());
  for (const auto& t : w.tokens) {
    EXPECT_EQ(t.signature.size(), 2 * w.curve.coord);
    EXPECT_TRUE(ecdsa_signature_well_formed(w.curve.alg, t.signature));
    expect_all(ask(w.pub, w.curve.alg, t.input, t.signature), true, "valid");
    EXPECT_TRUE(verify(w.pub, w.curve.alg, t.input, t.signature));
    // Another key of the same curve, and another token's input: refused by both.
    expect_all(ask(w.other_pub, w.curve.alg, t.input, t.signature), false, "other key");
    expect_all(ask(w.pub, w.curve.alg, w.tokens[0].input + "x", t.signature), false, "other input");
  }
}

TEST_P(EcdsaCrossCheck, TamperedInputsAndSignaturesAreRefusedByBoth) {
  World w(GetParam());
  const Signed& t = w.tokens[1];
  for (std::size_t i = 0; i < t.input.size(); i += 7) {
    std::string input = t.input;
    input[i] = static_cast<char>(input[i] ^ 0x01);
    expect_all(ask(w.pub, w.curve.alg, input, t.signature), false, "input byte " + std::to_string(i));
  }
  for (std::size_t i = 0; i < t.signature.size(); i += 5) {
    std::string sig = t.signature;
    sig[i] = static_cast<char>(sig[i] ^ 0x40);
    const Answers a = ask(w.pub, w.curve.alg, t.input, sig);
    EXPECT_FALSE(a.nettle) << "signature byte " << i;
    EXPECT_EQ(a.nettle, a.openssl) << "signature byte " << i;
    EXPECT_EQ(a.nettle_alone, a.openssl_alone) << "signature byte " << i;
  }
  // The same tokens under the wrong algorithm or a key of the other family never verify.
  for (const Curve& c : kCurves)
    if (c.alg != w.curve.alg) expect_all(ask(w.pub, c.alg, t.input, t.signature), false, "wrong curve");
}

TEST_P(EcdsaCrossCheck, RandomSignaturesOfTheRightSizeAreRefusedByBoth) {
  World w(GetParam());
  std::string sig(2 * w.curve.coord, '\0');
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(sig.data()), static_cast<int>(sig.size())), 1);
    const Answers a = ask(w.pub, w.curve.alg, w.tokens[0].input, sig);
    EXPECT_FALSE(a.nettle || a.openssl || a.nettle_alone || a.openssl_alone) << i;
  }
}

// r or s zero or not below the curve's order n, and every wrong length, are refused before either
// library sees them, and each library refuses them on its own too.
TEST_P(EcdsaCrossCheck, MalformedSignaturesAreRefusedBeforeAndByBothLibraries) {
  World w(GetParam());
  const Curve& c = w.curve;
  const Signed& t = w.tokens[2];
  const std::string r = t.signature.substr(0, c.coord), s = t.signature.substr(c.coord);
  const Bn n = order_of(c);
  const std::string zero(c.coord, '\0'), n_bytes = bytes_of(n.get(), c.coord), ones(c.coord, '\xff');
  Bn n_plus_r = bn(), n_plus_s = bn();
  BN_add(n_plus_r.get(), n.get(), bn_of(r).get());
  BN_add(n_plus_s.get(), n.get(), bn_of(s).get());
  struct Case {
    std::string what, sig;
  };
  std::vector<Case> cases = {
      {"r zero", zero + s},     {"s zero", r + zero},           {"both zero", zero + zero},
      {"r = n", n_bytes + s},   {"s = n", r + n_bytes},         {"r all ones", ones + s},
      {"s all ones", r + ones}, {"empty", ""},                  {"one byte short", t.signature.substr(1)},
      {"one byte long", t.signature + '\0'}, {"leading zero added to r", '\0' + t.signature},
      {"twice as long", t.signature + t.signature}, {"r only", r},
  };
  // r + n and s + n are r and s modulo n: a library that reduced instead of refusing would accept
  // them. They fit in the coordinate's bytes on P-521 (n is near 2^521, the field 528 bits).
  if (auto rn = bytes_of(n_plus_r.get(), c.coord); !rn.empty()) cases.push_back({"r + n", rn + s});
  if (auto sn = bytes_of(n_plus_s.get(), c.coord); !sn.empty()) cases.push_back({"s + n", r + sn});
  if (c.alg == Alg::ES512) EXPECT_GT(cases.size(), 14u) << "r + n fits on P-521";
  // The DER form OpenSSL itself produces is not a JOSE signature.
  std::string der;
  {
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(ECDSA_SIG_new(), &ECDSA_SIG_free);
    ECDSA_SIG_set0(es.get(), bn_of(r).release(), bn_of(s).release());
    unsigned char* out = nullptr;
    const int len = i2d_ECDSA_SIG(es.get(), &out);
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
  }
  cases.push_back({"DER", der});
  for (const auto& k : cases) {
    EXPECT_FALSE(ecdsa_signature_well_formed(c.alg, k.sig)) << k.what;
    expect_all(ask(w.pub, c.alg, t.input, k.sig), false, k.what);
    EXPECT_FALSE(verify(w.pub, c.alg, t.input, k.sig)) << k.what;
  }
}

// JOSE does not require low s, and both libraries accept (r, n - s) for a valid (r, s): so does
// the service (a token's jti is spent once whichever form arrives; see jose.hpp).
TEST_P(EcdsaCrossCheck, HighSIsAcceptedByBothAlike) {
  World w(GetParam());
  const Curve& c = w.curve;
  const Bn n = order_of(c);
  for (const auto& t : w.tokens) {
    Bn flipped = bn();
    BN_sub(flipped.get(), n.get(), bn_of(t.signature.substr(c.coord)).get());
    const std::string other = t.signature.substr(0, c.coord) + bytes_of(flipped.get(), c.coord);
    ASSERT_NE(other, t.signature);
    EXPECT_TRUE(ecdsa_signature_well_formed(c.alg, other));
    expect_all(ask(w.pub, c.alg, t.input, other), true, "n - s");
  }
}

// A key whose point is not on the curve, or whose coordinates are not full size or not below
// the field's prime, is refused when the JWK Set is read: no library ever verifies with it.
TEST_P(EcdsaCrossCheck, KeysOffTheCurveOrOfTheWrongSizeAreRefusedAtLoad) {
  World w(GetParam());
  const Curve& c = w.curve;
  auto good = json::parse(jwks_for(w.key.get(), "good", c.alg)).as_object()["keys"].as_array()[0].as_object();
  const std::string x = *base64url_decode(good["x"].as_string()), y = *base64url_decode(good["y"].as_string());
  ASSERT_EQ(x.size(), c.coord);
  auto with = [&](const char* kid, const std::string& nx, const std::string& ny) {
    json::object k = good;
    k["kid"] = kid;
    k["x"] = base64url_encode(nx);
    k["y"] = base64url_encode(ny);
    return k;
  };
  std::string y_off = y;
  y_off.back() = static_cast<char>(y_off.back() ^ 0x01);
  std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> g(EC_GROUP_new_by_curve_name(c.nid), &EC_GROUP_free);
  Bn p = bn(), x_plus_p = bn();
  ASSERT_EQ(EC_GROUP_get_curve(g.get(), p.get(), nullptr, nullptr, nullptr), 1);
  BN_add(x_plus_p.get(), p.get(), bn_of(x).get());
  json::array keys{good, with("off-curve", x, y_off), with("zero", std::string(c.coord, '\0'), std::string(c.coord, '\0')),
                   with("short", x.substr(1), y.substr(1)), with("long", '\0' + x, '\0' + y)};
  // x + p names the same x modulo p: fits in the coordinate's bytes on P-521 only.
  if (auto xp = bytes_of(x_plus_p.get(), c.coord); !xp.empty()) keys.push_back(with("x + p", xp, y));
  auto parsed = std::get<std::vector<PublicKey>>(parse_jwks(json::serialize(json::object{{"keys", keys}})));
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].kid, "good");
  EXPECT_TRUE(parsed[0].ec_point != nullptr);
  expect_all(ask(parsed[0], c.alg, w.tokens[0].input, w.tokens[0].signature), true, "the good key");
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdsaCrossCheck, ::testing::ValuesIn(kCurves),
                         [](const auto& info) { return std::string(alg_name(info.param.alg)); });

}  // namespace
