#include "cds/auth/authenticator.hpp"

#include <boost/beast/core/string.hpp>
#include "cds/http/url.hpp"
#include "cds/log.hpp"

#include <boost/url/parse.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sstream>

namespace cds {
namespace json = boost::json;

MemoryReplayCache::MemoryReplayCache(std::size_t capacity) : capacity_(capacity) {
  if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) throw std::runtime_error("no randomness for the replay cache");
}

std::uint64_t MemoryReplayCache::fingerprint(std::string_view key) const {
  // One digest context per thread, reset between uses (as for signature checks).
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), salt_.data(), salt_.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), key.data(), key.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
    throw std::runtime_error("SHA-256 failed");
  std::uint64_t fp;
  std::memcpy(&fp, digest, sizeof fp);
  return fp;
}

ReplayCache::Use MemoryReplayCache::first_use(const std::string& key, Clock::time_point expires, Clock::time_point now) {
  const std::uint64_t fp = fingerprint(key);
  std::lock_guard lock(mutex_);
  while (!order_.empty() && order_.front().first <= now) {
    auto it = seen_.find(order_.front().second);
    if (it != seen_.end() && it->second <= now) seen_.erase(it);
    order_.pop_front();
  }
  if (auto it = seen_.find(fp); it != seen_.end()) {
    if (it->second > now) return Use::replay;
    seen_.erase(it);
  }
  if (seen_.size() >= capacity_) return Use::full;  // full of live tokens: refuse rather than forget
  seen_.emplace(fp, expires);
  order_.emplace_back(expires, fp);
  return Use::first;
}

namespace {

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 7519's NumericDate: seconds since 1970, possibly fractional. Only 0 up to kLatestDate
// (the year 4147) reads as one; anything else is refused, so that the time checks' arithmetic
// cannot overflow and no out-of-range double is converted (both undefined behaviour, on claims
// an unauthenticated caller chooses: found by fuzzing).
constexpr std::int64_t kLatestDate = std::int64_t{1} << 36;
std::optional<std::int64_t> numeric_date(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() < kLatestDate) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() < static_cast<std::uint64_t>(kLatestDate)) return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double() && v.get_double() >= 0 && v.get_double() < static_cast<double>(kLatestDate))
    return static_cast<std::int64_t>(v.get_double());
  return std::nullopt;
}

bool audience_matches(const json::object& payload, std::string_view audience) {
  const json::value* aud = payload.if_contains("aud");
  if (aud == nullptr) return false;
  if (const json::string* s = aud->if_string()) return *s == audience;
  if (const json::array* a = aud->if_array())
    return std::any_of(a->begin(), a->end(), [&](const json::value& v) { return v.is_string() && v.get_string() == audience; });
  return false;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

Authenticator::Authenticator(AuthConfig config, std::shared_ptr<ReplayCache> replay, Fetch fetch)
    : config_(std::move(config)), replay_(std::move(replay)), fetch_(std::move(fetch)) {
  for (const auto& name : config_.algorithms)
    if (auto a = jose::parse_alg(name)) algorithms_.push_back(*a);
}

std::string Authenticator::load_keys() {
  std::unordered_map<std::string, std::shared_ptr<const KeySet>> loaded;
  for (const auto& issuer : config_.trusted_issuers) {
    if (!issuer.jwks_file.empty()) {
      auto text = read_file(issuer.jwks_file);
      if (!text) return "cannot read JWKS file " + issuer.jwks_file.string() + " for issuer " + issuer.iss;
      auto keys = jose::parse_jwks(*text);
      if (auto* err = std::get_if<std::string>(&keys)) return issuer.jwks_file.string() + ": " + *err;
      auto set = std::make_shared<KeySet>();
      set->keys = std::get<std::vector<jose::PublicKey>>(std::move(keys));
      set->fetched = Clock::now();
      loaded[issuer.jwks_file.string()] = std::move(set);
    }
  }
  std::lock_guard lock(keys_mutex_);
  for (auto& [k, v] : loaded) keys_[k] = std::move(v);
  return {};
}

std::shared_ptr<const Authenticator::KeySet> Authenticator::key_set(const std::string& source) const {
  std::lock_guard lock(keys_mutex_);
  auto it = keys_.find(source);
  return it == keys_.end() ? nullptr : it->second;
}

bool Authenticator::may_fetch(const std::string& source, Clock::time_point now) const {
  std::lock_guard lock(keys_mutex_);
  auto it = last_fetch_.find(source);
  return it == last_fetch_.end() || now - it->second >= config_.jwks_min_refresh;
}

bool Authenticator::claim_fetch(const std::string& source, Clock::time_point now) {
  std::lock_guard lock(keys_mutex_);
  auto [it, first] = last_fetch_.try_emplace(source, now);
  if (first) return true;
  if (now - it->second < config_.jwks_min_refresh) return false;
  it->second = now;
  return true;
}

std::shared_ptr<const jose::PublicKey> Authenticator::remote_key(const std::string& source, std::string_view kid,
                                                                 Clock::time_point now, KeyFetch fetch, AuthFailure& failure) {
  auto lookup = [&](const std::shared_ptr<const KeySet>& set) -> std::shared_ptr<const jose::PublicKey> {
    if (!set) return nullptr;
    for (const auto& k : set->keys)
      if (k.kid == kid) return std::shared_ptr<const jose::PublicKey>(set, &k);
    return nullptr;
  };
  auto set = key_set(source);
  const bool stale = !set || now - set->fetched > config_.jwks_cache_ttl;
  if (auto k = lookup(set); k && !stale) return k;
  // Unknown kid or stale cache: refetch, but at most once per jwks_min_refresh per source,
  // whether the last attempt worked or not, so that neither a flood of made-up kids nor a JWK Set
  // host that is down turns us into a traffic amplifier, or holds every such token for its
  // time-out: in between they are answered at once from what we have.
  if (fetch_ && may_fetch(source, now)) {
    if (fetch == KeyFetch::deferred) {
      failure = AuthFailure{"the issuer's keys must be fetched first", true};
      return nullptr;
    }
    if (claim_fetch(source, now)) {
      FetchResult got = fetch_(source);
      std::string why = got.body ? std::string{} : (got.failure.empty() ? "no answer" : got.failure);
      if (got.body) {
        auto keys = jose::parse_jwks(*got.body);
        if (auto* parsed = std::get_if<std::vector<jose::PublicKey>>(&keys)) {
          auto fresh = std::make_shared<KeySet>();
          fresh->keys = std::move(*parsed);
          fresh->fetched = now;
          std::lock_guard lock(keys_mutex_);
          keys_[source] = fresh;
        } else {
          why = "not a JWK Set: " + std::get<std::string>(keys);
        }
      }
      // The URL is configuration or allowlisted (never an arbitrary caller's), so it may be logged.
      if (!why.empty()) log(LogLevel::warning, "JWK Set fetch from " + source + " failed: " + why);
    }
    set = key_set(source);  // ours, or one another thread fetched meanwhile
  }
  return lookup(set);  // a stale key still verifies while its host cannot be reached
}

void Authenticator::note_ignored_jku(std::string_view iss, std::string_view jku) {
  constexpr std::size_t kMaxPairs = 64;  // callers choose jku: remembering, and so logging, is bounded
  std::string pair = std::string(iss) + '\n' + std::string(jku.substr(0, 256));
  {
    std::lock_guard lock(keys_mutex_);
    if (ignored_jku_logged_.size() >= kMaxPairs || !ignored_jku_logged_.insert(pair).second) return;
  }
  std::string shown(jku.substr(0, 256));  // no control character can forge a log line
  std::replace_if(shown.begin(), shown.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }, '?');
  log(LogLevel::info, "issuer " + std::string(iss) + ": token jku " + shown +
                          " is not on its jku_allowlist; not fetched, verified with the configured keys");
}

std::shared_ptr<const jose::PublicKey> Authenticator::find_key(const TrustedIssuer& issuer, std::string_view jku,
                                                               std::string_view kid, Clock::time_point now, KeyFetch fetch,
                                                               AuthFailure& failure, bool& jku_ignored) {
  const bool has_configured = !issuer.jwks_file.empty() || !issuer.jwks_url.empty();
  const bool jku_allowed = !jku.empty() && contains(issuer.jku_allowlist, jku);
  jku_ignored = false;
  if (!jku.empty() && !jku_allowed) {
    // Never fetched: a caller-chosen URL would make us an SSRF proxy and let anyone supply keys.
    // Where the issuer has configured keys they alone decide, exactly as for a token without a
    // jku, so ignoring the header grants nothing a token without it would not get.
    if (!has_configured) {
      failure.description = "jku is not on the issuer's allowlist";
      return nullptr;
    }
    jku_ignored = true;
  }
  // The configured keys first: a kid found there needs no fetch.
  if (!issuer.jwks_file.empty()) {
    if (auto set = key_set(issuer.jwks_file.string()))
      for (const auto& k : set->keys)
        if (k.kid == kid) return std::shared_ptr<const jose::PublicKey>(set, &k);
  } else if (!issuer.jwks_url.empty()) {
    auto set = key_set(issuer.jwks_url);
    if (set && now - set->fetched <= config_.jwks_cache_ttl)
      for (const auto& k : set->keys)
        if (k.kid == kid) return std::shared_ptr<const jose::PublicKey>(set, &k);
  }
  // Then an allowlisted jku; when it cannot be fetched (or lacks the kid), the configured keys.
  if (jku_allowed) {
    if (auto k = remote_key(std::string(jku), kid, now, fetch, failure)) return k;
    if (failure.key_fetch_needed) return nullptr;
  }
  if (!issuer.jwks_url.empty()) {
    if (auto k = remote_key(issuer.jwks_url, kid, now, fetch, failure)) return k;
    if (failure.key_fetch_needed) return nullptr;
  }
  failure.description = "no key with this kid for the issuer";
  return nullptr;
}

std::variant<Principal, AuthFailure> Authenticator::authenticate(std::string_view header, std::string_view audience,
                                                                 Clock::time_point now, KeyFetch fetch) {
  if (header.empty()) return AuthFailure{"missing Authorization: Bearer token"};
  if (header.size() < 7 || !boost::beast::iequals(header.substr(0, 7), "Bearer "))
    return AuthFailure{"Authorization must use the Bearer scheme"};
  std::string_view compact = header.substr(7);
  while (!compact.empty() && compact.front() == ' ') compact.remove_prefix(1);
  auto parsed = jose::parse_jws(compact);
  if (auto* err = std::get_if<std::string>(&parsed)) return AuthFailure{*err};
  const jose::Jws& jws = std::get<jose::Jws>(parsed);

  std::string_view alg_text = fhir::string_field(&jws.header, "alg");
  auto alg = jose::parse_alg(alg_text);
  if (!alg || std::find(algorithms_.begin(), algorithms_.end(), *alg) == algorithms_.end())
    return AuthFailure{"alg \"" + std::string(alg_text.substr(0, 16)) + "\" is not accepted"};
  if (auto typ = fhir::string_field(&jws.header, "typ"); !boost::beast::iequals(typ, "JWT"))
    return AuthFailure{"typ must be JWT"};
  std::string_view kid = fhir::string_field(&jws.header, "kid");
  if (kid.empty()) return AuthFailure{"kid is required"};

  const json::object& claims = jws.payload;
  std::string_view iss = fhir::string_field(&claims, "iss");
  const TrustedIssuer* issuer = nullptr;
  for (const auto& t : config_.trusted_issuers)
    if (t.iss == iss) issuer = &t;
  if (issuer == nullptr) return AuthFailure{"iss is not a trusted issuer"};
  std::string_view sub = fhir::string_field(&claims, "sub");
  if (!issuer->clients.empty() && !contains(issuer->clients, sub)) return AuthFailure{"sub is not an allowed client"};
  if (!audience_matches(claims, audience)) return AuthFailure{"aud does not name this endpoint"};

  const json::value* exp_claim = claims.if_contains("exp");
  const json::value* iat_claim = claims.if_contains("iat");
  if (exp_claim == nullptr || iat_claim == nullptr) return AuthFailure{"exp and iat are required"};
  const auto exp = numeric_date(*exp_claim);
  const auto iat = numeric_date(*iat_claim);
  if (!exp || !iat) return AuthFailure{"exp and iat must be NumericDates: seconds since 1970"};
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto skew = config_.clock_skew.count();
  if (*exp + skew <= now_s) return AuthFailure{"token has expired"};
  if (*iat > now_s + skew) return AuthFailure{"iat is in the future"};
  if (*exp - *iat > config_.max_lifetime.count() + skew) return AuthFailure{"token lifetime (exp - iat) is too long"};
  std::string_view jti = fhir::string_field(&claims, "jti");
  if (jti.empty()) return AuthFailure{"jti is required"};

  AuthFailure no_key;
  bool jku_ignored = false;
  std::string_view jku = fhir::string_field(&jws.header, "jku");
  auto key = find_key(*issuer, jku, kid, now, fetch, no_key, jku_ignored);
  if (key == nullptr) return no_key;
  if (!jose::verify(*key, *alg, jws.signing_input, jws.signature)) return AuthFailure{"signature does not verify"};
  if (jku_ignored) note_ignored_jku(iss, jku);  // only for tokens the issuer really signed

  // Only a verified token may spend its jti; otherwise a forger could burn real ones.
  std::string replay_key = std::string(iss) + '\n' + std::string(jti);
  switch (replay_->first_use(replay_key, Clock::time_point(std::chrono::seconds(*exp + skew)), now)) {
    case ReplayCache::Use::first: break;
    case ReplayCache::Use::replay: return AuthFailure{"jti has already been used"};
    case ReplayCache::Use::full: return AuthFailure{"too many live tokens to check jti against; retry shortly"};
  }

  Principal p;
  p.iss = iss;
  p.sub = sub;
  p.tenant = fhir::string_field(&claims, "tenant");
  p.jti = jti;
  p.jti_expires_unix = *exp + skew;
  p.issuer = issuer;
  return p;
}

namespace {
bool loopback_host(const boost::urls::url_view& u) {
  return u.host_type() == boost::urls::host_type::ipv4 ? u.host_ipv4_address().is_loopback()
         : u.host_type() == boost::urls::host_type::ipv6 ? u.host_ipv6_address().is_loopback()
                                                           : u.host() == "localhost";
}
}  // namespace

bool is_loopback_url(std::string_view text) {
  auto url = parse_http_url(text);
  return url && loopback_host(*url);
}

bool fhir_server_allowed(std::span<const std::string> allowlist, std::string_view fhir_server, bool development) {
  auto url = parse_http_url(fhir_server);
  if (!url || url->has_query() || url->has_fragment()) return false;
  if (url->scheme() != "https" && !(development && loopback_host(*url) && url->scheme() == "http")) return false;
  for (const auto& entry : allowlist) {
    auto allowed = parse_http_url(entry);
    if (!allowed) continue;
    if (allowed->scheme() != url->scheme() || allowed->host() != url->host() ||
        allowed->port_number() != url->port_number())
      continue;
    std::string_view base = allowed->encoded_path();
    std::string_view path = url->encoded_path();
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    if (path.starts_with(base) && (path.size() == base.size() || path[base.size()] == '/')) return true;
  }
  return false;
}

}  // namespace cds
