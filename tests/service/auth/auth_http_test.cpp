// CDS Hooks security over real HTTPS: JWTs signed with keys generated in the test, every
// refusal answered 401 with WWW-Authenticate, unauthenticated health and pre-flight, mutual
// TLS, and a fhirServer off the issuer's allowlist never contacted.
#include "cds/auth/jose.hpp"
#include "fhir_test_server.hpp"
#include "test_server.hpp"

#include <boost/asio/ssl/stream.hpp>

#include <future>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace cdstest {
namespace {

using cds::jose::Alg;

const std::string kIss = "https://ehr.example.test";

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class AuthHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec_key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    rsa_key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    other_key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  }
  void SetUp() override {
    dir_ = make_temp_dir("cds-auth-it");
    auto jwks = json::parse(cds::jose::jwks_for(ec_key_.get(), "ec-1", Alg::ES384)).as_object();
    auto rsa = json::parse(cds::jose::jwks_for(rsa_key_.get(), "rsa-1", Alg::RS384)).as_object();
    jwks["keys"].as_array().push_back(rsa["keys"].as_array()[0]);
    jwks_text_ = json::serialize(jwks);
    std::ofstream(dir_ / "jwks.json") << jwks_text_;
    server_ = std::make_unique<TestServer>([this](cds::Config& c) { configure(c); });
    base_ = "https://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  virtual void configure(cds::Config& c) {
    c.auth.enabled = true;
    cds::TrustedIssuer issuer;
    issuer.iss = kIss;
    issuer.jwks_file = dir_ / "jwks.json";
    issuer.clients = {"ehr-client"};
    issuer.jku_allowlist = {"https://ehr.example.test/jwks.json"};
    issuer.fhir_servers = {"https://fhir.example.test/r4"};
    c.auth.trusted_issuers = {issuer};
  }

  json::object claims(const std::string& path) {
    const long long now = unix_now();
    return json::object{{"iss", kIss}, {"sub", "ehr-client"}, {"aud", base_ + path}, {"iat", now},
                        {"exp", now + 300}, {"jti", "jti-" + std::to_string(++jti_) + "-" + std::to_string(now)}};
  }
  std::string sign(const json::object& c, Alg alg = Alg::ES384, const std::string& kid = "ec-1", EVP_PKEY* key = nullptr,
                   const std::string& jku = {}) {
    if (!key) key = alg == Alg::RS384 ? rsa_key_.get() : ec_key_.get();
    return std::get<std::string>(cds::jose::sign_jwt(key, alg, kid, c, jku));
  }
  Response discovery(const std::string& token) {
    Client client(*server_);
    Headers h;
    if (!token.empty()) h.push_back({"Authorization", "Bearer " + token});
    return client.get("/cds-services", h);
  }
  // A 401 with the JSON error and the RFC 6750 challenge; returns the description.
  std::string refused(const Response& res) {
    std::string message = error_message(res, 401);
    std::string challenge(res[http::field::www_authenticate]);
    EXPECT_EQ(challenge.rfind("Bearer error=\"invalid_token\", error_description=\"", 0), 0u) << challenge;
    return message;
  }

  static inline cds::jose::Pkey ec_key_, rsa_key_, other_key_;
  fs::path dir_;
  std::string jwks_text_, base_;
  std::unique_ptr<TestServer> server_;
  int jti_ = 0;
};

TEST_F(AuthHttpTest, AcceptsEs384AndRs384Tokens) {
  EXPECT_EQ(discovery(sign(claims("/cds-services"))).result_int(), 200);
  EXPECT_EQ(discovery(sign(claims("/cds-services"), Alg::RS384, "rsa-1")).result_int(), 200);
}

TEST_F(AuthHttpTest, InvocationRecordsTheCallerInTheAudit) {
  auto c = claims(kSignService);
  c["tenant"] = "clinic-7";
  Client client(*server_);
  auto res = client.post(kSignService, fixture_request(kFixture01), {{"Authorization", "Bearer " + sign(c)}});
  ASSERT_EQ(res.result_int(), 200) << res.body();
  AuditDb db(server_->audit_db());
  auto rows = db.rows("SELECT jwt_iss, jwt_sub, tenant, outcome FROM invocation");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (AuditDb::Row{kIss, "ehr-client", "clinic-7", "ok"}));
}

TEST_F(AuthHttpTest, EachBadTokenIsRefusedWith401) {
  auto c = claims("/cds-services");
  EXPECT_NE(refused(discovery("")).find("missing"), std::string::npos);
  EXPECT_NE(refused(discovery("not.a.jwt")).find("authentication failed"), std::string::npos);

  // alg none
  std::string none = cds::jose::base64url_encode(json::serialize(json::object{{"alg", "none"}, {"typ", "JWT"}, {"kid", "ec-1"}})) +
                     "." + cds::jose::base64url_encode(json::serialize(claims("/cds-services"))) + ".AA";
  EXPECT_NE(refused(discovery(none)).find("not accepted"), std::string::npos);

  // HS256 signed with the public JWKS as the secret (key confusion)
  std::string input = cds::jose::base64url_encode(json::serialize(json::object{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "ec-1"}})) +
                      "." + cds::jose::base64url_encode(json::serialize(claims("/cds-services")));
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), jwks_text_.data(), static_cast<int>(jwks_text_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  EXPECT_NE(refused(discovery(input + "." + cds::jose::base64url_encode(std::span<const unsigned char>(mac, len))))
                .find("not accepted"),
            std::string::npos);

  EXPECT_NE(refused(discovery(sign(claims("/cds-services"), Alg::ES384, "ec-1", other_key_.get()))).find("signature"),
            std::string::npos);
  EXPECT_NE(refused(discovery(sign(claims("/cds-services"), Alg::ES384, "unknown-kid"))).find("kid"), std::string::npos);

  auto untrusted = claims("/cds-services");
  untrusted["iss"] = "https://evil.example.test";
  EXPECT_NE(refused(discovery(sign(untrusted))).find("iss"), std::string::npos);
  auto wrong_sub = claims("/cds-services");
  wrong_sub["sub"] = "someone-else";
  EXPECT_NE(refused(discovery(sign(wrong_sub))).find("sub"), std::string::npos);
  EXPECT_NE(refused(discovery(sign(claims(kSignService)))).find("aud"), std::string::npos);
  auto expired = claims("/cds-services");
  expired["iat"] = unix_now() - 1000;
  expired["exp"] = unix_now() - 700;
  EXPECT_NE(refused(discovery(sign(expired))).find("expired"), std::string::npos);
  auto too_long = claims("/cds-services");
  too_long["exp"] = unix_now() + 3600;
  EXPECT_NE(refused(discovery(sign(too_long))).find("lifetime"), std::string::npos);
  auto future = claims("/cds-services");
  future["iat"] = unix_now() + 600;
  future["exp"] = unix_now() + 800;
  EXPECT_NE(refused(discovery(sign(future))).find("future"), std::string::npos);
  // A jku off the allowlist is never fetched and decides nothing: the configured keys do. So the
  // issuer's own key verifies, and a foreign key behind a foreign jku does not.
  EXPECT_EQ(discovery(sign(claims("/cds-services"), Alg::ES384, "ec-1", nullptr, "https://evil.example.test/jwks"))
                .result_int(),
            200);
  EXPECT_NE(refused(discovery(sign(claims("/cds-services"), Alg::ES384, "ec-1", other_key_.get(), "https://evil.example.test/jwks")))
                .find("signature does not verify"),
            std::string::npos);

  std::string once = sign(claims("/cds-services"));
  EXPECT_EQ(discovery(once).result_int(), 200);
  EXPECT_NE(refused(discovery(once)).find("jti"), std::string::npos);
}

TEST_F(AuthHttpTest, HealthReadinessAndPreflightNeedNoToken) {
  Client client(*server_);
  EXPECT_EQ(client.get("/healthz").result_int(), 200);
  EXPECT_EQ(client.get("/readyz").result_int(), 200);
  auto pre = client.request(http::verb::options, kSignService, {},
                            {{"Origin", "https://ehr.example.test"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.result_int(), 204);
}

TEST_F(AuthHttpTest, CorsIsClosedByDefaultWhenAuthIsOn) {
  Client client(*server_);
  auto pre = client.request(http::verb::options, kSignService, {}, {{"Origin", "https://random.example"}});
  EXPECT_EQ(pre.result_int(), 204);
  EXPECT_EQ(pre.count(http::field::access_control_allow_origin), 0u);
}

// A browser EHR on an allowed origin can read why it was refused: WWW-Authenticate is exposed.
class AuthCorsTest : public AuthHttpTest {
 protected:
  void configure(cds::Config& c) override {
    AuthHttpTest::configure(c);
    c.cors_allowed_origins = {"https://ehr.example.test"};
  }
};

TEST_F(AuthCorsTest, A401ToAnAllowedOriginExposesWwwAuthenticate) {
  Client client(*server_);
  auto res = client.get("/cds-services", {{"Origin", "https://ehr.example.test"}});
  ASSERT_EQ(res.result_int(), 401);
  EXPECT_EQ(res[http::field::access_control_allow_origin], "https://ehr.example.test");
  EXPECT_EQ(res[http::field::access_control_expose_headers], "WWW-Authenticate");
  EXPECT_NE(res[http::field::www_authenticate].find("invalid_token"), std::string::npos);
  auto other = client.get("/cds-services", {{"Origin", "https://other.example.test"}});
  ASSERT_EQ(other.result_int(), 401);
  EXPECT_EQ(other.count(http::field::access_control_expose_headers), 0u);
}

// A fhirServer not on the issuer's allowlist is treated as absent (412 without prefetch) and is
// never connected to: a socket listening where it points receives nothing.
TEST_F(AuthHttpTest, FhirServerOffTheAllowlistIsNeverContacted) {
  net::io_context ioc;
  tcp::acceptor trap(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const auto trap_port = trap.local_endpoint().port();
  std::string body = edited_fixture(kFixture01, [&](json::object& o) {
    o.erase("prefetch");
    o["fhirServer"] = "https://127.0.0.1:" + std::to_string(trap_port) + "/fhir";
    o["fhirAuthorization"] = json::object{{"access_token", "secret-token"}, {"token_type", "Bearer"}, {"expires_in", 300},
                                          {"scope", "patient/*.read"}, {"subject", "cds-service"}};
  });
  Client client(*server_);
  auto res = client.post(kSignService, body, {{"Authorization", "Bearer " + sign(claims(kSignService))}});
  EXPECT_NE(error_message(res, 412).find("no fhirServer"), std::string::npos);
  // Nothing connected to the trap within a generous window.
  trap.non_blocking(true);
  tcp::socket peer(ioc);
  boost::system::error_code ec;
  for (int i = 0; i < 10 && ec != net::error::would_block; ++i) trap.accept(peer, ec);
  EXPECT_EQ(ec, net::error::would_block) << "the service connected to a fhirServer that is not allowlisted";
}

// Mutual TLS: with tls.client_ca set, a client without a certificate from that CA gets nowhere.
class MutualTlsTest : public AuthHttpTest {
 protected:
  void configure(cds::Config& c) override {
    AuthHttpTest::configure(c);
    c.tls_client_ca = certs_dir() / "ca.crt";
  }
  // Handshake + GET /healthz with an optional client certificate; the status, or 0 on failure.
  unsigned healthz(bool with_cert) {
    net::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.load_verify_file((certs_dir() / "ca.crt").string());
    if (with_cert) {
      ctx.use_certificate_chain_file((certs_dir() / "client.crt").string());
      ctx.use_private_key_file((certs_dir() / "client.key").string(), ssl::context::pem);
    }
    ssl::stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).expires_after(5s);
    unsigned status = 0;
    beast::flat_buffer buffer;
    Response res;
    Request req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "127.0.0.1");
    beast::get_lowest_layer(stream).async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()), [&](beast::error_code ec) {
          if (ec) return;
          stream.async_handshake(ssl::stream_base::client, [&](beast::error_code ec2) {
            if (ec2) return;
            http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
              if (ec3) return;
              http::async_read(stream, buffer, res, [&](beast::error_code ec4, std::size_t) {
                if (!ec4) status = res.result_int();
              });
            });
          });
        });
    ioc.run_for(8s);
    return status;
  }
};

TEST_F(MutualTlsTest, AcceptsAClientCertificateAndRefusesNone) {
  EXPECT_EQ(healthz(true), 200u);
  EXPECT_EQ(healthz(false), 0u);
}

// An issuer whose keys are at a JWK Set URL (the in-test HTTPS server), on a service with one
// I/O thread: fetching a key must not hold up the other connections that thread serves.
class JwksUrlTest : public AuthHttpTest {
 protected:
  using FhirTestServer = fhirtest::FhirTestServer;
  using PathMode = fhirtest::PathMode;
  static inline const std::string kRemoteIss = "https://remote-ehr.example.test";
  void SetUp() override {
    jwks_server_ = std::make_unique<FhirTestServer>();
    AuthHttpTest::SetUp();
  }
  void configure(cds::Config& c) override {
    AuthHttpTest::configure(c);
    c.threads = 1;
    c.outbound_ca_file = (fhirtest::certs() / "ca.crt").string();
    cds::TrustedIssuer remote;
    remote.iss = kRemoteIss;
    remote.jwks_url = jwks_server_->base() + "/jwks";
    c.auth.trusted_issuers.push_back(remote);
  }
  std::string remote_token(const std::string& path) {
    auto c = claims(path);
    c["iss"] = kRemoteIss;
    return sign(c);
  }
  using Steady = std::chrono::steady_clock;
  std::unique_ptr<FhirTestServer> jwks_server_;
};

TEST_F(JwksUrlTest, AKeyFetchHoldsUpNoOtherRequest) {
  jwks_server_->set_mode("/fhir/jwks", PathMode{.delay = 1500ms, .body = jwks_text_});
  const std::string token = remote_token("/cds-services");
  auto slow = std::async(std::launch::async, [&] {
    const auto start = Steady::now();
    const unsigned status = discovery(token).result_int();
    return std::pair{status, Steady::now() - start};
  });
  for (int i = 0; i < 300 && jwks_server_->requests().empty(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(jwks_server_->requests().size(), 1u) << "the service did not fetch the JWK Set";

  // While the fetch waits on the JWK Set server, a caller whose key is known is answered.
  const auto start = Steady::now();
  EXPECT_EQ(discovery(sign(claims("/cds-services"))).result_int(), 200u);
  const auto took = Steady::now() - start;
  EXPECT_LT(took, 1000ms) << "held up behind the key fetch";
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout) << "the fetch was not still waiting";

  auto [status, slow_took] = slow.get();
  EXPECT_EQ(status, 200u) << "the token whose key was fetched is accepted";
  EXPECT_GE(slow_took, 1400ms);
  // The key is cached now: the next token from that issuer needs no fetch.
  EXPECT_EQ(discovery(remote_token("/cds-services")).result_int(), 200u);
  EXPECT_EQ(jwks_server_->requests().size(), 1u);
}

TEST_F(JwksUrlTest, AJwkSetHostThatFailsIsNotAskedAgainAtOnce) {
  jwks_server_->set_mode("/fhir/jwks", PathMode{.status = 503});
  EXPECT_NE(refused(discovery(remote_token("/cds-services"))).find("no key with this kid for the issuer"),
            std::string::npos);
  EXPECT_EQ(jwks_server_->requests().size(), 1u);
  // Back up, but within jwks_min_refresh (60 s) a token is answered from what we have.
  jwks_server_->set_mode("/fhir/jwks", PathMode{.body = jwks_text_});
  EXPECT_NE(refused(discovery(remote_token("/cds-services"))).find("no key with this kid for the issuer"),
            std::string::npos);
  EXPECT_EQ(jwks_server_->requests().size(), 1u);
  // A caller whose key came from a file is not affected.
  EXPECT_EQ(discovery(sign(claims("/cds-services"))).result_int(), 200u);
}

}  // namespace
}  // namespace cdstest
