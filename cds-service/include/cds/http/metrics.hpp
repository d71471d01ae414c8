#pragma once
// What dashboards and autoscalers read from /metrics beyond the plain counters: request latency
// as a Prometheus histogram per service and HTTP status, and cards issued by rule and indicator.
// Label values come from bounded sets (service ids, rule ids, statuses), never from requests.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace cds {

// Prometheus text for a histogram's bucket lines, from per-bucket (not cumulative) counts;
// `labels` without braces (e.g. `service="x"`), may be empty.
template <std::size_t N>
std::string histogram_lines(std::string_view name, std::string_view labels, const std::array<double, N>& bounds,
                            const std::uint64_t* counts, double sum);

class RequestMetrics {
 public:
  static constexpr std::array<double, 12> kLatencyBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                          0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
  void observe(std::string_view service, unsigned status, std::chrono::steady_clock::duration latency);
  void count_card(std::string_view rule, std::string_view indicator);
  // The metric families, with their HELP and TYPE lines.
  std::string prometheus() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size() + 1> counts{};  // the last: over every bound
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, unsigned>, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> cards_;
};

}  // namespace cds
