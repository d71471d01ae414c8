#include "http/deadlines.hpp"

#include <algorithm>

namespace cds::detail {

std::chrono::milliseconds Deadlines::interval_for(std::chrono::milliseconds shortest) {
  using std::chrono::milliseconds;
  return std::clamp(shortest / 10, milliseconds(10), milliseconds(1000));
}

void Deadlines::watch(std::weak_ptr<Timed> connection) {
  if (watched_.size() >= compact_at_) {
    std::erase_if(watched_, [](const std::weak_ptr<Timed>& w) { return w.expired(); });
    compact_at_ = std::max(kFirstCompaction, 2 * watched_.size());  // amortized: a pass per doubling
  }
  watched_.push_back(std::move(connection));
}

void Deadlines::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->sweep();
  });
}

void Deadlines::sweep() {
  const auto now = Timed::Clock::now();
  // Closed connections are dropped by swapping the last one into their place: order is not kept.
  for (std::size_t i = 0; i < watched_.size();) {
    auto connection = watched_[i].lock();
    if (!connection) {
      watched_[i] = std::move(watched_.back());
      watched_.pop_back();
      continue;
    }
    if (connection->deadline() <= now) {
      connection->no_deadline();  // timed out once; it ends when its pending step sees the close
      connection->time_out();
      counters_.timed_out.fetch_add(1, std::memory_order_relaxed);
    }
    ++i;
  }
  schedule();
}

}  // namespace cds::detail
