#include "fhir/bundle.hpp"

namespace fhir {

bool Bundle::is_bundle(const json::value& v) noexcept {
  const json::object* o = v.if_object();
  return o != nullptr && string_field(o, "resourceType") == "Bundle";
}

std::string_view Bundle::link(std::string_view relation) const noexcept {
  for (BundleLink l : links())
    if (l.relation() == relation) return l.url();
  return {};
}

}  // namespace fhir
