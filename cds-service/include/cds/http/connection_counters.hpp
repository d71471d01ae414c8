#pragma once
// What the listener counts about connections, for /metrics: open now (a gauge), the cap in
// force, and those refused, evicted (idle ones closed to make room), closed for taking longer
// than a time-out (limits.*_timeout_ms) or delayed by a pause in accepting (the process was out
// of file descriptors).
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cds {

// Where a request's time goes on its connection, for /metrics (cds_http_phase_seconds): reading
// it (its first byte to its whole body), the service (body read to answer ready, the audit
// commit included), the hand-back (answer ready to its connection's thread writing it: how long
// an answer waits for that thread), and writing it. Lock-free: every request is observed.
struct PhaseTimes {
  enum Phase : std::size_t { read, service, handback, write, kPhases };
  static constexpr std::array<const char*, kPhases> kNames{"read", "service", "handback", "write"};
  static constexpr std::array<double, 10> kBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                   0.005,  0.01,    0.025,  0.1,   1.0};
  std::array<std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1>, kPhases> counts{};
  std::array<std::atomic<std::uint64_t>, kPhases> sum_ns{};

  void observe(Phase p, std::chrono::steady_clock::duration d) noexcept {
    const double s = std::chrono::duration<double>(d).count();
    std::size_t b = 0;
    while (b < kBuckets.size() && s > kBuckets[b]) ++b;
    counts[p][b].fetch_add(1, std::memory_order_relaxed);
    sum_ns[p].fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
                        std::memory_order_relaxed);
  }
};

struct ConnectionCounters {
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> max{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> evicted{0};
  std::atomic<std::uint64_t> timed_out{0};
  std::atomic<std::uint64_t> accept_pauses{0};
  PhaseTimes phases;
};

}  // namespace cds
