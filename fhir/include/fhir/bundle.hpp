#pragma once
// Bundle (searchset, collection, ...) and walking "a resource or a Bundle of them", which is
// what a prefetch value or draftOrders holds.
#include "fhir/resources.hpp"

namespace fhir {

class BundleEntry {
 public:
  explicit BundleEntry(const json::object* o) noexcept : o_(o) {}
  std::string_view full_url() const noexcept { return string_field(o_, "fullUrl"); }
  const json::object* resource() const noexcept { return object_field(o_, "resource"); }
  std::string_view search_mode() const noexcept { return string_field(object_field(o_, "search"), "mode"); }
 private:
  const json::object* o_;
};

class BundleLink {
 public:
  explicit BundleLink(const json::object* o) noexcept : o_(o) {}
  std::string_view relation() const noexcept { return string_field(o_, "relation"); }
  std::string_view url() const noexcept { return string_field(o_, "url"); }
 private:
  const json::object* o_;
};

class Bundle : public Resource {
 public:
  using Resource::Resource;
  static bool is_bundle(const json::value& v) noexcept;
  std::string_view type() const noexcept { return string_field(o_, "type"); }
  ObjectRange<BundleEntry> entries() const noexcept { return ObjectRange<BundleEntry>(array_field(o_, "entry")); }
  ObjectRange<BundleLink> links() const noexcept { return ObjectRange<BundleLink>(array_field(o_, "link")); }
  std::string_view link(std::string_view relation) const noexcept;
  std::string_view next_link() const noexcept { return link("next"); }
};

// Calls f(const json::object&) for each resource in `v`: the entries of a Bundle (skipping
// OperationOutcome entries a searchset may carry as search.mode "outcome"), or `v` itself
// when it is a single resource. Null and non-objects yield nothing.
template <class F>
void for_each_resource(const json::value& v, F&& f) {
  const json::object* o = v.if_object();
  if (o == nullptr) return;
  if (string_field(o, "resourceType") != "Bundle") {
    f(*o);
    return;
  }
  for (BundleEntry e : Bundle(o).entries()) {
    const json::object* r = e.resource();
    if (r == nullptr || e.search_mode() == "outcome") continue;
    f(*r);
  }
}

}  // namespace fhir
