// Configuration: the JSON file (unknown keys named, relative paths against the file), flags
// overriding it, and the combinations refused at start.
#include "cds/config.hpp"
#include "test_server.hpp"

namespace cdstest {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("cds-config"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& text) {
    auto p = dir_ / "config.json";
    std::ofstream(p) << text;
    return p;
  }
  std::variant<cds::CommandLine, std::string> cli(std::vector<std::string> args) {
    std::vector<const char*> argv{"cds-service"};
    for (auto& a : args) argv.push_back(a.c_str());
    return cds::parse_command_line(static_cast<int>(argv.size()), argv.data());
  }
  fs::path dir_;
};

TEST_F(ConfigTest, ReadsEveryKeyAndResolvesPathsAgainstTheFile) {
  auto p = write(R"({"listen": "[::1]:9443", "public_base_url": "https://cds.example.org", "threads": 3,
    "tls": {"cert": "c.pem", "key": "/abs/k.pem", "client_ca": "ca.pem"}, "rules_dir": "rules",
    "audit": {"db": "a.db", "pseudonymize": false}, "limits": {"max_body_bytes": 2048, "header_timeout_ms": 1500},
    "cors": {"allowed_origins": ["https://ehr.example.org"]}, "fhir": {"timeout_ms": 900, "max_resources": 50, "max_pages": 7},
    "auth": {"enabled": true, "algorithms": ["ES384"], "trusted_issuers": [{"iss": "https://ehr", "jwks_file": "j.json",
      "clients": ["c1"], "fhir_servers": ["https://fhir.example.org/r4"]}]},
    "admin": {"token_sha256": ["ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"]}})");
  auto loaded = cds::load_config_file(p);
  ASSERT_TRUE(std::holds_alternative<cds::Config>(loaded)) << std::get<std::string>(loaded);
  const auto& c = std::get<cds::Config>(loaded);
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 9443);
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.tls_cert, dir_ / "c.pem");
  EXPECT_EQ(c.tls_key, fs::path("/abs/k.pem"));
  EXPECT_EQ(c.tls_client_ca, dir_ / "ca.pem");
  EXPECT_EQ(c.rules_dir, dir_ / "rules");
  EXPECT_EQ(c.audit_db, dir_ / "a.db");
  EXPECT_FALSE(c.audit_pseudonymize);
  EXPECT_EQ(c.limits.max_body_bytes, 2048u);
  EXPECT_EQ(c.limits.header_timeout, 1500ms);
  EXPECT_EQ(c.limits.body_timeout, 30000ms);  // default kept
  EXPECT_EQ(c.fhir.timeout, 900ms);
  EXPECT_EQ(c.fhir.max_resources, 50u);
  EXPECT_EQ(c.fhir.max_pages, 7u);
  ASSERT_EQ(c.auth.trusted_issuers.size(), 1u);
  EXPECT_EQ(c.auth.trusted_issuers[0].jwks_file, dir_ / "j.json");
  EXPECT_EQ(c.auth.trusted_issuers[0].fhir_servers[0], "https://fhir.example.org/r4");
  EXPECT_EQ(c.admin_token_sha256[0], "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  EXPECT_EQ(c.base_url(), "https://cds.example.org");
}

TEST_F(ConfigTest, UnknownKeysAndWrongTypesAreNamed) {
  auto err = [&](const std::string& text) {
    auto r = cds::load_config_file(write(text));
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("(accepted)");
  };
  EXPECT_NE(err(R"({"lisen": "127.0.0.1:1"})").find("unknown key 'lisen'"), std::string::npos);
  EXPECT_NE(err(R"({"tls": {"certificate": "x"}})").find("unknown key 'tls.certificate'"), std::string::npos);
  EXPECT_NE(err(R"({"auth": {"trusted_issuers": [{"iss": "x", "jwks_file": "j", "jwks": 1}]}})")
                .find("unknown key 'auth.trusted_issuers[0].jwks'"),
            std::string::npos);
  EXPECT_NE(err(R"({"threads": "two"})").find("'threads'"), std::string::npos);
  EXPECT_NE(err(R"({"listen": "nowhere"})").find("'listen'"), std::string::npos);
  EXPECT_NE(err(R"({"auth": {"algorithms": ["HS256"]}})").find("never none or HMAC"), std::string::npos);
  EXPECT_NE(err(R"({"admin": {"token_sha256": ["short"]}})").find("64 hex digits"), std::string::npos);
  EXPECT_NE(err("{not json").find("not valid JSON"), std::string::npos);
}

// With auth on, an http FHIR server would never be contacted (the EHR's token would travel in
// clear): such an entry is refused at start, by name, rather than ignored at every call.
TEST_F(ConfigTest, AnHttpFhirServerIsRefusedWhileAuthIsOn) {
  auto load = [&](const std::string& text) { return cds::load_config_file(write(text)); };
  auto r = load(R"({"auth": {"trusted_issuers": [{"iss": "x", "jwks_file": "j",
      "fhir_servers": ["https://fhir.example.org/r4", "http://fhir.example.org/r4"]}]}})");
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_NE(std::get<std::string>(r).find("'auth.trusted_issuers[0].fhir_servers[1]' must be an https URL while auth is enabled"),
            std::string::npos)
      << std::get<std::string>(r);
  // Without auth (local development) it is accepted.
  r = load(R"({"auth": {"enabled": false, "trusted_issuers": [{"iss": "x", "jwks_file": "j",
      "fhir_servers": ["http://127.0.0.1:9/fhir"]}]}})");
  EXPECT_FALSE(std::holds_alternative<std::string>(r)) << std::get<std::string>(r);
}

TEST_F(ConfigTest, FlagsOverrideTheFileAndBadCombinationsAreRefused) {
  auto p = write(R"({"listen": "127.0.0.1:1111", "tls": {"enabled": false}, "auth": {"enabled": false}})");
  auto r = cli({"--config", p.string(), "--listen", "127.0.0.1:2222", "--max-body", "4096", "--threads", "2",
                "--audit-db", "/tmp/x.db", "--public-base-url", "https://cds.test"});
  ASSERT_TRUE(std::holds_alternative<cds::CommandLine>(r)) << std::get<std::string>(r);
  const auto& c = std::get<cds::CommandLine>(r).config;
  EXPECT_EQ(c.listen_port, 2222);
  EXPECT_EQ(c.limits.max_body_bytes, 4096u);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.audit_db, fs::path("/tmp/x.db"));
  EXPECT_FALSE(c.tls_enabled);

  auto no_issuers = cli({"--no-tls"});  // auth on by default, no trusted issuer
  ASSERT_TRUE(std::holds_alternative<std::string>(no_issuers));
  EXPECT_NE(std::get<std::string>(no_issuers).find("trusted_issuers"), std::string::npos);
  auto no_cert = cli({"--config", write(R"({"auth": {"enabled": false}})").string()});
  ASSERT_TRUE(std::holds_alternative<std::string>(no_cert));
  EXPECT_NE(std::get<std::string>(no_cert).find("--tls-cert"), std::string::npos);
  auto bad_flag = cli({"--frobnicate"});
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_flag));
  auto help = cli({"--help"});
  ASSERT_TRUE(std::holds_alternative<cds::CommandLine>(help));
  EXPECT_TRUE(std::get<cds::CommandLine>(help).help);
  EXPECT_NE(std::get<cds::CommandLine>(help).message.find("--public-base-url"), std::string::npos);
}

}  // namespace
}  // namespace cdstest

namespace cdstest {
namespace {

// A database URI in audit.db is kept as written (never resolved as a path), must hold no
// password, and needs the pseudonym key every replica shares.
TEST_F(ConfigTest, AuditDbMayBeADatabaseUriWithoutAPassword) {
  const std::string base = R"({"tls": {"enabled": false}, "auth": {"enabled": false}, "audit": )";
  auto ok = cds::load_config_file(write(base + R"({"db": "postgresql://cds@db.internal:5432/audit?sslmode=require",
    "pseudonym_key_file": "key"}})"));
  ASSERT_TRUE(std::holds_alternative<cds::Config>(ok)) << std::get<std::string>(ok);
  EXPECT_EQ(std::get<cds::Config>(ok).audit_db.string(), "postgresql://cds@db.internal:5432/audit?sslmode=require");
  EXPECT_EQ(std::get<cds::Config>(ok).audit_pseudonym_key, dir_ / "key");

  // Refused at start (the command line's checks), with the reason.
  auto refused = [&](const std::string& audit) {
    auto r = cli({"--config", write(base + audit + "}").string()});
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("(accepted)");
  };
  EXPECT_NE(refused(R"({"db": "postgres://cds:secret@db/audit", "pseudonym_key_file": "k"})").find("must not hold a password"),
            std::string::npos);
  EXPECT_NE(refused(R"({"db": "postgresql://cds@db/audit?password=secret", "pseudonym_key_file": "k"})")
                .find("must not hold a password"),
            std::string::npos);
  EXPECT_NE(refused(R"({"db": "postgresql://cds@db/audit"})").find("pseudonym_key_file"), std::string::npos);
  EXPECT_EQ(refused(R"({"db": "postgresql://cds@db/audit", "pseudonymize": false})"), "(accepted)");
  // The flag, as Kubernetes passes the URI from a Secret.
  auto flag = cli({"--config", write(base + R"({"pseudonym_key_file": "k"}})").string(), "--audit-db",
                   "postgresql://cds@db.internal/audit"});
  ASSERT_TRUE(std::holds_alternative<cds::CommandLine>(flag)) << std::get<std::string>(flag);
  EXPECT_EQ(std::get<cds::CommandLine>(flag).config.audit_db.string(), "postgresql://cds@db.internal/audit");
}

}  // namespace
}  // namespace cdstest
