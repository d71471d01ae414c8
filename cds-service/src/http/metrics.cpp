#include "cds/http/metrics.hpp"
#include "cds/audit/store.hpp"

#include <cstdio>

namespace cds {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

template <std::size_t N>
std::string histogram_lines(std::string_view name, std::string_view labels, const std::array<double, N>& bounds,
                            const std::uint64_t* counts, double sum) {
  std::string out;
  const std::string sep = labels.empty() ? "" : std::string(labels) + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += counts[i];
    out += std::string(name) + "_bucket{" + sep + "le=\"" + number(bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts[N];
  out += std::string(name) + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out += std::string(name) + "_sum" + braces + " " + number(sum) + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(cumulative) + "\n";
  return out;
}

template std::string histogram_lines(std::string_view, std::string_view, const std::array<double, 12>&,
                                     const std::uint64_t*, double);
template std::string histogram_lines(std::string_view, std::string_view,
                                     const std::array<double, AuditStore::kCommitBuckets.size()>&, const std::uint64_t*,
                                     double);

void RequestMetrics::observe(std::string_view service, unsigned status, std::chrono::steady_clock::duration latency) {
  const double s = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kLatencyBuckets.size() && s > kLatencyBuckets[b]) ++b;
  std::lock_guard lock(mutex_);
  Histogram& h = latency_[{std::string(service), status}];
  ++h.counts[b];
  h.sum += s;
}

void RequestMetrics::count_card(std::string_view rule, std::string_view indicator) {
  std::lock_guard lock(mutex_);
  ++cards_[{std::string(rule), std::string(indicator)}];
}

std::string RequestMetrics::prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out =
      "# HELP cds_request_duration_seconds time from routing to the answer, per CDS service call and status\n"
      "# TYPE cds_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_)
    out += histogram_lines("cds_request_duration_seconds",
                           "service=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"",
                           kLatencyBuckets, h.counts.data(), h.sum);
  out += "# HELP cds_cards_total cards answered (and recorded), by rule and indicator\n# TYPE cds_cards_total counter\n";
  for (const auto& [key, n] : cards_)
    out += "cds_cards_total{rule=\"" + key.first + "\",indicator=\"" + key.second + "\"} " + std::to_string(n) + "\n";
  return out;
}

}  // namespace cds
