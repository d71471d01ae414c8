// Connection time-outs by sweep: a connection is timed out once, never before its deadline and
// within about one sweep interval after it; one with no deadline (answering) never is; closed
// connections drop out of the sweep.
#include "http/deadlines.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace cdstest {
namespace {

using namespace std::chrono_literals;
using cds::detail::Deadlines;
using cds::detail::Timed;
using Clock = std::chrono::steady_clock;

struct FakeConnection : Timed {
  std::vector<Clock::time_point> timed_out_at;
  void time_out() override { timed_out_at.push_back(Clock::now()); }
};

// Runs `ioc` for `how_long` (bounded), with the sweeper started on it.
void run_for(boost::asio::io_context& ioc, Clock::duration how_long) {
  ioc.run_for(how_long);
  ioc.restart();
}

TEST(Deadlines, AConnectionIsTimedOutOnceAfterItsDeadlineAndNotBefore) {
  boost::asio::io_context ioc(1);
  cds::ConnectionCounters counters;
  auto deadlines = std::make_shared<Deadlines>(ioc, 10ms, counters);
  auto late = std::make_shared<FakeConnection>();
  auto answering = std::make_shared<FakeConnection>();
  auto patient = std::make_shared<FakeConnection>();
  deadlines->watch(late);
  deadlines->watch(answering);
  deadlines->watch(patient);
  const auto start = Clock::now();
  late->deadline_in(100ms);
  answering->deadline_in(50ms);
  answering->no_deadline();  // the request was read: the service answers in its own time
  patient->deadline_in(10s);
  deadlines->start();
  run_for(ioc, 400ms);

  ASSERT_EQ(late->timed_out_at.size(), 1u) << "timed out once, however many sweeps pass after";
  EXPECT_GE(late->timed_out_at[0] - start, 100ms);
  EXPECT_LT(late->timed_out_at[0] - start, 300ms);
  EXPECT_TRUE(answering->timed_out_at.empty());
  EXPECT_TRUE(patient->timed_out_at.empty());
  EXPECT_EQ(counters.timed_out.load(), 1u);
}

TEST(Deadlines, ClosedConnectionsDropOutAndALaterStepGetsItsOwnDeadline) {
  boost::asio::io_context ioc(1);
  cds::ConnectionCounters counters;
  auto deadlines = std::make_shared<Deadlines>(ioc, 10ms, counters);
  auto gone = std::make_shared<FakeConnection>();
  auto kept = std::make_shared<FakeConnection>();
  deadlines->watch(gone);
  deadlines->watch(kept);
  gone->deadline_in(0ms);
  std::weak_ptr<FakeConnection> gone_weak = gone;
  gone.reset();  // closed before the sweep: nothing to time out, and nothing kept alive
  kept->deadline_in(20ms);
  deadlines->start();
  run_for(ioc, 100ms);
  EXPECT_TRUE(gone_weak.expired());
  ASSERT_EQ(kept->timed_out_at.size(), 1u);
  // The connection's next step (say, the next request on a kept-alive connection) is timed anew.
  kept->deadline_in(20ms);
  run_for(ioc, 100ms);
  EXPECT_EQ(kept->timed_out_at.size(), 2u);
  EXPECT_EQ(counters.timed_out.load(), 2u);
}

TEST(Deadlines, ConnectionsThatComeAndGoBetweenSweepsDoNotPileUp) {
  boost::asio::io_context ioc(1);
  cds::ConnectionCounters counters;
  Deadlines deadlines(ioc, 1000ms, counters);  // never started: no sweep runs
  auto open = std::make_shared<FakeConnection>();
  deadlines.watch(open);
  for (int i = 0; i < 100'000; ++i) {
    auto brief = std::make_shared<FakeConnection>();
    deadlines.watch(brief);  // closed at once, as a flood of short connections would be
  }
  EXPECT_LE(deadlines.watched(), 512u);
  EXPECT_TRUE(open->timed_out_at.empty());
}

TEST(Deadlines, TheSweepIntervalIsATenthOfTheShortestTimeoutWithinBounds) {
  EXPECT_EQ(Deadlines::interval_for(10'000ms), 1000ms);
  EXPECT_EQ(Deadlines::interval_for(60'000ms), 1000ms);
  EXPECT_EQ(Deadlines::interval_for(300ms), 30ms);
  EXPECT_EQ(Deadlines::interval_for(20ms), 10ms);
}

}  // namespace
}  // namespace cdstest
