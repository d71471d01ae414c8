#pragma once
// Connection time-outs without a timer per request. Each I/O thread has one Deadlines: its
// connections note when the step they wait on must be over (a plain time point, set from
// steady_clock, no system call), and one timer per thread sweeps them every `interval`,
// closing those past their deadline. Per-step timers (Beast's tcp_stream) cost a timerfd
// re-arm and a cancelled wait for each of a request's three steps, on every request; the sweep
// costs a wake-up per interval whatever the traffic. A deadline is never cut short: a
// connection is closed between its deadline and one interval after it.
#include "cds/http/connection_counters.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace cds::detail {

// What a Deadlines sweeps: anything on the same thread that can be timed out.
class Timed {
 public:
  using Clock = std::chrono::steady_clock;
  // The step now waited on must be over by then; none: no step is timed (answering).
  void deadline_in(Clock::duration d) { deadline_ = Clock::now() + d; }
  void no_deadline() { deadline_ = Clock::time_point::max(); }
  Clock::time_point deadline() const noexcept { return deadline_; }
  // Closes the connection: whatever it waits on ends with operation_aborted.
  virtual void time_out() = 0;

 protected:
  ~Timed() = default;

 private:
  Clock::time_point deadline_ = Clock::time_point::max();
};

class Deadlines : public std::enable_shared_from_this<Deadlines> {
 public:
  // `interval`: how late a time-out may be; the time-outs in force divided by ten, say.
  Deadlines(boost::asio::io_context& ioc, std::chrono::milliseconds interval, ConnectionCounters& counters)
      : timer_(ioc), interval_(interval), counters_(counters) {}

  // On this Deadlines' thread only. Connections are held weakly: a closed one drops out at the
  // next sweep, or sooner when many connections come and go between sweeps (a weak reference
  // keeps a closed session's memory, make_shared's single block, until it is dropped).
  void watch(std::weak_ptr<Timed> connection);
  std::size_t watched() const noexcept { return watched_.size(); }
  void start() { schedule(); }

  // The sweep interval for time-outs of these lengths: a tenth of the shortest, from 10 ms to 1 s.
  static std::chrono::milliseconds interval_for(std::chrono::milliseconds shortest);

 private:
  void schedule();
  void sweep();

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds interval_;
  ConnectionCounters& counters_;
  std::vector<std::weak_ptr<Timed>> watched_;
  std::size_t compact_at_ = kFirstCompaction;
  static constexpr std::size_t kFirstCompaction = 256;
};

}  // namespace cds::detail
