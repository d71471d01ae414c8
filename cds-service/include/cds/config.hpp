#pragma once
// Service configuration: a JSON file (unknown keys are an error naming the key) overridden by
// command-line flags. Relative paths in the file resolve against the file's own directory.
#include "cds/auth/authenticator.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace cds {

struct Limits {
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
};

struct FhirSettings {
  std::chrono::milliseconds timeout{2000};  // budget for fetching missing prefetch, per invocation
  std::size_t max_resources = 1000;         // per query, across pages
  std::size_t max_pages = 100;              // per query
};

struct Config {
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 8443;
  std::string public_base_url;  // empty: derived from listen and TLS
  unsigned threads = 0;         // 0: one per core
  bool tls_enabled = true;
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  std::filesystem::path tls_client_ca;  // set: mutual TLS, clients must present a certificate it signed
  std::filesystem::path rules_dir = "rules/data";
  std::filesystem::path audit_db = "var/audit.db";
  bool audit_pseudonymize = true;               // patient references stored as HMAC-SHA256 pseudonyms
  std::filesystem::path audit_pseudonym_key;    // empty: <audit_db>.key, created on first start
  Limits limits;
  // Empty: "*" when auth is disabled (development), otherwise no cross-origin access.
  std::vector<std::string> cors_allowed_origins;
  AuthConfig auth;
  FhirSettings fhir;
  // SHA-256 (hex) of the admin bearer tokens allowed to read compliance reports over HTTP.
  // Separate from EHR JWTs; the tokens themselves never sit in the config.
  std::vector<std::string> admin_token_sha256;
  std::string outbound_ca_file;  // CA bundle for outbound HTTPS (JWKS, FHIR); empty: system store

  // The base URL cards and JWT audiences use: public_base_url, or scheme://listen.
  std::string base_url() const;
};

// Reads and checks a config file. Error text names the file and the offending key.
std::variant<Config, std::string> load_config_file(const std::filesystem::path& file);

// Parses the command line (`--config FILE` plus overriding flags). Returns the config, or the
// text to print: an error, or the help when `--help` was given (`help` is then true).
struct CommandLine {
  Config config;
  bool help = false;
  std::string message;
};
std::variant<CommandLine, std::string> parse_command_line(int argc, const char* const* argv);

// Checks the combination of settings (e.g. TLS files present when TLS is on).
std::string check_config(const Config& config);

}  // namespace cds
