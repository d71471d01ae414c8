#pragma once
// JOSE pieces the CDS Hooks security model needs, with OpenSSL doing every cryptographic step:
// base64url, JWS compact parsing, JWK/JWKS public keys, signature verification and signing
// (signing serves the cds-token tool and tests; the service itself only verifies).
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

// A public key from a JWK Set, parsed once and kept ready for verification.
struct PublicKey {
  std::string kid;
  std::string kty;  // "EC" | "RSA"
  std::string crv;  // for EC: "P-256" | "P-384" | "P-521"
  std::shared_ptr<EVP_PKEY> key;
};

// Parses a JWK Set ({"keys": [...]}). Keys of other types, private members or use != "sig" are
// skipped; an error is returned only when the document itself is malformed.
std::variant<std::vector<PublicKey>, std::string> parse_jwks(std::string_view json_text);

// A JWK Set with the public half of `key` under `kid` (for the cds-token tool).
std::string jwks_for(EVP_PKEY* key, std::string_view kid, Alg alg);

// True when `alg` may be used with this key: EC algorithms only with an EC key on the matching
// curve, RS/PS only with RSA keys of at least 2048 bits.
bool key_fits(const PublicKey& key, Alg alg) noexcept;

// Verifies a JWS signature over `signing_input` ("header.payload"). ECDSA signatures are the
// raw r||s JOSE form and are converted to DER for OpenSSL.
bool verify(const PublicKey& key, Alg alg, std::string_view signing_input, std::string_view signature) noexcept;

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
