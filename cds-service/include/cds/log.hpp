#pragma once
// Application log: one line per event on stderr. Never PHI: no request bodies, patient ids,
// tokens or card text — ids of our own (hookInstance, card uuids) and statuses only.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cds {

enum class LogLevel { debug, info, warning, error };

void log(LogLevel level, std::string_view message);
void set_log_level(LogLevel level);

// For events that can repeat at the rate of requests or accept() calls (a full disk, a file
// descriptor limit, a flood of bad tokens): at most one line per `kind` per window. The first
// occurrence is written at once; later ones within the window are counted, and the next line
// written says how many there were ("... (×12,345 in the last 10 s)"). A log that a fault can
// fill at thousands of lines a second would be a second fault (a full disk).
void log_repeated(LogLevel level, std::string_view kind, std::string_view message);

// The window of log_repeated (tests shorten it to see the count without waiting 10 s).
void set_log_repeat_window(std::chrono::milliseconds window);

// "12345" -> "12,345": counts in log lines and messages are read by people.
std::string with_thousands(std::uint64_t n);

}  // namespace cds
