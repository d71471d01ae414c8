#pragma once
// What the listener counts about connections, for /metrics: open now (a gauge), the cap in
// force, and those refused, evicted (idle ones closed to make room), closed for taking longer
// than a time-out (limits.*_timeout_ms) or delayed by a pause in accepting (the process was out
// of file descriptors).
#include <atomic>
#include <cstdint>

namespace cds {

struct ConnectionCounters {
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> max{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> evicted{0};
  std::atomic<std::uint64_t> timed_out{0};
  std::atomic<std::uint64_t> accept_pauses{0};
};

}  // namespace cds
