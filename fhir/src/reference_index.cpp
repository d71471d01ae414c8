#include "fhir/reference_index.hpp"

#include "fhir/bundle.hpp"

namespace fhir {

bool split_reference(std::string_view ref, std::string_view& type, std::string_view& id) noexcept {
  if (ref.empty() || ref.front() == '#' || ref.starts_with("urn:")) return false;
  if (auto h = ref.find("/_history/"); h != std::string_view::npos) ref = ref.substr(0, h);
  auto slash = ref.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == ref.size()) return false;
  id = ref.substr(slash + 1);
  auto before = ref.substr(0, slash);
  auto prev = before.rfind('/');
  type = prev == std::string_view::npos ? before : before.substr(prev + 1);
  // Resource type names start with an upper-case letter; anything else is not a reference.
  return !type.empty() && type.front() >= 'A' && type.front() <= 'Z';
}

void ReferenceIndex::add_one(const json::object& r, std::string_view full_url) {
  entries_.push_back(Entry{string_field(&r, "resourceType"), string_field(&r, "id"), full_url, &r});
}

void ReferenceIndex::add(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return;
  if (string_field(o, "resourceType") != "Bundle") {
    add_one(*o, {});
    return;
  }
  for (BundleEntry e : Bundle(o).entries())
    if (const json::object* r = e.resource()) add_one(*r, e.full_url());
}

const json::object* ReferenceIndex::resolve(std::string_view reference) const noexcept {
  if (reference.empty()) return nullptr;
  for (const Entry& e : entries_)
    if (!e.full_url.empty() && e.full_url == reference) return e.resource;
  std::string_view type, id;
  if (!split_reference(reference, type, id)) return nullptr;
  for (const Entry& e : entries_)
    if (e.type == type && e.id == id) return e.resource;
  return nullptr;
}

}  // namespace fhir
