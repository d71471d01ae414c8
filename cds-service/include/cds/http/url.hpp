#pragma once
// Absolute http(s) URLs as this service accepts them from outside (fhirServer, JWKS, base
// URL). Boost.URL 1.81 accepts "http://127.0.0.1.evil.test/x" as host 127.0.0.1 with the path
// ".evil.test/x"; a path that does not start with '/' is refused here so that every check
// made on the host sees the host a client would really be talking to.
#include <boost/url/url_view.hpp>

#include <optional>
#include <string_view>

namespace cds {

std::optional<boost::urls::url_view> parse_http_url(std::string_view text);

}  // namespace cds
