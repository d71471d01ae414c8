#include "cds/http/helpers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include <cstdio>
#include <ctime>

namespace cds {

std::optional<std::string> host_header_problem(unsigned version, std::size_t fields, std::string_view value) {
  if (fields == 0) {
    if (version >= 11) return "an HTTP/1.1 request needs a Host header";
    return std::nullopt;
  }
  if (fields > 1) return "a request may have only one Host header";
  // uri-host [":" port] is an authority without user info; Boost.URL parses it.
  auto authority = boost::urls::parse_authority(value);
  if (!authority || authority->has_userinfo()) return "the Host header is not a valid host[:port]";
  return std::nullopt;
}

std::string iso_utc(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

bool is_json_content_type(std::string_view ct) {
  auto media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return boost::beast::iequals(media, "application/json") || boost::beast::iequals(media, "application/fhir+json");
}

}  // namespace cds
