#include "rules/detail/uuid.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace rules::detail {
namespace {

// The RFC 4122 URL namespace (6ba7b811-9dad-11d1-80b4-00c04fd430c8): names are URL-like
// ("<seed>/<rule>/<reference>/<suggestion>").
constexpr std::array<std::uint8_t, 16> kNamespace{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                                  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

UuidText to_text(const std::array<unsigned char, 16>& b) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  UuidText out{};
  std::size_t o = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 0xF];
  }
  return out;
}

}  // namespace

std::shared_ptr<EVP_MD> fetch_sha1() { return std::shared_ptr<EVP_MD>(EVP_MD_fetch(nullptr, "SHA1", nullptr), &EVP_MD_free); }

Sha1::Sha1(const EVP_MD* sha1) : md_(sha1), ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
  if (md_ == nullptr || ctx_ == nullptr) throw std::runtime_error("OpenSSL SHA-1 unavailable");
}

std::array<unsigned char, 16> Sha1::digest(std::initializer_list<std::string_view> parts) {
  // The namespace and the joined name in one buffer, so OpenSSL is called once per step rather
  // than once per part: each EVP call costs more than hashing a few dozen bytes. Names are
  // short (a seed, a rule id, references); a longer one goes to the heap.
  std::size_t size = kNamespace.size();
  for (std::string_view p : parts) size += p.size() + 1;
  std::array<char, 512> local;
  std::string heap;
  char* buf = local.data();
  if (size > local.size()) {
    heap.resize(size);
    buf = heap.data();
  }
  std::memcpy(buf, kNamespace.data(), kNamespace.size());
  std::size_t n = kNamespace.size();
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) buf[n++] = '/';
    if (!p.empty()) std::memcpy(buf + n, p.data(), p.size());
    n += p.size();
    first = false;
  }
  EVP_MD_CTX* ctx = ctx_.get();
  const bool ok = EVP_DigestInit_ex(ctx, md_, nullptr) == 1 && EVP_DigestUpdate(ctx, buf, n) == 1;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!(ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= 16)) throw std::runtime_error("SHA-1 failed");
  std::array<unsigned char, 16> out;
  std::memcpy(out.data(), md, out.size());
  return out;
}

UuidText Sha1::uuid_v5_of_parts(std::initializer_list<std::string_view> parts) {
  std::array<unsigned char, 16> b = digest(parts);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x50);  // version 5
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return to_text(b);
}

UuidText Sha1::uuid_v7_of_parts(std::uint64_t unix_ms, std::initializer_list<std::string_view> parts) {
  std::array<unsigned char, 16> b = digest(parts);
  for (std::size_t i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(unix_ms >> (8 * (5 - i)));  // big-endian
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x70);  // version 7
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 9562 variant
  return to_text(b);
}

std::string uuid_v5(std::string_view name) {
  Sha1 sha(fetch_sha1().get());
  const UuidText u = sha.uuid_v5_of_parts({name});
  return std::string(u.data(), u.size());
}

}  // namespace rules::detail
