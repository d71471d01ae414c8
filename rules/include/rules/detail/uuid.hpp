#pragma once
// Card and suggestion ids: a function of the caller's seed, when the cards are issued and what
// the card is about, so the same request, seed and time always yield the same ids. They are
// time-ordered (version 7: a millisecond timestamp, then 74 bits of a SHA-1 of the name), so
// the audit's index of card ids grows at its end instead of at a random page per card. The
// name-based version 5 of the same hash is kept for what needs no order.
#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace rules::detail {

using UuidText = std::array<char, 36>;  // lower-case hex with dashes

// SHA-1 by OpenSSL for a run of ids. The algorithm is fetched once per rule set
// (RuleSet::sha1) and the context allocated once per evaluation, not for every id: a card
// needs several, and looking the algorithm up costs more than hashing a short name.
class Sha1 {
 public:
  explicit Sha1(const EVP_MD* sha1);
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;
  // UUIDv5 of the name made of `parts` joined by '/', in this service's namespace.
  UuidText uuid_v5_of_parts(std::initializer_list<std::string_view> parts);
  // UUIDv7 (RFC 9562 §5.7): `unix_ms` in the first 48 bits, the rest (but version and variant)
  // from the same SHA-1 as uuid_v5_of_parts.
  UuidText uuid_v7_of_parts(std::uint64_t unix_ms, std::initializer_list<std::string_view> parts);

 private:
  // SHA-1 of the namespace and the joined name: the first 16 of its bytes.
  std::array<unsigned char, 16> digest(std::initializer_list<std::string_view> parts);

  const EVP_MD* md_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

// The SHA-1 implementation a RuleSet keeps (EVP_MD_fetch); null if OpenSSL has none.
std::shared_ptr<EVP_MD> fetch_sha1();

// UUIDv5 of `name` in this service's namespace, lower-case hex with dashes.
std::string uuid_v5(std::string_view name);

}  // namespace rules::detail
