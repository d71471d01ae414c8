#pragma once
// Patient references in the audit: HMAC-SHA256 under a secret key, so reviewers can follow one
// patient across calls without the audit holding who it is.
#include <openssl/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace cds {

class Pseudonymizer {
 public:
  // Reads the key file, creating it (32 random bytes, mode 0600) when it does not exist.
  static std::variant<Pseudonymizer, std::string> from_key_file(const std::filesystem::path& file);
  static Pseudonymizer disabled() { return Pseudonymizer(); }
  // "hmac-sha256:<hex>" of the reference, or the reference itself when disabled. Thread-safe.
  std::string operator()(std::string_view patient_reference) const;

 private:
  Pseudonymizer() = default;
  // HMAC-SHA256 keyed once (the key's pads hashed, the digest fetched from the provider store);
  // each reference copies it. Null: pseudonymisation off, references stored as given.
  std::shared_ptr<const EVP_MAC_CTX> keyed_;
};

}  // namespace cds
