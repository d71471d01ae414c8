#include "cds/http/url.hpp"

#include <boost/url/parse.hpp>

namespace cds {

std::optional<boost::urls::url_view> parse_http_url(std::string_view text) {
  auto u = boost::urls::parse_absolute_uri(text);
  if (!u || (u->scheme() != "https" && u->scheme() != "http") || !u->has_authority() || u->host().empty() ||
      u->has_userinfo())
    return std::nullopt;
  auto path = u->encoded_path();
  if (!path.empty() && path.front() != '/') return std::nullopt;
  return *u;
}

}  // namespace cds
