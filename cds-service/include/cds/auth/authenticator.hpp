#pragma once
// CDS Hooks 2.0 client authentication: every call carries a JWT signed by a trusted EHR
// (issuer). Checks the signature (OpenSSL), the issuer, client, audience, lifetime and jti
// (single use). Keys come from a JWKS file or URL per issuer, or a `jku` on its allowlist; a
// `jku` off the allowlist is never fetched (the configured keys decide, when there are any).
#include "cds/auth/jose.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace cds {

struct TrustedIssuer {
  std::string iss;
  std::filesystem::path jwks_file;         // one of jwks_file / jwks_url
  std::string jwks_url;
  std::vector<std::string> jku_allowlist;  // exact URLs a token's jku may name
  std::vector<std::string> clients;        // allowed `sub` values; empty: any
  std::vector<std::string> fhir_servers;   // fhirServer base URLs this EHR may send us to
};

struct AuthConfig {
  bool enabled = true;
  std::vector<TrustedIssuer> trusted_issuers;
  std::vector<std::string> algorithms{"ES384", "RS384"};
  std::chrono::seconds clock_skew{60};
  std::chrono::seconds max_lifetime{300};  // exp - iat, beyond the skew
  // Live jti entries kept (about 40 B each): size it for the peak rate times a token's lifetime
  // plus clock skew (5 min + 1 min), e.g. 2,000 req/s -> 720,000. When full, tokens are refused.
  std::size_t replay_cache_entries = 1'000'000;
  std::chrono::seconds jwks_cache_ttl{3600};
  std::chrono::seconds jwks_min_refresh{60};  // at most one refetch per issuer this often
};

using Clock = std::chrono::system_clock;

// Remembers jti values until their token expires. An interface so that a shared store
// (PostgreSQL, Redis) can replace the in-memory one when the service runs on several nodes.
class ReplayCache {
 public:
  virtual ~ReplayCache() = default;
  enum class Use { first, replay, full };
  // `first` the first time `key` is seen (remembered until `expires`); `replay` when seen
  // before; `full` when the cache holds only unexpired entries (the caller fails closed).
  virtual Use first_use(const std::string& key, Clock::time_point expires, Clock::time_point now) = 0;
};

class MemoryReplayCache final : public ReplayCache {
 public:
  explicit MemoryReplayCache(std::size_t capacity);
  Use first_use(const std::string& key, Clock::time_point expires, Clock::time_point now) override;

 private:
  // Keys are kept as 64-bit fingerprints (SHA-256 under a per-process random salt): about 40
  // bytes an entry instead of about 140, so a cache sized for peak traffic over a token's whole
  // lifetime stays small. Two keys share a fingerprint with odds of about n / 2^64: at worst a
  // false "replay" refusal, never a replay let through.
  std::uint64_t fingerprint(std::string_view key) const;

  std::mutex mutex_;
  std::size_t capacity_;
  std::array<unsigned char, 16> salt_{};
  boost::unordered_flat_map<std::uint64_t, Clock::time_point> seen_;
  // Insertion order, which tracks expiry closely (lifetimes are capped): expired entries are
  // dropped from the front, a few at a time, instead of scanning the whole map.
  std::deque<std::pair<Clock::time_point, std::uint64_t>> order_;
};

struct Principal {
  std::string iss, sub, tenant, jti;
  std::int64_t jti_expires_unix = 0;  // until when the jti must be remembered (exp + skew)
  const TrustedIssuer* issuer = nullptr;
};

struct AuthFailure {
  std::string description;  // safe to return and log: never the token itself
  // Only with KeyFetch::deferred: the token's key can only be had by fetching its issuer's JWK
  // Set, which authenticate() did not do. Ask again with KeyFetch::now where waiting is fine.
  bool key_fetch_needed = false;
};

// Whether authenticate() may fetch a JWK Set (a blocking HTTPS GET of up to its time-out) or
// must leave that to the caller (AuthFailure::key_fetch_needed): an I/O thread must not wait
// on another server while it holds up every other connection it serves.
enum class KeyFetch { now, deferred };

// What a JWK Set fetch brought: the body, or nothing and why (for the log: "timeout",
// "HTTP 404", ...). Converts from a plain optional body, the reason then unknown.
struct FetchResult {
  FetchResult(std::optional<std::string> body_, std::string failure_ = {})
      : body(std::move(body_)), failure(std::move(failure_)) {}
  std::optional<std::string> body;
  std::string failure;
};

// Fetches a URL's body (JWKS over HTTPS). Injected so tests and the service choose the transport.
using Fetch = std::function<FetchResult(const std::string& url)>;

class Authenticator {
 public:
  Authenticator(AuthConfig config, std::shared_ptr<ReplayCache> replay, Fetch fetch);
  // Loads every issuer's JWKS file (and URL, when reachable). Error text on a bad file.
  std::string load_keys();
  std::variant<Principal, AuthFailure> authenticate(std::string_view authorization_header, std::string_view audience,
                                                    Clock::time_point now, KeyFetch fetch = KeyFetch::now);
  const AuthConfig& config() const noexcept { return config_; }

 private:
  struct KeySet {
    std::vector<jose::PublicKey> keys;
    Clock::time_point fetched{};
  };
  // The key for `kid`: from the issuer's configured keys (jwks_file / jwks_url) first, then
  // from an allowlisted `jku`; a `jku` off the allowlist is never fetched and, when the issuer
  // has configured keys, sets `jku_ignored` and decides nothing.
  std::shared_ptr<const jose::PublicKey> find_key(const TrustedIssuer& issuer, std::string_view jku, std::string_view kid,
                                                  Clock::time_point now, KeyFetch fetch, AuthFailure& failure,
                                                  bool& jku_ignored);
  // The key for `kid` in the JWK Set at URL `source`, fetching it when the kid is unknown or the
  // cache stale (at most once per jwks_min_refresh; a failed fetch is logged with its reason).
  // With KeyFetch::deferred a needed fetch sets failure.key_fetch_needed instead.
  std::shared_ptr<const jose::PublicKey> remote_key(const std::string& source, std::string_view kid, Clock::time_point now,
                                                    KeyFetch fetch, AuthFailure& failure);
  // Logs, once per issuer and jku (a bounded number of pairs), that a verified token's jku was
  // not on the allowlist and the configured keys were used instead.
  void note_ignored_jku(std::string_view iss, std::string_view jku);
  std::shared_ptr<const KeySet> key_set(const std::string& source) const;
  // Whether `source` may be fetched at `now` (its last attempt, good or failed, is at least
  // jwks_min_refresh old); claim_fetch() also records `now` as its last attempt.
  bool may_fetch(const std::string& source, Clock::time_point now) const;
  bool claim_fetch(const std::string& source, Clock::time_point now);

  AuthConfig config_;
  std::vector<jose::Alg> algorithms_;
  std::shared_ptr<ReplayCache> replay_;
  Fetch fetch_;
  mutable std::mutex keys_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const KeySet>> keys_;  // by JWKS file path or URL
  std::unordered_map<std::string, Clock::time_point> last_fetch_;        // by URL: the last attempt
  std::unordered_set<std::string> ignored_jku_logged_;                   // "iss\njku" pairs, bounded
};

// SSRF guard: may a request from this issuer make us call `fhir_server`? Exact scheme, host
// and port, and a path prefix on segment boundaries; https only, except loopback http when
// `development` is true.
bool fhir_server_allowed(std::span<const std::string> allowlist, std::string_view fhir_server, bool development);
// An http(s) URL whose host is a loopback address or "localhost".
bool is_loopback_url(std::string_view url);

}  // namespace cds
