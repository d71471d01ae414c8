// GET /reports/compliance?from=YYYY-MM-DD&to=YYYY-MM-DD&format=csv|json|html|measure[&tenant=][&table=]
// The same reports as cds-report, for quality reviewers holding an admin token.
#include "cds/app.hpp"
#include "cds/log.hpp"
#include "cds/reports/report.hpp"

#include <boost/asio/post.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace cds {
namespace http = boost::beast::http;

bool App::is_admin(const HttpRequest& req) const {
  if (config_.admin_token_sha256.empty()) return false;
  std::string_view header = req[http::field::authorization];
  if (header.size() <= 7 || !boost::beast::iequals(header.substr(0, 7), "Bearer ")) return false;
  std::string_view token = header.substr(7);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &len, EVP_sha256(), nullptr) != 1) return false;
  static constexpr char hex[] = "0123456789abcdef";
  std::string digest_hex;
  for (unsigned i = 0; i < len; ++i) digest_hex += hex[digest[i] >> 4], digest_hex += hex[digest[i] & 15];
  bool match = false;
  // Compare against every entry in constant time: no early exit that times the token.
  for (const auto& allowed : config_.admin_token_sha256)
    match |= allowed.size() == digest_hex.size() && CRYPTO_memcmp(allowed.data(), digest_hex.data(), digest_hex.size()) == 0;
  return match;
}

void App::reports(HttpRequest&& req, const boost::urls::params_view& params, Respond respond) {
  ReportRequest r;
  for (auto p : params) {
    if (p.key == "from") r.from = p.value;
    else if (p.key == "to") r.to = p.value;
    else if (p.key == "format") r.format = p.value;
    else if (p.key == "tenant") r.tenant = p.value;
    else if (p.key == "table") r.table = p.value;
    else return respond(json_response(400, error_body(bad_request("unknown query parameter '" + std::string(p.key) + "'")), req));
  }
  if (r.format.empty()) r.format = "json";
  if (r.format == "csv" && r.table.empty())
    return respond(json_response(400, error_body(bad_request("format=csv needs table= (one of the report tables)")), req));
  r.base_url = base_url_;
  if (auto err = validate_report_request(r)) return respond(json_response(400, error_body(bad_request(*err)), req));
  boost::asio::post(slow_work_, [this, r = std::move(r), req = std::move(req), respond = std::move(respond)]() mutable {
    respond(compliance_response(std::move(r), req));
  });
}

HttpResponse App::compliance_response(ReportRequest r, const HttpRequest& req) const {
  if (auto displays = load_override_reason_displays(config_.rules_dir);
      auto* map = std::get_if<std::map<std::string, std::string>>(&displays))
    r.reason_displays = std::move(*map);
  auto files = compliance_report(config_.audit_db, r);
  if (auto* err = std::get_if<std::string>(&files)) {
    log(LogLevel::error, "compliance report failed: " + *err);
    return json_response(503, error_body({503, "the audit store cannot be read"}), req);
  }
  auto& list = std::get<std::vector<ReportFile>>(files);
  HttpResponse res = json_response(200, std::move(list.front().body), req);
  res.set(http::field::content_type, list.front().content_type);
  res.set(http::field::content_disposition, "inline; filename=\"" + list.front().name + "\"");
  res.prepare_payload();
  return res;
}

}  // namespace cds
