#pragma once
// Lists of strings as JSON arrays in audit columns (triggered_by, codes, suggestions, ...).
#include <string>
#include <string_view>
#include <vector>

namespace cds {

std::string to_json_list(const std::vector<std::string>& items);
// Strings of a JSON array; anything else (bad JSON, non-strings) is skipped.
std::vector<std::string> parse_json_list(std::string_view text);

}  // namespace cds
