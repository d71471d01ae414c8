#pragma once
// JOSE pieces the CDS Hooks security model needs: base64url, JWS compact parsing, JWK/JWKS public
// keys, signature verification and signing (signing serves the cds-token tool and tests; the
// service itself only verifies). OpenSSL does every cryptographic step but one: ECDSA
// verification (ES256/384/512) is Nettle's, whose dedicated NIST-curve code verifies P-384 about
// twice as fast as Debian 12's OpenSSL 3.0 (bench/README.md). OpenSSL still hashes, parses keys
// and can verify ECDSA too, which tests use to cross-check every answer.
#include "fhir/json.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace cds::jose {

std::string base64url_encode(std::span<const unsigned char> bytes);
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const noexcept;
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// JWS algorithms this code knows. HMAC and "none" are deliberately absent: a public key must
// never be usable as a shared secret (key confusion), and unsigned tokens are never accepted.
enum class Alg { ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512 };
std::optional<Alg> parse_alg(std::string_view name) noexcept;
std::string_view alg_name(Alg alg) noexcept;

// An EC public key in Nettle's form, made once per key (defined in jose.cpp).
struct EcPoint;

// A public key from a JWK Set, parsed once and kept ready for verification.
struct PublicKey {
  std::string kid;
  std::string kty;  // "EC" | "RSA"
  std::string crv;  // for EC: "P-256" | "P-384" | "P-521"
  std::shared_ptr<EVP_PKEY> key;
  std::shared_ptr<const EcPoint> ec_point;  // EC keys: the same point, for Nettle's verifier
};

// Parses a JWK Set ({"keys": [...]}). Keys of other types, private members or use != "sig" are
// skipped, and so are EC keys whose x or y is not the curve's full coordinate size (RFC 7518
// section 6.2.1.2) or whose point is not on the curve (both OpenSSL and Nettle must accept it);
// an error is returned only when the document itself is malformed.
std::variant<std::vector<PublicKey>, std::string> parse_jwks(std::string_view json_text);

// A JWK Set with the public half of `key` under `kid` (for the cds-token tool).
std::string jwks_for(EVP_PKEY* key, std::string_view kid, Alg alg);

// True when `alg` may be used with this key: EC algorithms only with an EC key on the matching
// curve, RS/PS only with RSA keys of at least 2048 bits.
bool key_fits(const PublicKey& key, Alg alg) noexcept;

// Verifies a JWS signature over `signing_input` ("header.payload"). ECDSA signatures are the
// raw r||s JOSE form; they must be well formed (below) before a library sees them, and are then
// checked by Nettle. RSA (RS*, PS*) is OpenSSL's.
bool verify(const PublicKey& key, Alg alg, std::string_view signing_input, std::string_view signature) noexcept;

// The library that checks ECDSA signatures: verify() uses Nettle; OpenSSL is kept so that tests
// and benchmarks can compare the two on the same signatures. Anything else is OpenSSL either way.
enum class EcdsaLibrary { nettle, openssl };
bool verify_with(EcdsaLibrary library, const PublicKey& key, Alg alg, std::string_view signing_input,
                 std::string_view signature) noexcept;

// A JOSE ECDSA signature either library may be given: exactly r||s at the curve's coordinate size
// (64, 96 or 132 bytes), with 0 < r < n and 0 < s < n for the curve's order n. A high s (s > n/2)
// is accepted: JOSE does not ask for low s, OpenSSL and Nettle both accept it, and a second form
// of one signature gains a forger nothing because a token's jti is spent once whatever its form.
bool ecdsa_signature_well_formed(Alg alg, std::string_view signature) noexcept;

namespace detail {
// For tests only: one library's answer without the well-formedness check in front of it, to show
// that each library also refuses malformed signatures on its own.
bool ecdsa_verify_unchecked(EcdsaLibrary library, const PublicKey& key, Alg alg, std::string_view signing_input,
                            std::string_view signature) noexcept;
}  // namespace detail

// Parsed, not yet verified, JWS compact serialization.
struct Jws {
  boost::json::object header;
  boost::json::object payload;
  std::string_view signing_input;  // views into the compact text
  std::string signature;           // decoded bytes
};
std::variant<Jws, std::string> parse_jws(std::string_view compact);

// Signs `payload` as a JWS with the header {"alg", "typ": "JWT", "kid", ["jku"]}.
struct SignError {
  std::string message;
};
std::variant<std::string, SignError> sign_jwt(EVP_PKEY* private_key, Alg alg, std::string_view kid,
                                                const boost::json::object& payload, std::string_view jku = {});

// Loads a PEM private key (PKCS#8 or traditional).
std::variant<Pkey, std::string> load_private_key_pem(const std::string& path);

}  // namespace cds::jose
