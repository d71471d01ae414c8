#pragma once
// Name-based (version 5, SHA-1) UUIDs: card and suggestion ids are a function of the caller's
// seed and what the card is about, so the same request always yields the same ids.
#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

namespace rules::detail {

using UuidText = std::array<char, 36>;  // lower-case hex with dashes

// UUIDv5 of the name made of `parts` joined by '/', in this service's namespace. No allocation.
UuidText uuid_v5_of_parts(std::initializer_list<std::string_view> parts) noexcept;

// UUIDv5 of `name` in this service's namespace, lower-case hex with dashes.
std::string uuid_v5(std::string_view name);

}  // namespace rules::detail
