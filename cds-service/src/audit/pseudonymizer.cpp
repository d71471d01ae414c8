// Patient references in the audit are HMAC-SHA256 pseudonyms under a key kept beside the
// database: stable (reports count patients), not reversible without the key.
#include "cds/audit/pseudonymizer.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace cds {
namespace {

using MacCtx = std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)>;

// An HMAC-SHA256 context with `key` set, ready to be copied; null if OpenSSL refuses.
std::shared_ptr<const EVP_MAC_CTX> keyed_hmac(std::string_view key) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr), &EVP_MAC_free);
  if (!mac) return nullptr;
  MacCtx ctx(EVP_MAC_CTX_new(mac.get()), &EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1)
    return nullptr;
  return std::shared_ptr<const EVP_MAC_CTX>(ctx.release(), [](const EVP_MAC_CTX* c) { EVP_MAC_CTX_free(const_cast<EVP_MAC_CTX*>(c)); });
}

}  // namespace

std::variant<Pseudonymizer, std::string> Pseudonymizer::from_key_file(const std::filesystem::path& file) {
  Pseudonymizer p;
  std::string key;
  std::ifstream in(file, std::ios::binary);
  if (in) {
    key.assign(std::istreambuf_iterator<char>(in), {});
    if (key.size() < 16) return "pseudonym key file " + file.string() + " holds fewer than 16 bytes";
  } else {
    unsigned char fresh[32];
    if (RAND_bytes(fresh, sizeof fresh) != 1) return std::string("cannot generate a pseudonym key");
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    const mode_t old = ::umask(077);  // the key is created private, never briefly world-readable
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(fresh), sizeof fresh);
    out.close();
    ::umask(old);
    if (!out) return "cannot write pseudonym key file " + file.string();
    key.assign(reinterpret_cast<const char*>(fresh), sizeof fresh);
  }
  p.keyed_ = keyed_hmac(key);
  OPENSSL_cleanse(key.data(), key.size());
  if (!p.keyed_) return std::string("cannot set up HMAC-SHA256 for pseudonyms");
  return p;
}

std::string Pseudonymizer::operator()(std::string_view reference) const {
  if (!keyed_) return std::string(reference);
  // A copy per call: the shared context is only read (EVP_MAC_CTX_dup takes it const), so
  // threads pseudonymise at once without a lock.
  MacCtx ctx(EVP_MAC_CTX_dup(keyed_.get()), &EVP_MAC_CTX_free);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  std::string out = "hmac-sha256:";
  if (!ctx || EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(reference.data()), reference.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac, &len, sizeof mac) != 1)
    return out + "unavailable";  // out of memory: never the reference itself
  static constexpr char hex[] = "0123456789abcdef";
  out.reserve(out.size() + 2 * len);
  for (std::size_t i = 0; i < len; ++i) out += hex[mac[i] >> 4], out += hex[mac[i] & 15];
  return out;
}

}  // namespace cds
