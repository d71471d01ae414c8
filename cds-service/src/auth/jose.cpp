#include "cds/auth/jose.hpp"

#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <gmp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <memory>

namespace cds::jose {
namespace json = boost::json;

void PkeyDeleter::operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }

// Nettle's copy of an EC public key: the affine point, checked on the curve when it was made.
struct EcPoint {
  explicit EcPoint(const ecc_curve* c) : curve(c) { ecc_point_init(&point, c); }
  ~EcPoint() { ecc_point_clear(&point); }
  EcPoint(const EcPoint&) = delete;
  EcPoint& operator=(const EcPoint&) = delete;
  const ecc_curve* curve;
  ecc_point point;
};

namespace {

struct AlgInfo {
  Alg alg;
  std::string_view name;
  const char* digest;
  enum Family { ecdsa, pkcs1, pss } family;
  std::string_view curve;   // JWK crv for ECDSA
  std::size_t coord_bytes;  // r and s length in the JOSE signature
  int curve_nid;            // OpenSSL's name for the curve (its order bounds r and s)
};

constexpr std::array<AlgInfo, 9> kAlgs{{
    {Alg::ES256, "ES256", "SHA256", AlgInfo::ecdsa, "P-256", 32, NID_X9_62_prime256v1},
    {Alg::ES384, "ES384", "SHA384", AlgInfo::ecdsa, "P-384", 48, NID_secp384r1},
    {Alg::ES512, "ES512", "SHA512", AlgInfo::ecdsa, "P-521", 66, NID_secp521r1},
    {Alg::RS256, "RS256", "SHA256", AlgInfo::pkcs1, "", 0, 0},
    {Alg::RS384, "RS384", "SHA384", AlgInfo::pkcs1, "", 0, 0},
    {Alg::RS512, "RS512", "SHA512", AlgInfo::pkcs1, "", 0, 0},
    {Alg::PS256, "PS256", "SHA256", AlgInfo::pss, "", 0, 0},
    {Alg::PS384, "PS384", "SHA384", AlgInfo::pss, "", 0, 0},
    {Alg::PS512, "PS512", "SHA512", AlgInfo::pss, "", 0, 0},
}};

const AlgInfo& info(Alg a) { return kAlgs[static_cast<std::size_t>(a)]; }

const ecc_curve* nettle_curve(std::string_view crv) {
  if (crv == "P-256") return nettle_get_secp_256r1();
  if (crv == "P-384") return nettle_get_secp_384r1();
  if (crv == "P-521") return nettle_get_secp_521r1();
  return nullptr;
}

std::size_t coord_bytes_for_curve(std::string_view crv) {
  for (const auto& a : kAlgs)
    if (a.family == AlgInfo::ecdsa && a.curve == crv) return a.coord_bytes;
  return 0;
}

// The curve's order n, big-endian at the coordinate size, from OpenSSL once per process.
struct CurveOrder {
  std::array<unsigned char, 66> bytes{};
  bool ok = false;
};

const CurveOrder& curve_order(const AlgInfo& a) {
  static const std::array<CurveOrder, 3> orders = [] {
    std::array<CurveOrder, 3> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
      EC_GROUP* group = EC_GROUP_new_by_curve_name(kAlgs[i].curve_nid);
      const BIGNUM* n = group ? EC_GROUP_get0_order(group) : nullptr;
      out[i].ok = n && BN_bn2binpad(n, out[i].bytes.data(), static_cast<int>(kAlgs[i].coord_bytes)) > 0;
      EC_GROUP_free(group);
    }
    return out;
  }();
  return orders[static_cast<std::size_t>(a.alg)];  // ES256, ES384, ES512 come first in kAlgs
}

// 0 < v < n for a big-endian v of the coordinate size.
bool in_scalar_range(const unsigned char* v, const CurveOrder& n, std::size_t size) {
  const bool zero = std::all_of(v, v + size, [](unsigned char b) { return b == 0; });
  return !zero && std::memcmp(v, n.bytes.data(), size) < 0;
}

const char* group_for_curve(std::string_view crv) {
  if (crv == "P-256") return "prime256v1";
  if (crv == "P-384") return "secp384r1";
  if (crv == "P-521") return "secp521r1";
  return nullptr;
}

std::string_view curve_for_group(std::string_view group) {
  if (group == "prime256v1" || group == "P-256") return "P-256";
  if (group == "secp384r1" || group == "P-384") return "P-384";
  if (group == "secp521r1" || group == "P-521") return "P-521";
  return {};
}

struct BnDeleter {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;

Pkey key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return Pkey(key);
}

Pkey ec_key(std::string_view crv, const std::string& x, const std::string& y) {
  const char* group = group_for_curve(crv);
  if (!group || x.size() != coord_bytes_for_curve(crv) || y.size() != x.size()) return nullptr;
  std::string point;
  point.reserve(1 + x.size() * 2);
  point.push_back('\x04');  // uncompressed point
  point += x;
  point += y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  Pkey key = key_from_params("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

Pkey rsa_key(const std::string& n, const std::string& e) {
  Bn bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  Bn bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e) return nullptr;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  Pkey key = key_from_params("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

// Nettle's point for the same key; null if Nettle does not take it as a point on the curve.
std::shared_ptr<const EcPoint> nettle_ec_point(std::string_view crv, const std::string& x, const std::string& y) {
  const ecc_curve* curve = nettle_curve(crv);
  if (curve == nullptr) return nullptr;
  auto point = std::make_shared<EcPoint>(curve);
  mpz_t mx, my;
  mpz_init(mx);
  mpz_init(my);
  mpz_import(mx, x.size(), 1, 1, 1, 0, x.data());
  mpz_import(my, y.size(), 1, 1, 1, 0, y.data());
  const bool on_curve = ecc_point_set(&point->point, mx, my) == 1;
  mpz_clear(mx);
  mpz_clear(my);
  return on_curve ? point : nullptr;
}

std::optional<std::string> b64_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return base64url_decode(v->get_string());
}

bool set_padding(EVP_PKEY_CTX* pctx, const AlgInfo& a) {
  if (a.family == AlgInfo::pkcs1) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  if (a.family == AlgInfo::pss)
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  return true;
}

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Verification contexts prepared once per (key, algorithm) and thread, and copied for each
// token. EVP_DigestVerifyInit looks the digest and signature methods up in OpenSSL's global
// provider store (under its locks, ~4 us); copying a prepared context is ~0.3 us and takes
// no global lock, so verification scales with threads. Each entry holds a reference to its key:
// a key dropped by a JWKS refresh stays alive until evicted, so its address can never be
// reused by a new key and match a stale entry.
class PreparedVerifiers {
 public:
  // A context ready for EVP_DigestVerify with `key` and `alg`, or null if OpenSSL refused it.
  EVP_MD_CTX* context_for(const PublicKey& key, Alg alg, const AlgInfo& a) {
    Entry* e = find(key.key.get(), alg);
    if (e == nullptr) e = prepare(key, alg, a);
    if (e == nullptr || EVP_MD_CTX_copy_ex(work_.get(), e->prepared.get()) != 1) return nullptr;
    return work_.get();
  }

 private:
  static constexpr std::size_t kEntries = 8;  // issuers x algorithms in use at once, with room
  struct Entry {
    std::shared_ptr<EVP_PKEY> key;
    Alg alg{};
    MdCtx prepared{nullptr, &EVP_MD_CTX_free};
  };

  Entry* find(const EVP_PKEY* key, Alg alg) {
    for (Entry& e : entries_)
      if (e.key.get() == key && e.alg == alg && e.prepared) return &e;
    return nullptr;
  }

  Entry* prepare(const PublicKey& key, Alg alg, const AlgInfo& a) {
    MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, a.digest, nullptr, nullptr, key.key.get(), nullptr) != 1 ||
        !set_padding(pctx, a))
      return nullptr;
    Entry& slot = entries_[next_++ % kEntries];  // round robin: the set in use is small
    slot = Entry{key.key, alg, std::move(ctx)};
    return &slot;
  }

  std::array<Entry, kEntries> entries_;
  std::size_t next_ = 0;
  MdCtx work_{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

// JOSE r||s -> DER ECDSA-Sig-Value.
std::string ecdsa_raw_to_der(std::string_view raw, std::size_t coord) {
  if (raw.size() != 2 * coord) return {};
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(coord), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + coord), static_cast<int>(coord), nullptr);
  std::string der;
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(sig, &out);
    if (len > 0) der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return der;
}

// DER ECDSA-Sig-Value -> JOSE r||s, each left-padded to the curve size.
std::string ecdsa_der_to_raw(std::string_view der, std::size_t coord) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return {};
  std::string raw(2 * coord, '\0');
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  bool ok = BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(coord)) > 0 &&
            BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data() + coord), static_cast<int>(coord)) > 0;
  ECDSA_SIG_free(sig);
  return ok ? raw : std::string{};
}

std::optional<json::object> decode_json_object(std::string_view b64) {
  auto bytes = base64url_decode(b64);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

std::string base64url_encode(std::span<const unsigned char> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  return base64url_encode(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  // To the standard alphabet, padded, for OpenSSL's decoder: written in place, one pass.
  const std::size_t pad = (4 - text.size() % 4) % 4;
  std::string std_b64(text.size() + pad, '=');
  bool url_alphabet = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    url_alphabet &= c != '+' && c != '/' && c != '=';  // only the URL alphabet, unpadded
    std_b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  if (!url_alphabet) return std::nullopt;
  std::string out(std_b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(std_b64.data()), static_cast<int>(std_b64.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

std::optional<Alg> parse_alg(std::string_view name) noexcept {
  for (const auto& a : kAlgs)
    if (a.name == name) return a.alg;
  return std::nullopt;
}

std::string_view alg_name(Alg alg) noexcept { return info(alg).name; }

std::variant<std::vector<PublicKey>, std::string> parse_jwks(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return "JWKS is not valid JSON: " + ec.message();
  const json::object* root = doc.if_object();
  const json::array* keys = root ? fhir::array_field(root, "keys") : nullptr;
  if (keys == nullptr) return std::string("JWKS must be an object with a \"keys\" array");
  std::vector<PublicKey> out;
  for (const json::value& k : *keys) {
    const json::object* jwk = k.if_object();
    if (jwk == nullptr) continue;
    PublicKey pk;
    pk.kid = std::string(fhir::string_field(jwk, "kid"));
    pk.kty = std::string(fhir::string_field(jwk, "kty"));
    auto use = fhir::string_field(jwk, "use");
    if (pk.kid.empty() || (!use.empty() && use != "sig") || jwk->contains("d")) continue;
    Pkey key;
    if (pk.kty == "EC") {
      pk.crv = std::string(fhir::string_field(jwk, "crv"));
      auto x = b64_member(*jwk, "x"), y = b64_member(*jwk, "y");
      if (x && y) key = ec_key(pk.crv, *x, *y);
      if (key) pk.ec_point = nettle_ec_point(pk.crv, *x, *y);
      if (!pk.ec_point) key.reset();  // both libraries must take the point, or neither sees it
    } else if (pk.kty == "RSA") {
      auto n = b64_member(*jwk, "n"), e = b64_member(*jwk, "e");
      if (n && e) key = rsa_key(*n, *e);
    }
    if (!key) continue;
    pk.key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
    out.push_back(std::move(pk));
  }
  return out;
}

std::string jwks_for(EVP_PKEY* key, std::string_view kid, Alg alg) {
  json::object jwk{{"kid", kid}, {"use", "sig"}, {"alg", alg_name(alg)}};
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t glen = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen);
    unsigned char point[256];
    std::size_t plen = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &plen);
    std::size_t coord = (plen - 1) / 2;
    jwk["kty"] = "EC";
    jwk["crv"] = curve_for_group(group);
    jwk["x"] = base64url_encode(std::span<const unsigned char>(point + 1, coord));
    jwk["y"] = base64url_encode(std::span<const unsigned char>(point + 1 + coord, coord));
  } else {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    auto bytes = [](const BIGNUM* b) {
      std::string s(static_cast<std::size_t>(BN_num_bytes(b)), '\0');
      BN_bn2bin(b, reinterpret_cast<unsigned char*>(s.data()));
      return base64url_encode(s);
    };
    jwk["kty"] = "RSA";
    jwk["n"] = bytes(n);
    jwk["e"] = bytes(e);
    BN_free(n);
    BN_free(e);
  }
  return json::serialize(json::object{{"keys", json::array{std::move(jwk)}}});
}

bool key_fits(const PublicKey& key, Alg alg) noexcept {
  const AlgInfo& a = info(alg);
  if (a.family == AlgInfo::ecdsa) return key.kty == "EC" && key.crv == a.curve && EVP_PKEY_is_a(key.key.get(), "EC");
  return key.kty == "RSA" && EVP_PKEY_is_a(key.key.get(), "RSA") && EVP_PKEY_get_bits(key.key.get()) >= 2048;
}

namespace {

bool verify_openssl(const PublicKey& key, Alg alg, const AlgInfo& a, std::string_view signing_input,
                    std::string_view signature) noexcept {
  std::string der;
  if (a.family == AlgInfo::ecdsa) {
    der = ecdsa_raw_to_der(signature, a.coord_bytes);
    if (der.empty()) return false;
    signature = der;
  }
  thread_local PreparedVerifiers verifiers;
  EVP_MD_CTX* ctx = verifiers.context_for(key, alg, a);
  if (ctx == nullptr) return false;
  return EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

// The signing input's digest, by OpenSSL (hashing stays OpenSSL's): digests fetched once per
// process, one context per thread, so no provider-store lookup per token.
bool ecdsa_digest(const AlgInfo& a, std::string_view signing_input, unsigned char* out, unsigned int& out_len) {
  static const std::array<EVP_MD*, 3> digests = [] {
    std::array<EVP_MD*, 3> d{};
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = EVP_MD_fetch(nullptr, kAlgs[i].digest, nullptr);
    return d;
  }();
  thread_local MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const EVP_MD* md = digests[static_cast<std::size_t>(a.alg)];
  return md && ctx && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), signing_input.data(), signing_input.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, &out_len) == 1;
}

// r and s as Nettle takes them, kept per thread so that each check reuses their limbs.
struct NettleSignature {
  NettleSignature() { dsa_signature_init(&sig); }
  ~NettleSignature() { dsa_signature_clear(&sig); }
  NettleSignature(const NettleSignature&) = delete;
  NettleSignature& operator=(const NettleSignature&) = delete;
  dsa_signature sig;
};

bool verify_nettle(const PublicKey& key, const AlgInfo& a, std::string_view signing_input,
                   std::string_view signature) noexcept {
  if (!key.ec_point || key.ec_point->curve != nettle_curve(a.curve) || signature.size() != 2 * a.coord_bytes)
    return false;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (!ecdsa_digest(a, signing_input, digest, digest_len)) return false;
  thread_local NettleSignature rs;
  mpz_import(rs.sig.r, a.coord_bytes, 1, 1, 1, 0, signature.data());
  mpz_import(rs.sig.s, a.coord_bytes, 1, 1, 1, 0, signature.data() + a.coord_bytes);
  return ecdsa_verify(&key.ec_point->point, digest_len, digest, &rs.sig) == 1;
}

bool verify_ecdsa(EcdsaLibrary library, const PublicKey& key, Alg alg, const AlgInfo& a,
                  std::string_view signing_input, std::string_view signature) noexcept {
  return library == EcdsaLibrary::nettle ? verify_nettle(key, a, signing_input, signature)
                                         : verify_openssl(key, alg, a, signing_input, signature);
}

}  // namespace

bool ecdsa_signature_well_formed(Alg alg, std::string_view signature) noexcept {
  const AlgInfo& a = info(alg);
  if (a.family != AlgInfo::ecdsa || signature.size() != 2 * a.coord_bytes) return false;
  const CurveOrder& n = curve_order(a);
  const auto* r = reinterpret_cast<const unsigned char*>(signature.data());
  return n.ok && in_scalar_range(r, n, a.coord_bytes) && in_scalar_range(r + a.coord_bytes, n, a.coord_bytes);
}

bool verify_with(EcdsaLibrary library, const PublicKey& key, Alg alg, std::string_view signing_input,
                 std::string_view signature) noexcept {
  if (!key_fits(key, alg)) return false;
  const AlgInfo& a = info(alg);
  if (a.family != AlgInfo::ecdsa) return verify_openssl(key, alg, a, signing_input, signature);
  // Malformed r||s is refused here, the same way whichever library would have checked it.
  if (!ecdsa_signature_well_formed(alg, signature)) return false;
  return verify_ecdsa(library, key, alg, a, signing_input, signature);
}

bool verify(const PublicKey& key, Alg alg, std::string_view signing_input, std::string_view signature) noexcept {
  return verify_with(EcdsaLibrary::nettle, key, alg, signing_input, signature);
}

bool detail::ecdsa_verify_unchecked(EcdsaLibrary library, const PublicKey& key, Alg alg,
                                    std::string_view signing_input, std::string_view signature) noexcept {
  const AlgInfo& a = info(alg);
  if (a.family != AlgInfo::ecdsa || !key_fits(key, alg)) return false;
  return verify_ecdsa(library, key, alg, a, signing_input, signature);
}

std::variant<Jws, std::string> parse_jws(std::string_view compact) {
  auto dot1 = compact.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos)
    return std::string("token is not a JWS compact serialization (header.payload.signature)");
  Jws out;
  auto header = decode_json_object(compact.substr(0, dot1));
  if (!header) return std::string("token header is not base64url JSON");
  auto payload = decode_json_object(compact.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return std::string("token payload is not base64url JSON");
  auto sig = base64url_decode(compact.substr(dot2 + 1));
  if (!sig || sig->empty()) return std::string("token signature is missing or not base64url");
  out.header = std::move(*header);
  out.payload = std::move(*payload);
  out.signing_input = compact.substr(0, dot2);
  out.signature = std::move(*sig);
  return out;
}

std::variant<std::string, SignError> sign_jwt(EVP_PKEY* key, Alg alg, std::string_view kid,
                                                const json::object& payload, std::string_view jku) {
  json::object header{{"alg", alg_name(alg)}, {"typ", "JWT"}, {"kid", kid}};
  if (!jku.empty()) header["jku"] = jku;
  std::string input = base64url_encode(json::serialize(header)) + "." + base64url_encode(json::serialize(payload));
  const AlgInfo& a = info(alg);
  MdCtx owned(EVP_MD_CTX_new(), &EVP_MD_CTX_free);  // signing is for tools, not the hot path
  EVP_MD_CTX* ctx = owned.get();
  if (ctx == nullptr) return SignError{"cannot sign: out of memory"};
  EVP_PKEY_CTX* pctx = nullptr;
  std::size_t len = 0;
  if (EVP_DigestSignInit_ex(ctx, &pctx, a.digest, nullptr, nullptr, key, nullptr) != 1 || !set_padding(pctx, a) ||
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return SignError{"cannot sign with this key and algorithm"};
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return SignError{"signing failed"};
  sig.resize(len);
  if (a.family == AlgInfo::ecdsa) sig = ecdsa_der_to_raw(sig, a.coord_bytes);
  return input + "." + base64url_encode(sig);
}

std::variant<Pkey, std::string> load_private_key_pem(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "cannot read key file " + path;
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key) return "not a PEM private key: " + path;
  return Pkey(key);
}

}  // namespace cds::jose
