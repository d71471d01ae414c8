#include "rules/detail/uuid.hpp"

#include <cstdint>
#include <cstring>

namespace rules::detail {
namespace {

// The RFC 4122 URL namespace (6ba7b811-9dad-11d1-80b4-00c04fd430c8): names are URL-like
// ("<seed>/<rule>/<reference>/<suggestion>").
constexpr std::array<std::uint8_t, 16> kNamespace{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                                  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

// SHA-1 (FIPS 180-4), streaming. Written out here rather than called through OpenSSL's EVP
// interface, which allocates a context and looks the algorithm up on every call: a card needs
// several ids, and the names are short.
class Sha1 {
 public:
  void update(const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    length_ += n;
    while (n > 0) {
      const std::size_t take = std::min(n, sizeof block_ - used_);
      std::memcpy(block_ + used_, p, take);
      used_ += take;
      p += take;
      n -= take;
      if (used_ == sizeof block_) {
        compress();
        used_ = 0;
      }
    }
  }
  void update(std::string_view s) noexcept { update(s.data(), s.size()); }

  std::array<std::uint8_t, 20> finish() noexcept {
    const std::uint64_t bits = length_ * 8;
    block_[used_++] = 0x80;
    if (used_ > 56) {  // no room for the length: pad this block, then a block of padding and length
      std::memset(block_ + used_, 0, sizeof block_ - used_);
      compress();
      used_ = 0;
    }
    std::memset(block_ + used_, 0, 56 - used_);
    for (int i = 0; i < 8; ++i) block_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    compress();
    std::array<std::uint8_t, 20> out{};
    for (int i = 0; i < 5; ++i)
      for (int k = 0; k < 4; ++k) out[static_cast<std::size_t>(4 * i + k)] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * k));
    return out;
  }

 private:
  static std::uint32_t rotl(std::uint32_t x, int n) noexcept { return (x << n) | (x >> (32 - n)); }

  void compress() noexcept {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = static_cast<std::uint32_t>(block_[4 * i]) << 24 | static_cast<std::uint32_t>(block_[4 * i + 1]) << 16 |
             static_cast<std::uint32_t>(block_[4 * i + 2]) << 8 | static_cast<std::uint32_t>(block_[4 * i + 3]);
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    auto round = [&](std::uint32_t f, std::uint32_t k, std::uint32_t wi) {
      const std::uint32_t t = rotl(a, 5) + f + e + k + wi;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    };
    // The four stages, each with its own function, as separate loops (no per-round branch).
    for (int i = 0; i < 20; ++i) round((b & c) | (~b & d), 0x5A827999, w[i]);
    for (int i = 20; i < 40; ++i) round(b ^ c ^ d, 0x6ED9EBA1, w[i]);
    for (int i = 40; i < 60; ++i) round((b & c) | (b & d) | (c & d), 0x8F1BBCDC, w[i]);
    for (int i = 60; i < 80; ++i) round(b ^ c ^ d, 0xCA62C1D6, w[i]);
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }

  std::uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::uint8_t block_[64] = {};
  std::size_t used_ = 0;
  std::uint64_t length_ = 0;
};

}  // namespace

UuidText uuid_v5_of_parts(std::initializer_list<std::string_view> parts) noexcept {
  Sha1 sha;
  sha.update(kNamespace.data(), kNamespace.size());
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) sha.update("/");
    sha.update(p);
    first = false;
  }
  auto md = sha.finish();
  md[6] = static_cast<std::uint8_t>((md[6] & 0x0F) | 0x50);  // version 5
  md[8] = static_cast<std::uint8_t>((md[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  UuidText out{};
  std::size_t o = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[md[i] >> 4];
    out[o++] = hex[md[i] & 0xF];
  }
  return out;
}

std::string uuid_v5(std::string_view name) {
  const UuidText u = uuid_v5_of_parts({name});
  return std::string(u.data(), u.size());
}

}  // namespace rules::detail
