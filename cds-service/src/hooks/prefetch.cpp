#include "cds/hooks/prefetch.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <array>

namespace cds {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kUserTokens{{
    {"userPractitionerId", "Practitioner"},
    {"userPractitionerRoleId", "PractitionerRole"},
    {"userPatientId", "Patient"},
    {"userRelatedPersonId", "RelatedPerson"},
}};

template <class F>
std::string for_each_token(std::string_view t, F&& on_token, bool& ok) {
  std::string out;
  ok = true;
  std::size_t pos = 0;
  while (pos < t.size()) {
    auto open = t.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(t.substr(pos));
      break;
    }
    out.append(t.substr(pos, open - pos));
    auto close = t.find("}}", open + 2);
    if (close == std::string_view::npos) {
      ok = false;
      return out;
    }
    std::string_view token = t.substr(open + 2, close - open - 2);
    if (!on_token(token, out)) {
      ok = false;
      return out;
    }
    pos = close + 2;
  }
  return out;
}

bool known_token(std::string_view token) {
  if (token.starts_with("context.") && token.size() > 8) return token.find('.', 8) == std::string_view::npos;
  for (auto& [name, type] : kUserTokens)
    if (token == name) return true;
  return false;
}

}  // namespace

std::string check_prefetch_template(std::string_view query_template) {
  std::string bad;
  bool ok = true;
  for_each_token(
      query_template,
      [&](std::string_view token, std::string&) {
        if (known_token(token)) return true;
        bad = std::string(token);
        return false;
      },
      ok);
  if (ok) return {};
  return bad.empty() ? "unclosed {{ in prefetch template '" + std::string(query_template) + "'"
                     : "unknown prefetch token {{" + bad + "}} in '" + std::string(query_template) + "'";
}

std::optional<std::string> render_prefetch(std::string_view query_template, const boost::json::object& context) {
  const std::string_view user = fhir::string_field(&context, "userId");
  bool ok = true;
  std::string out = for_each_token(
      query_template,
      [&](std::string_view token, std::string& sink) {
        std::string_view value;
        if (token.starts_with("context.")) {
          value = fhir::string_field(&context, token.substr(8));
        } else {
          for (auto& [name, type] : kUserTokens)
            if (token == name && user.size() > type.size() + 1 && user.starts_with(type) && user[type.size()] == '/')
              value = user.substr(type.size() + 1);
        }
        if (value.empty()) return false;
        sink += boost::urls::encode(value, boost::urls::unreserved_chars);
        return true;
      },
      ok);
  if (!ok) return std::nullopt;
  return out;
}

bool scope_allows(std::string_view scope, std::string_view query) {
  const bool search = query.find('?') != std::string_view::npos || query.find('/') == std::string_view::npos;
  std::string_view type = query.substr(0, std::min(query.find('?'), query.find('/')));
  std::size_t pos = 0;
  while (pos < scope.size()) {
    auto end = scope.find(' ', pos);
    std::string_view s = scope.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? scope.size() : end + 1;
    auto slash = s.find('/');
    auto dot = s.find('.', slash == std::string_view::npos ? 0 : slash);
    if (slash == std::string_view::npos || dot == std::string_view::npos) continue;
    std::string_view context = s.substr(0, slash), rtype = s.substr(slash + 1, dot - slash - 1), perm = s.substr(dot + 1);
    if (context != "patient" && context != "user" && context != "system") continue;
    if (rtype != "*" && rtype != type) continue;
    if (perm == "read" || perm == "*") return true;  // SMART v1
    if (perm.find_first_not_of("cruds") == std::string_view::npos && perm.find(search ? 's' : 'r') != std::string_view::npos)
      return true;  // SMART v2
  }
  return false;
}

}  // namespace cds
