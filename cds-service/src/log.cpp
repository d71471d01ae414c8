#include "cds/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cds {
namespace {
std::atomic<LogLevel> g_level{LogLevel::info};  // process-wide by nature: stderr is too
constexpr const char* kNames[] = {"debug", "info", "warning", "error"};

void write_line(LogLevel level, std::string_view message) {
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

// What log_repeated remembers per kind: when its last line was written, and how many
// occurrences came since (that one included).
struct Repeats {
  std::chrono::steady_clock::time_point written{};
  std::uint64_t count = 0;
};

class RepeatLimiter {
 public:
  void set_window(std::chrono::milliseconds w) {
    std::lock_guard lock(mutex_);
    window_ = w;
  }
  // Whether to write now, how many occurrences the line stands for (0: only this one) and
  // over how long since the previous line of its kind.
  bool admit(std::string_view kind, std::uint64_t& count, std::chrono::milliseconds& span) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    Repeats& r = kinds_[std::string(kind)];
    ++r.count;
    if (r.written != std::chrono::steady_clock::time_point{} && now - r.written < window_) return false;
    count = r.count > 1 ? r.count : 0;
    span = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.written);
    r.written = now;
    r.count = 0;
    return true;
  }

 private:
  std::mutex mutex_;
  std::chrono::milliseconds window_{10'000};
  std::unordered_map<std::string, Repeats> kinds_;  // a handful of kinds, named in the code
};

RepeatLimiter& limiter() {
  static RepeatLimiter instance;  // process-wide, like stderr
  return instance;
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(level); }

void log(LogLevel level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  write_line(level, message);
}

void log_repeated(LogLevel level, std::string_view kind, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::uint64_t count = 0;
  std::chrono::milliseconds span{};
  if (!limiter().admit(kind, count, span)) return;
  if (count == 0) return write_line(level, message);
  const auto ms = span.count();
  const std::string last = ms >= 10'000 ? std::to_string((ms + 500) / 1000) + " s" : std::to_string(ms) + " ms";
  write_line(level, std::string(message) + " (\u00d7" + with_thousands(count) + " in the last " + last + ")");
}

void set_log_repeat_window(std::chrono::milliseconds window) { limiter().set_window(window); }

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace cds
