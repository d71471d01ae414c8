#pragma once
// Resolves FHIR references ("Condition/abc", absolute URLs, "urn:uuid:..." fullUrls) to the
// resources present in one request: its prefetch and its draftOrders. No network: a reference
// to something the request does not carry resolves to nothing.
#include "fhir/json.hpp"

#include <string_view>
#include <vector>

namespace fhir {

class ReferenceIndex {
 public:
  // Indexes a resource, or every entry of a Bundle.
  void add(const json::value& resource_or_bundle);
  const json::object* resolve(std::string_view reference) const noexcept;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::string_view type, id, full_url;
    const json::object* resource;
  };
  void add_one(const json::object& resource, std::string_view full_url);
  // A linear scan: a request holds tens of resources, where a hash map costs more to build
  // than it saves, and this keeps the index allocation-light.
  std::vector<Entry> entries_;
};

// Splits "…/Type/id" (optionally followed by "/_history/v") into type and id.
bool split_reference(std::string_view reference, std::string_view& type, std::string_view& id) noexcept;

}  // namespace fhir
