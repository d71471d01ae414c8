#include "cds/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace cds {
namespace {
std::atomic<LogLevel> g_level{LogLevel::info};  // process-wide by nature: stderr is too
constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
}  // namespace

void set_log_level(LogLevel level) { g_level.store(level); }

void log(LogLevel level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line;
  line.reserve(message.size() + 48);
  line.append(stamp).append(" ").append(kNames[static_cast<int>(level)]).append(" ").append(message).append("\n");
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: lines never interleave
}

}  // namespace cds
