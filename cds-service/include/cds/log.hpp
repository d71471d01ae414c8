#pragma once
// Application log: one line per event on stderr. Never PHI: no request bodies, patient ids,
// tokens or card text — ids of our own (hookInstance, card uuids) and statuses only.
#include <string_view>

namespace cds {

enum class LogLevel { debug, info, warning, error };

void log(LogLevel level, std::string_view message);
void set_log_level(LogLevel level);

}  // namespace cds
