#include "cds/config.hpp"
#include "cds/audit/store.hpp"

#include "cds/http/url.hpp"

#include "fhir/json.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/program_options.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

namespace cds {
namespace json = boost::json;
namespace po = boost::program_options;

namespace {

// "HOST:PORT", "[v6]:PORT". Not a URL: Boost.URL has no grammar for a bare authority we want.
bool parse_listen(std::string_view s, std::string& host, unsigned short& port) {
  std::string_view h, p;
  if (s.starts_with('[')) {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + unsigned(c - '0');
  }
  if (v > 65535) return false;
  host = std::string(h);
  port = static_cast<unsigned short>(v);
  return true;
}

std::string check_base_url(const std::string& url) {
  auto r = parse_http_url(url);
  if (!r) return "public_base_url '" + url + "' is not an absolute http(s) URL";
  if (r->has_query() || r->has_fragment()) return "public_base_url must not have a query or fragment";
  return {};
}

// A JSON object reader that remembers which keys were read, so unknown keys can be named.
class Section {
 public:
  Section(const json::object& o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}
  const json::value* get(std::string_view key) {
    seen_.emplace_back(key);
    return o_.if_contains(key);
  }
  std::string path(std::string_view key) const { return prefix_ + std::string(key); }
  std::string unknown_key() const {
    for (const auto& kv : o_)
      if (std::find(seen_.begin(), seen_.end(), std::string_view(kv.key())) == seen_.end()) return path(kv.key());
    return {};
  }
 private:
  const json::object& o_;
  std::string prefix_;
  std::vector<std::string_view> seen_;
};

struct Reader {
  const std::filesystem::path& base_dir;
  std::string error;

  bool fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return false;
  }
  void string(Section& s, std::string_view key, std::string& out) {
    if (const json::value* v = s.get(key)) {
      if (const auto* str = v->if_string()) out = std::string(*str);
      else fail("'" + s.path(key) + "' must be a string");
    }
  }
  void path(Section& s, std::string_view key, std::filesystem::path& out) {
    if (const json::value* v = s.get(key)) {
      if (const auto* str = v->if_string(); str && !str->empty()) {
        std::filesystem::path p{std::string_view(*str)};
        out = p.is_absolute() ? p : (base_dir / p).lexically_normal();
      } else {
        fail("'" + s.path(key) + "' must be a non-empty path string");
      }
    }
  }
  void boolean(Section& s, std::string_view key, bool& out) {
    if (const json::value* v = s.get(key)) {
      if (v->is_bool()) out = v->get_bool();
      else fail("'" + s.path(key) + "' must be true or false");
    }
  }
  template <class T>
  void unsigned_number(Section& s, std::string_view key, T& out, unsigned long long max) {
    if (const json::value* v = s.get(key)) {
      long long n = -1;
      if (v->is_int64()) n = v->get_int64();
      else if (v->is_uint64() && v->get_uint64() <= max) n = static_cast<long long>(v->get_uint64());
      if (n < 0 || static_cast<unsigned long long>(n) > max)
        fail("'" + s.path(key) + "' must be a whole number from 0 to " + std::to_string(max));
      else
        out = static_cast<T>(n);
    }
  }
  void millis(Section& s, std::string_view key, std::chrono::milliseconds& out) {
    long long n = out.count();
    unsigned_number(s, key, n, 24ULL * 3600 * 1000);
    if (n <= 0) fail("'" + s.path(key) + "' must be at least 1");
    out = std::chrono::milliseconds(n);
  }
  const json::object* object(Section& s, std::string_view key) {
    const json::value* v = s.get(key);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) {
      fail("'" + s.path(key) + "' must be an object");
      return nullptr;
    }
    return &v->get_object();
  }
  void done(const Section& s) {
    if (auto k = s.unknown_key(); !k.empty()) fail("unknown key '" + k + "'");
  }
};

void string_list(Reader& r, Section& s, std::string_view key, std::vector<std::string>& out) {
  const json::value* v = s.get(key);
  if (v == nullptr) return;
  const json::array* a = v->if_array();
  bool ok = a != nullptr;
  if (ok) {
    out.clear();
    for (const json::value& e : *a) {
      if (!e.is_string() || e.get_string().empty()) ok = false;
      else out.emplace_back(e.get_string());
    }
  }
  if (!ok) r.fail("'" + s.path(key) + "' must be an array of non-empty strings");
}

void seconds(Reader& r, Section& s, std::string_view key, std::chrono::seconds& out) {
  long long n = out.count();
  r.unsigned_number(s, key, n, 7ULL * 24 * 3600);
  out = std::chrono::seconds(n);
}

void read_auth(Reader& r, const json::object& o, AuthConfig& auth) {
  Section s(o, "auth.");
  r.boolean(s, "enabled", auth.enabled);
  string_list(r, s, "algorithms", auth.algorithms);
  for (const auto& a : auth.algorithms)
    if (!jose::parse_alg(a)) r.fail("'auth.algorithms' has \"" + a + "\": only ES256/384/512, RS256/384/512 and PS256/384/512 are supported (never none or HMAC)");
  seconds(r, s, "clock_skew_s", auth.clock_skew);
  seconds(r, s, "max_lifetime_s", auth.max_lifetime);
  seconds(r, s, "jwks_cache_ttl_s", auth.jwks_cache_ttl);
  seconds(r, s, "jwks_min_refresh_s", auth.jwks_min_refresh);
  r.unsigned_number(s, "replay_cache_entries", auth.replay_cache_entries, 100'000'000);
  if (const json::value* v = s.get("trusted_issuers")) {
    const json::array* a = v->if_array();
    if (a == nullptr) r.fail("'auth.trusted_issuers' must be an array");
    for (std::size_t i = 0; a && i < a->size(); ++i) {
      const json::object* io = (*a)[i].if_object();
      std::string prefix = "auth.trusted_issuers[" + std::to_string(i) + "].";
      if (io == nullptr) {
        r.fail("'" + prefix.substr(0, prefix.size() - 1) + "' must be an object");
        continue;
      }
      Section is(*io, prefix);
      TrustedIssuer t;
      r.string(is, "iss", t.iss);
      r.path(is, "jwks_file", t.jwks_file);
      r.string(is, "jwks_url", t.jwks_url);
      string_list(r, is, "jku_allowlist", t.jku_allowlist);
      string_list(r, is, "clients", t.clients);
      string_list(r, is, "fhir_servers", t.fhir_servers);
      r.done(is);
      if (t.iss.empty()) r.fail("'" + prefix + "iss' is required");
      if (t.jwks_file.empty() == t.jwks_url.empty() && t.jku_allowlist.empty())
        r.fail("'" + prefix + "' needs exactly one of jwks_file or jwks_url (or a jku_allowlist)");
      // With auth on, a plain-http FHIR server is never contacted (the EHR's token would travel in
      // clear): an entry that could never be used is refused here, not ignored at call time.
      for (std::size_t j = 0; auth.enabled && j < t.fhir_servers.size(); ++j)
        if (t.fhir_servers[j].size() < 8 || !boost::beast::iequals(std::string_view(t.fhir_servers[j]).substr(0, 8), "https://"))
          r.fail("'" + prefix + "fhir_servers[" + std::to_string(j) + "]' must be an https URL while auth is enabled");
      auth.trusted_issuers.push_back(std::move(t));
    }
  }
  r.done(s);
}

}  // namespace

std::size_t connections_for_file_limit(std::size_t open_file_limit) {
  const std::size_t reserve = std::max<std::size_t>(128, open_file_limit / 8);
  return open_file_limit > reserve + 16 ? open_file_limit - reserve : 16;
}

std::string Config::base_url() const {
  if (!public_base_url.empty()) return public_base_url;
  std::string host = listen_host.find(':') != std::string::npos ? "[" + listen_host + "]" : listen_host;
  return std::string(tls_enabled ? "https://" : "http://") + host + ":" + std::to_string(listen_port);
}

std::variant<Config, std::string> load_config_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "config: cannot read " + file.string();
  std::stringstream buf;
  buf << in.rdbuf();
  boost::system::error_code ec;
  json::value doc = json::parse(buf.str(), ec);
  if (ec) return "config " + file.string() + ": not valid JSON (" + ec.message() + ")";
  if (!doc.is_object()) return "config " + file.string() + ": the top level must be an object";

  Config c;
  const auto base_dir = std::filesystem::absolute(file).parent_path();
  Reader r{base_dir, {}};
  Section top(doc.get_object(), "");
  std::string listen;
  r.string(top, "listen", listen);
  if (!listen.empty() && !parse_listen(listen, c.listen_host, c.listen_port))
    r.fail("'listen' must be HOST:PORT, e.g. 127.0.0.1:8443 or [::1]:8443");
  r.string(top, "public_base_url", c.public_base_url);
  r.unsigned_number(top, "threads", c.threads, 256);
  r.path(top, "rules_dir", c.rules_dir);
  if (const json::object* tls = r.object(top, "tls")) {
    Section s(*tls, "tls.");
    r.boolean(s, "enabled", c.tls_enabled);
    r.path(s, "cert", c.tls_cert);
    r.path(s, "key", c.tls_key);
    r.path(s, "client_ca", c.tls_client_ca);
    r.done(s);
  }
  if (const json::object* audit = r.object(top, "audit")) {
    Section s(*audit, "audit.");
    // A postgresql:// URI is kept as written; only a SQLite path resolves against the file's folder.
    if (const json::value* db = s.get("db"); db && db->is_string() && is_postgres_uri(db->get_string()))
      c.audit_db = std::string(db->get_string());
    else
      r.path(s, "db", c.audit_db);
    r.boolean(s, "pseudonymize", c.audit_pseudonymize);
    r.path(s, "pseudonym_key_file", c.audit_pseudonym_key);
    r.done(s);
  }
  if (const json::object* limits = r.object(top, "limits")) {
    Section s(*limits, "limits.");
    r.unsigned_number(s, "max_body_bytes", c.limits.max_body_bytes, 64ULL * 1024 * 1024);
    r.unsigned_number(s, "max_header_bytes", c.limits.max_header_bytes, 1024ULL * 1024);
    r.millis(s, "header_timeout_ms", c.limits.header_timeout);
    r.millis(s, "body_timeout_ms", c.limits.body_timeout);
    r.millis(s, "idle_timeout_ms", c.limits.idle_timeout);
    r.unsigned_number(s, "max_connections", c.limits.max_connections, 10'000'000);
    r.unsigned_number(s, "max_connections_per_ip", c.limits.max_connections_per_ip, 10'000'000);
    r.millis(s, "drain_timeout_ms", c.limits.drain_timeout);
    r.done(s);
  }
  if (const json::object* cors = r.object(top, "cors")) {
    Section s(*cors, "cors.");
    if (const json::value* v = s.get("allowed_origins")) {
      const json::array* a = v->if_array();
      if (a == nullptr) r.fail("'cors.allowed_origins' must be an array of strings");
      else
        for (const json::value& e : *a) {
          if (!e.is_string() || e.get_string().empty()) r.fail("'cors.allowed_origins' must be an array of strings");
          else c.cors_allowed_origins.emplace_back(e.get_string());
        }
    }
    r.done(s);
  }
  if (const json::object* auth = r.object(top, "auth")) read_auth(r, *auth, c.auth);
  if (const json::object* admin = r.object(top, "admin")) {
    Section s(*admin, "admin.");
    string_list(r, s, "token_sha256", c.admin_token_sha256);
    for (auto& h : c.admin_token_sha256) {
      std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (h.size() != 64 || h.find_first_not_of("0123456789abcdef") != std::string::npos)
        r.fail("'admin.token_sha256' entries must be 64 hex digits (sha256sum of the token)");
    }
    r.done(s);
  }
  if (const json::object* fhir = r.object(top, "fhir")) {
    Section s(*fhir, "fhir.");
    r.millis(s, "timeout_ms", c.fhir.timeout);
    r.unsigned_number(s, "max_resources", c.fhir.max_resources, 100'000);
    r.unsigned_number(s, "max_pages", c.fhir.max_pages, 10'000);
    r.done(s);
  }
  if (const json::object* outbound = r.object(top, "outbound")) {
    Section s(*outbound, "outbound.");
    std::filesystem::path ca;
    r.path(s, "ca_file", ca);
    c.outbound_ca_file = ca.string();
    r.done(s);
  }
  r.done(top);
  if (!r.error.empty()) return "config " + file.string() + ": " + r.error;
  return c;
}

std::variant<CommandLine, std::string> parse_command_line(int argc, const char* const* argv) {
  po::options_description desc("cds-service: CDS Hooks 2.0 service for knee osteoarthritis regenerative-injection advice");
  std::string config_file, listen, base_url, cert, key, rules, audit;
  unsigned threads = 0;
  std::size_t max_body = 0;
  // clang-format off
  desc.add_options()
    ("help,h", "print this help")
    ("config", po::value(&config_file), "JSON config file (see README); flags below override it")
    ("listen", po::value(&listen), "HOST:PORT to listen on (default 127.0.0.1:8443)")
    ("tls-cert", po::value(&cert), "PEM certificate chain")
    ("tls-key", po::value(&key), "PEM private key")
    ("no-tls", "serve plain HTTP (local development only)")
    ("rules", po::value(&rules), "rules data directory (default rules/data)")
    ("audit-db", po::value(&audit), "SQLite audit file (default var/audit.db) or postgresql:// URI")
    ("threads", po::value(&threads), "I/O threads (default: one per core)")
    ("max-body", po::value(&max_body), "largest request body in bytes (default 1048576)")
    ("public-base-url", po::value(&base_url), "the URL EHRs call, e.g. https://cds.example.org");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return std::string("cds-service: ") + e.what() + " (see --help)";
  }
  CommandLine out;
  if (vm.count("help")) {
    std::ostringstream s;
    s << desc;
    out.help = true;
    out.message = s.str();
    return out;
  }
  if (!config_file.empty()) {
    auto loaded = load_config_file(config_file);
    if (auto* err = std::get_if<std::string>(&loaded)) return *err;
    out.config = std::get<Config>(std::move(loaded));
  }
  Config& c = out.config;
  if (vm.count("listen") && !parse_listen(listen, c.listen_host, c.listen_port))
    return "cds-service: --listen must be HOST:PORT, e.g. 127.0.0.1:8443";
  if (vm.count("tls-cert")) c.tls_cert = cert;
  if (vm.count("tls-key")) c.tls_key = key;
  if (vm.count("no-tls")) c.tls_enabled = false;
  if (vm.count("rules")) c.rules_dir = rules;
  if (vm.count("audit-db")) c.audit_db = audit;
  if (vm.count("threads")) c.threads = threads;
  if (vm.count("max-body")) c.limits.max_body_bytes = max_body;
  if (vm.count("public-base-url")) c.public_base_url = base_url;
  if (auto err = check_config(c); !err.empty()) return "cds-service: " + err;
  return out;
}

std::string check_config(const Config& c) {
  if (c.tls_enabled && (c.tls_cert.empty() || c.tls_key.empty()))
    return "TLS needs --tls-cert and --tls-key (or --no-tls for local development)";
  if (c.limits.max_body_bytes == 0) return "max body must be at least 1 byte";
  if (c.auth.enabled && c.auth.trusted_issuers.empty())
    return "auth is enabled but auth.trusted_issuers is empty: configure the EHRs allowed to call "
           "(see README), or set auth.enabled=false for local development only";
  if (!c.public_base_url.empty())
    if (auto err = check_base_url(c.public_base_url); !err.empty()) return err;
  if (is_postgres_uri(c.audit_db.string())) {
    // Every replica must pseudonymise with the same key, or one patient has several pseudonyms.
    if (c.audit_pseudonymize && c.audit_pseudonym_key.empty())
      return "audit.db is a PostgreSQL database: set audit.pseudonym_key_file to the key every replica shares";
    // A password in the config file would end up in logs, ps and backups: libpq reads it from
    // PGPASSFILE or PGPASSWORD instead.
    if (auto at = c.audit_db.string().find('@'); at != std::string::npos) {
      const std::string user_info = c.audit_db.string().substr(0, at);
      if (user_info.find(':', user_info.find("://") + 3) != std::string::npos)
        return "audit.db must not hold a password: give it in PGPASSFILE or PGPASSWORD";
    }
    if (c.audit_db.string().find("password=") != std::string::npos)
      return "audit.db must not hold a password: give it in PGPASSFILE or PGPASSWORD";
  }
  return {};
}

}  // namespace cds
