#pragma once
// The CDS services this product offers (discovery), and the prefetch templates they ask for.
#include "fhir/json.hpp"

#include <array>
#include <span>
#include <string_view>

namespace cds {

struct PrefetchTemplate {
  std::string_view key;
  std::string_view query;
};

struct ServiceDefinition {
  std::string_view id;
  std::string_view hook;
  std::string_view title;
  std::string_view description;
  std::span<const PrefetchTemplate> prefetch;
};

std::span<const ServiceDefinition> services() noexcept;
const ServiceDefinition* find_service(std::string_view id) noexcept;

// The discovery document: {"services": [...]}.
boost::json::value discovery_document();

}  // namespace cds
