#pragma once
// Name-based (version 5, SHA-1) UUIDs: card and suggestion ids are a function of the caller's
// seed and what the card is about, so the same request always yields the same ids.
#include <string>
#include <string_view>

namespace rules::detail {

// UUIDv5 of `name` in this service's namespace, lower-case hex with dashes.
std::string uuid_v5(std::string_view name);

}  // namespace rules::detail
