#include "cds/audit/json_list.hpp"

#include "fhir/json.hpp"

#include <boost/json/serializer.hpp>

namespace cds {

std::string to_json_list(const std::vector<std::string>& items) {
  // Each string through the serializer, without building an array of copies first.
  std::string out = "[";
  boost::json::serializer sr;
  char buf[256];
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    sr.reset(items[i]);
    while (!sr.done()) out.append(sr.read(buf));
  }
  out.push_back(']');
  return out;
}

std::vector<std::string> parse_json_list(std::string_view text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (!ec && v.is_array())
    for (const auto& e : v.get_array())
      if (e.is_string()) out.emplace_back(e.get_string());
  return out;
}

}  // namespace cds
