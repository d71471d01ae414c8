#pragma once
// Name-based (version 5, SHA-1) UUIDs: card and suggestion ids are a function of the caller's
// seed and what the card is about, so the same request always yields the same ids.
#include <openssl/types.h>

#include <array>
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

 private:
  const EVP_MD* md_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

// The SHA-1 implementation a RuleSet keeps (EVP_MD_fetch); null if OpenSSL has none.
std::shared_ptr<EVP_MD> fetch_sha1();

// UUIDv5 of `name` in this service's namespace, lower-case hex with dashes.
std::string uuid_v5(std::string_view name);

}  // namespace rules::detail
