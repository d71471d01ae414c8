// Authenticator: every acceptance and refusal rule of the CDS Hooks JWT profile, with real
// keys generated at test time, a JWKS served through an injected fetch (counted), and time
// passed in.
#include "cds/auth/authenticator.hpp"
#include "cds/log.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

namespace {

using namespace cds;
using namespace std::chrono_literals;
namespace json = boost::json;

const std::string kIss = "https://ehr.test";
const std::string kAud = "https://cds.test/cds-services/knee-oa-order-sign";
const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1'800'000'000));

long long secs(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ec_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    rsa_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    other_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    dir_ = std::filesystem::temp_directory_path() / ("auth-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    // One JWKS file with both keys.
    auto ec_jwks = json::parse(jose::jwks_for(ec_.get(), "ec-1", jose::Alg::ES384)).as_object();
    auto rsa_jwks = json::parse(jose::jwks_for(rsa_.get(), "rsa-1", jose::Alg::RS384)).as_object();
    ec_jwks["keys"].as_array().push_back(rsa_jwks["keys"].as_array()[0]);
    jwks_text_ = json::serialize(ec_jwks);
    std::ofstream(dir_ / "jwks.json") << jwks_text_;

    TrustedIssuer file_issuer;
    file_issuer.iss = kIss;
    file_issuer.jwks_file = dir_ / "jwks.json";
    file_issuer.clients = {"client-a"};
    file_issuer.jku_allowlist = {"https://ehr.test/jwks-allowed"};
    TrustedIssuer url_issuer;
    url_issuer.iss = "https://remote.test";
    url_issuer.jwks_url = "https://remote.test/jwks";
    config_.trusted_issuers = {file_issuer, url_issuer};
    make();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void make() {
    auth_ = std::make_unique<Authenticator>(config_, std::make_shared<MemoryReplayCache>(1000),
                                            [this](const std::string& url) -> std::optional<std::string> {
                                              ++fetches_;
                                              last_url_ = url;
                                              if (jwks_down_) return std::nullopt;
                                              if (url == "https://remote.test/jwks" ||
                                                  url == "https://ehr.test/jwks-allowed")
                                                return served_jwks_.empty() ? jwks_text_ : served_jwks_;
                                              return std::nullopt;
                                            });
    ASSERT_EQ(auth_->load_keys(), "");
  }

  json::object claims(Clock::time_point now = kNow) {
    return json::object{{"iss", kIss}, {"sub", "client-a"}, {"aud", kAud},
                        {"iat", secs(now)}, {"exp", secs(now + 300s)}, {"jti", "jti-" + std::to_string(++jti_)}};
  }
  std::string sign(const json::object& payload, jose::Alg alg = jose::Alg::ES384, std::string kid = "ec-1",
                   EVP_PKEY* key = nullptr, std::string jku = {}) {
    if (key == nullptr) key = alg == jose::Alg::RS384 ? rsa_.get() : ec_.get();
    return std::get<std::string>(jose::sign_jwt(key, alg, kid, payload, jku));
  }
  std::string refusal(const std::string& token, std::string_view aud = kAud, Clock::time_point now = kNow) {
    auto r = auth_->authenticate("Bearer " + token, aud, now);
    if (auto* f = std::get_if<AuthFailure>(&r)) return f->description;
    return "";
  }
  // Hand-built token with an arbitrary header (for alg none / HS256).
  std::string raw_token(const json::object& header, const json::object& payload, std::string_view sig) {
    return jose::base64url_encode(json::serialize(header)) + "." + jose::base64url_encode(json::serialize(payload)) +
           "." + std::string(sig);
  }

  AuthConfig config_;
  std::unique_ptr<Authenticator> auth_;
  jose::Pkey ec_, rsa_, other_;
  std::filesystem::path dir_;
  std::string jwks_text_, served_jwks_, last_url_;
  int fetches_ = 0;
  int jti_ = 0;
  bool jwks_down_ = false;  // the JWK Set URL answers nothing
};

TEST_F(AuthenticatorTest, AcceptsEs384AndRs384AndReportsThePrincipal) {
  auto c = claims();
  c["tenant"] = "clinic-7";
  auto r = auth_->authenticate("Bearer " + sign(c), kAud, kNow);
  ASSERT_TRUE(std::holds_alternative<Principal>(r)) << std::get<AuthFailure>(r).description;
  const auto& p = std::get<Principal>(r);
  EXPECT_EQ(p.iss, kIss);
  EXPECT_EQ(p.sub, "client-a");
  EXPECT_EQ(p.tenant, "clinic-7");
  EXPECT_EQ(p.issuer->iss, kIss);
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::RS384, "rsa-1")), "");
}

TEST_F(AuthenticatorTest, AudienceMayBeAnArray) {
  auto c = claims();
  c["aud"] = json::array{"https://other", kAud};
  EXPECT_EQ(refusal(sign(c)), "");
}

TEST_F(AuthenticatorTest, RefusesMissingOrMalformedHeaders) {
  EXPECT_EQ(std::get<AuthFailure>(auth_->authenticate("", kAud, kNow)).description,
            "missing Authorization: Bearer token");
  EXPECT_NE(std::get<AuthFailure>(auth_->authenticate("Basic dXNlcjpwYXNz", kAud, kNow)).description, "");
  EXPECT_NE(refusal("not-a-jwt"), "");
  EXPECT_NE(refusal("a.b.c"), "");
}

TEST_F(AuthenticatorTest, RefusesAlgNoneAndHmacKeyConfusion) {
  auto c = claims();
  EXPECT_EQ(refusal(raw_token({{"alg", "none"}, {"typ", "JWT"}, {"kid", "ec-1"}}, c, "")),
            "token signature is missing or not base64url");
  EXPECT_EQ(refusal(raw_token({{"alg", "none"}, {"typ", "JWT"}, {"kid", "ec-1"}}, c, "AA")), "alg \"none\" is not accepted");
  // HS256 "signed" with the public JWKS text as the shared secret: the classic confusion attack.
  std::string input = jose::base64url_encode(json::serialize(json::object{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "ec-1"}})) +
                      "." + jose::base64url_encode(json::serialize(c));
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), jwks_text_.data(), static_cast<int>(jwks_text_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  std::string hs = input + "." + jose::base64url_encode(std::span<const unsigned char>(mac, len));
  EXPECT_EQ(refusal(hs), "alg \"HS256\" is not accepted");
}

TEST_F(AuthenticatorTest, RefusesAlgorithmsNotConfigured) {
  auto p256 = jose::Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES256, "ec-1", p256.get())), "alg \"ES256\" is not accepted");
}

TEST_F(AuthenticatorTest, RefusesWrongKeyAndUnknownKid) {
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "ec-1", other_.get())), "signature does not verify");
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "nobody")), "no key with this kid for the issuer");
  // An RS384 header naming the EC key's kid: the key type does not fit the alg.
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::RS384, "ec-1")), "signature does not verify");
}

TEST_F(AuthenticatorTest, RefusesUntrustedIssuerDisallowedClientAndWrongAudience) {
  auto c = claims();
  c["iss"] = "https://evil.test";
  EXPECT_EQ(refusal(sign(c)), "iss is not a trusted issuer");
  c = claims();
  c["sub"] = "client-b";
  EXPECT_EQ(refusal(sign(c)), "sub is not an allowed client");
  EXPECT_EQ(refusal(sign(claims()), "https://cds.test/cds-services/knee-oa-order-select"), "aud does not name this endpoint");
  c = claims();
  c.erase("aud");
  EXPECT_EQ(refusal(sign(c)), "aud does not name this endpoint");
}

TEST_F(AuthenticatorTest, EnforcesLifetimeWithSkew) {
  // Expired 61 s ago (skew 60 s): refused; expired 30 s ago: still within skew.
  auto c = claims(kNow - 361s);
  EXPECT_EQ(refusal(sign(c)), "token has expired");
  c = claims(kNow - 330s);
  EXPECT_EQ(refusal(sign(c)), "");
  c = claims();
  c["exp"] = secs(kNow + 3600s);
  EXPECT_EQ(refusal(sign(c)), "token lifetime (exp - iat) is too long");
  c = claims(kNow + 120s);
  EXPECT_EQ(refusal(sign(c)), "iat is in the future");
  c = claims();
  c.erase("exp");
  EXPECT_EQ(refusal(sign(c)), "exp and iat are required");
  c = claims();
  c.erase("jti");
  EXPECT_EQ(refusal(sign(c)), "jti is required");
}

// exp and iat must be NumericDates from 1970 on, not any JSON number: extreme values used to
// overflow the time checks' arithmetic, or convert an out-of-range double (undefined
// behaviour; the sanitized build aborted; found by fuzzing). Properly signed tokens, so only
// the claims can be what is refused.
TEST_F(AuthenticatorTest, RefusesExpAndIatThatAreNotNumericDates) {
  const json::value extremes[] = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                                  std::numeric_limits<std::uint64_t>::max(), -1, 1e308, -1e308, 1e19,
                                  json::value("1796326646"), json::value(nullptr)};
  for (const char* claim : {"exp", "iat"})
    for (const json::value& v : extremes) {
      auto c = claims();
      c[claim] = v;
      EXPECT_EQ(refusal(sign(c)), "exp and iat must be NumericDates: seconds since 1970") << claim << " = " << v;
    }
  auto c = claims();
  c["exp"] = static_cast<double>(secs(kNow + 300s)) + 0.5;  // fractional seconds are a NumericDate
  EXPECT_EQ(refusal(sign(c)), "");
}

TEST_F(AuthenticatorTest, RefusesAReplayedJtiButOnlyAfterAValidSignature) {
  auto c = claims();
  std::string good = sign(c);
  // A forged token with the same jti must not burn it.
  EXPECT_EQ(refusal(sign(c, jose::Alg::ES384, "ec-1", other_.get())), "signature does not verify");
  EXPECT_EQ(refusal(good), "");
  EXPECT_EQ(refusal(good), "jti has already been used");
  // The same jti from another issuer is a different token.
}

// Captures what the authenticator logs while `run` runs.
std::string log_of(const std::function<void()>& run) {
  set_log_level(LogLevel::debug);
  ::testing::internal::CaptureStderr();
  run();
  const std::string log = ::testing::internal::GetCapturedStderr();
  set_log_level(LogLevel::error);
  return log;
}

std::size_t count_of(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A jku off the allowlist is never fetched. With configured keys (here a JWKS file) it decides
// nothing: the token is checked against those keys, as if it had no jku, and that is logged
// once per issuer and jku. An allowlisted jku is fetched only for a kid the configured keys lack.
TEST_F(AuthenticatorTest, JkuOffTheAllowlistIsNeverFetchedAndTheConfiguredKeysDecide) {
  const std::string log = log_of([&] {
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "ec-1", nullptr, "https://evil.test/jwks")), "");
    // Signed with a key the configured set lacks: the jku cannot vouch for it.
    EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "ec-1", other_.get(), "https://evil.test/jwks")),
              "signature does not verify");
    EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "evil-kid", other_.get(), "https://evil.test/jwks")),
              "no key with this kid for the issuer");
  });
  EXPECT_EQ(fetches_, 0);
  EXPECT_EQ(count_of(log, "token jku https://evil.test/jwks is not on its jku_allowlist"), 1u) << log;
  EXPECT_NE(log.find("issuer " + kIss), std::string::npos) << log;
  // The configured key's kid needs no fetch, even with an allowlisted jku.
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "ec-1", nullptr, "https://ehr.test/jwks-allowed")), "");
  EXPECT_EQ(fetches_, 0);
  // A kid only the allowlisted jku has is fetched from there.
  served_jwks_ = jose::jwks_for(other_.get(), "rotated", jose::Alg::ES384);
  EXPECT_EQ(refusal(sign(claims(), jose::Alg::ES384, "rotated", other_.get(), "https://ehr.test/jwks-allowed")), "");
  EXPECT_EQ(fetches_, 1);
  EXPECT_EQ(last_url_, "https://ehr.test/jwks-allowed");
}

// An issuer with no configured keys has only its allowlisted jku URLs: any other jku is refused.
TEST_F(AuthenticatorTest, JkuOffTheAllowlistIsRefusedWhenTheIssuerHasNoConfiguredKeys) {
  TrustedIssuer jku_only;
  jku_only.iss = "https://jku-only.test";
  jku_only.jku_allowlist = {"https://ehr.test/jwks-allowed"};
  config_.trusted_issuers.push_back(jku_only);
  make();
  auto c = claims();
  c["iss"] = "https://jku-only.test";
  EXPECT_EQ(refusal(sign(c, jose::Alg::ES384, "ec-1", nullptr, "https://evil.test/jwks")), "jku is not on the issuer's allowlist");
  EXPECT_EQ(fetches_, 0);
  c = claims();
  c["iss"] = "https://jku-only.test";
  EXPECT_EQ(refusal(sign(c, jose::Alg::ES384, "ec-1", nullptr, "https://ehr.test/jwks-allowed")), "");
  EXPECT_EQ(fetches_, 1);
}

// An allowlisted jku whose host is down: the failure is logged with the URL and the reason, and
// the configured keys still decide.
TEST_F(AuthenticatorTest, AnAllowlistedJkuThatCannotBeFetchedFallsBackToTheConfiguredKeys) {
  TrustedIssuer both;
  both.iss = "https://both.test";
  both.jwks_url = "https://remote.test/jwks";
  both.jku_allowlist = {"https://down.test/jwks"};
  config_.trusted_issuers.push_back(both);
  make();
  auto c = claims();
  c["iss"] = "https://both.test";
  const std::string log = log_of([&] {
    // "ec-1" is not cached yet: the jku is tried first (it fails), then the configured URL.
    EXPECT_EQ(refusal(sign(c, jose::Alg::ES384, "ec-1", nullptr, "https://down.test/jwks")), "");
  });
  EXPECT_EQ(fetches_, 2);
  EXPECT_EQ(last_url_, "https://remote.test/jwks");
  EXPECT_NE(log.find("JWK Set fetch from https://down.test/jwks failed: no answer"), std::string::npos) << log;
}

// `sub` is required only where the issuer lists its clients.
TEST_F(AuthenticatorTest, SubIsOptionalUnlessTheIssuerListsClients) {
  auto c = claims();
  c.erase("sub");
  EXPECT_EQ(refusal(sign(c)), "sub is not an allowed client");
  c["iss"] = "https://remote.test";  // lists no clients
  auto r = auth_->authenticate("Bearer " + sign(c), kAud, kNow);
  ASSERT_TRUE(std::holds_alternative<Principal>(r)) << std::get<AuthFailure>(r).description;
  EXPECT_EQ(std::get<Principal>(r).sub, "");
}

TEST_F(AuthenticatorTest, JwksUrlIsCachedAndRefetchedAtMostOncePerInterval) {
  auto remote = [&](std::string kid, Clock::time_point now) {
    auto c = claims(now);
    c["iss"] = "https://remote.test";
    return refusal(sign(c, jose::Alg::ES384, kid), kAud, now);
  };
  EXPECT_EQ(remote("ec-1", kNow), "");
  EXPECT_EQ(fetches_, 1);
  EXPECT_EQ(remote("ec-1", kNow + 1s), "");
  EXPECT_EQ(fetches_, 1);  // cached
  // Unknown kids within the refresh interval cause no new fetch (no amplification).
  for (int i = 0; i < 5; ++i) EXPECT_EQ(remote("rotated", kNow + 2s), "no key with this kid for the issuer");
  EXPECT_EQ(fetches_, 1);
  // The EHR rotates its key; after the interval an unknown kid triggers one refetch.
  auto rotated = json::parse(jose::jwks_for(other_.get(), "rotated", jose::Alg::ES384));
  served_jwks_ = json::serialize(rotated);
  auto c = claims(kNow + 61s);
  c["iss"] = "https://remote.test";
  EXPECT_EQ(refusal(sign(c, jose::Alg::ES384, "rotated", other_.get()), kAud, kNow + 61s), "");
  EXPECT_EQ(fetches_, 2);
}

// The service's I/O threads authenticate with KeyFetch::deferred: never a fetch there, only word
// that one is needed; the same token is then checked with KeyFetch::now on a thread that may wait.
TEST_F(AuthenticatorTest, DeferredKeyFetchNeverFetchesAndSaysWhenAFetchIsNeeded) {
  auto remote = [&](Clock::time_point now) {
    auto c = claims(now);
    c["iss"] = "https://remote.test";
    return "Bearer " + sign(c);
  };
  const std::string first = remote(kNow);
  auto r = auth_->authenticate(first, kAud, kNow, KeyFetch::deferred);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(r));
  EXPECT_TRUE(std::get<AuthFailure>(r).key_fetch_needed);
  EXPECT_EQ(fetches_, 0);
  // The same token, where waiting is fine: fetched, verified, and its jti spent only now.
  r = auth_->authenticate(first, kAud, kNow, KeyFetch::now);
  ASSERT_TRUE(std::holds_alternative<Principal>(r)) << std::get<AuthFailure>(r).description;
  EXPECT_EQ(fetches_, 1);
  // Once the key is cached, deferred mode accepts at once.
  r = auth_->authenticate(remote(kNow + 1s), kAud, kNow + 1s, KeyFetch::deferred);
  ASSERT_TRUE(std::holds_alternative<Principal>(r)) << std::get<AuthFailure>(r).description;
  EXPECT_EQ(fetches_, 1);
  // A key from a JWKS file never needs a fetch; a refusal for another reason is not one either.
  r = auth_->authenticate("Bearer " + sign(claims()), kAud, kNow, KeyFetch::deferred);
  EXPECT_TRUE(std::holds_alternative<Principal>(r));
  r = auth_->authenticate("Bearer " + sign(claims(), jose::Alg::ES384, "unknown"), kAud, kNow, KeyFetch::deferred);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(r));
  EXPECT_FALSE(std::get<AuthFailure>(r).key_fetch_needed);
  EXPECT_EQ(std::get<AuthFailure>(r).description, "no key with this kid for the issuer");
}

// A JWK Set host that is down is asked again only after the refresh interval: tokens in between
// are answered at once, not each held for a fetch's time-out.
TEST_F(AuthenticatorTest, AFailedFetchWaitsTheRefreshIntervalToo) {
  auto remote = [&](Clock::time_point now, KeyFetch fetch) {
    auto c = claims(now);
    c["iss"] = "https://remote.test";
    return auth_->authenticate("Bearer " + sign(c), kAud, now, fetch);
  };
  jwks_down_ = true;
  auto r = remote(kNow, KeyFetch::now);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(r));
  EXPECT_EQ(std::get<AuthFailure>(r).description, "no key with this kid for the issuer");
  EXPECT_EQ(fetches_, 1);
  jwks_down_ = false;  // back up, but within the interval nobody asks
  for (auto now : {kNow + 1s, kNow + 59s}) {
    r = remote(now, KeyFetch::deferred);
    ASSERT_TRUE(std::holds_alternative<AuthFailure>(r));
    EXPECT_FALSE(std::get<AuthFailure>(r).key_fetch_needed);
    r = remote(now, KeyFetch::now);
    ASSERT_TRUE(std::holds_alternative<AuthFailure>(r));
    EXPECT_EQ(std::get<AuthFailure>(r).description, "no key with this kid for the issuer");
  }
  EXPECT_EQ(fetches_, 1);
  r = remote(kNow + 60s, KeyFetch::deferred);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(r));
  EXPECT_TRUE(std::get<AuthFailure>(r).key_fetch_needed);
  r = remote(kNow + 60s, KeyFetch::now);
  EXPECT_TRUE(std::holds_alternative<Principal>(r));
  EXPECT_EQ(fetches_, 2);
}

TEST(MemoryReplayCache, ForgetsExpiredEntriesAndFailsClosedWhenFull) {
  using Use = ReplayCache::Use;
  MemoryReplayCache cache(2);
  auto now = Clock::time_point(std::chrono::seconds(1000));
  EXPECT_EQ(cache.first_use("a", now + 10s, now), Use::first);
  EXPECT_EQ(cache.first_use("a", now + 10s, now), Use::replay);
  EXPECT_EQ(cache.first_use("b", now + 10s, now), Use::first);
  EXPECT_EQ(cache.first_use("c", now + 10s, now), Use::full);  // full of live entries: not a "replay"
  EXPECT_EQ(cache.first_use("c", now + 30s, now + 11s), Use::first);  // a and b expired and were dropped
  EXPECT_EQ(cache.first_use("a", now + 30s, now + 11s), Use::first);
  EXPECT_EQ(cache.first_use("c", now + 30s, now + 12s), Use::replay);
}

TEST(MemoryReplayCache, TellsManyKeysApartAndRemembersEachOne) {
  using Use = ReplayCache::Use;
  constexpr int kKeys = 20000;
  MemoryReplayCache cache(kKeys);
  auto now = Clock::time_point(std::chrono::seconds(1000));
  // Keys as the authenticator builds them (issuer, newline, jti), differing in one character.
  auto key = [](int i) { return "https://ehr.example.org\njti-" + std::to_string(i); };
  for (int i = 0; i < kKeys; ++i) ASSERT_EQ(cache.first_use(key(i), now + 300s, now), Use::first) << i;
  for (int i = 0; i < kKeys; ++i) ASSERT_EQ(cache.first_use(key(i), now + 300s, now + 1s), Use::replay) << i;
  EXPECT_EQ(cache.first_use(key(kKeys), now + 300s, now + 1s), Use::full);
  // Another cache (another process) fingerprints under another salt and knows none of them.
  MemoryReplayCache other(1);
  EXPECT_EQ(other.first_use(key(0), now + 300s, now), Use::first);
}

TEST(FhirServerAllowlist, MatchesSchemeHostPortAndPathPrefixOnly) {
  std::vector<std::string> allow{"https://fhir.ehr.test/r4", "https://fhir.ehr.test:8443/"};
  EXPECT_TRUE(fhir_server_allowed(allow, "https://fhir.ehr.test/r4", false));
  EXPECT_TRUE(fhir_server_allowed(allow, "https://fhir.ehr.test/r4/tenant-1", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "https://fhir.ehr.test/r40", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "https://fhir.ehr.test/other", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "http://fhir.ehr.test/r4", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "https://fhir.ehr.test.evil.test/r4", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "https://user@fhir.ehr.test/r4", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "https://fhir.ehr.test:444/r4", false));
  EXPECT_TRUE(fhir_server_allowed(allow, "https://fhir.ehr.test:8443/anything", false));
  EXPECT_FALSE(fhir_server_allowed(allow, "not a url", false));
  std::vector<std::string> local{"http://127.0.0.1:9000/fhir"};
  EXPECT_FALSE(fhir_server_allowed(local, "http://127.0.0.1:9000/fhir", false));
  EXPECT_TRUE(fhir_server_allowed(local, "http://127.0.0.1:9000/fhir", true));
  EXPECT_TRUE(is_loopback_url("http://127.0.0.1:9000/fhir"));
  EXPECT_TRUE(is_loopback_url("https://[::1]/fhir"));
  EXPECT_FALSE(is_loopback_url("http://127.0.0.1.evil.test/fhir"));
  EXPECT_FALSE(is_loopback_url("http://10.0.0.1/fhir"));
}

}  // namespace
