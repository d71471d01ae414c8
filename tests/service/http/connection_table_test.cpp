// The connection cap: the longest-idle connection makes room for a new one, busy ones never
// do, one address can be capped, and a drain closes the idle ones and refuses new ones.
#include "http/connections.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace cdstest {
namespace {

using cds::detail::ConnectionTable;

struct Opened {
  std::shared_ptr<ConnectionTable::Ticket> ticket;
  std::shared_ptr<int> closed = std::make_shared<int>(0);
};

Opened open(ConnectionTable& table, const std::string& ip) {
  Opened o{table.admit(ip)};
  if (o.ticket) o.ticket->set_closer([closed = o.closed] { ++*closed; });
  return o;
}

TEST(ConnectionTable, TheLongestIdleConnectionMakesRoomAndBusyOnesAreKept) {
  cds::ConnectionCounters counters;
  auto table = std::make_shared<ConnectionTable>(3, 0, counters);
  Opened a = open(*table, "10.0.0.1"), b = open(*table, "10.0.0.2"), c = open(*table, "10.0.0.3");
  ASSERT_TRUE(a.ticket && b.ticket && c.ticket);
  EXPECT_EQ(counters.open, 3u);
  EXPECT_EQ(counters.max, 3u);
  ASSERT_TRUE(a.ticket->busy());  // a request in progress: never chosen
  Opened d = open(*table, "10.0.0.4");
  ASSERT_TRUE(d.ticket);
  EXPECT_EQ(*a.closed, 0);
  EXPECT_EQ(*b.closed, 1);  // idle the longest
  EXPECT_EQ(*c.closed, 0);
  EXPECT_FALSE(b.ticket->busy());  // bytes that arrive after it was chosen do not save it
  EXPECT_EQ(counters.evicted, 1u);
  b.ticket.reset();  // its session ends
  EXPECT_EQ(counters.open, 3u);

  // Going idle again puts a connection at the back of the line.
  ASSERT_TRUE(c.ticket->busy());
  ASSERT_TRUE(c.ticket->idle());
  Opened e = open(*table, "10.0.0.5");
  ASSERT_TRUE(e.ticket);
  EXPECT_EQ(*d.closed, 1);
  EXPECT_EQ(*c.closed, 0);
}

TEST(ConnectionTable, WithNoIdleConnectionANewOneIsRefused) {
  cds::ConnectionCounters counters;
  auto table = std::make_shared<ConnectionTable>(2, 0, counters);
  Opened a = open(*table, "10.0.0.1"), b = open(*table, "10.0.0.2");
  ASSERT_TRUE(a.ticket->busy());
  ASSERT_TRUE(b.ticket->busy());
  EXPECT_EQ(table->busy(), 2u);
  EXPECT_EQ(table->admit("10.0.0.3"), nullptr);
  EXPECT_EQ(counters.refused, 1u);
  EXPECT_EQ(*a.closed + *b.closed, 0);
  a.ticket.reset();
  EXPECT_EQ(table->busy(), 1u);
  EXPECT_NE(open(*table, "10.0.0.3").ticket, nullptr);
}

TEST(ConnectionTable, OneAddressIsCappedOthersAreNot) {
  cds::ConnectionCounters counters;
  auto table = std::make_shared<ConnectionTable>(100, 2, counters);
  Opened a = open(*table, "10.0.0.1"), b = open(*table, "10.0.0.1");
  ASSERT_TRUE(a.ticket && b.ticket);
  EXPECT_EQ(table->admit("10.0.0.1"), nullptr);
  EXPECT_NE(open(*table, "10.0.0.2").ticket, nullptr);
  EXPECT_EQ(counters.refused, 1u);
  a.ticket.reset();  // a slot of that address is free again
  EXPECT_NE(open(*table, "10.0.0.1").ticket, nullptr);
}

TEST(ConnectionTable, DrainClosesIdleConnectionsAndLetsBusyOnesFinish) {
  cds::ConnectionCounters counters;
  auto table = std::make_shared<ConnectionTable>(10, 0, counters);
  Opened idle = open(*table, "10.0.0.1"), busy = open(*table, "10.0.0.2");
  ASSERT_TRUE(busy.ticket->busy());
  table->drain();
  EXPECT_EQ(*idle.closed, 1);
  EXPECT_EQ(*busy.closed, 0);
  EXPECT_EQ(table->busy(), 1u);
  EXPECT_FALSE(busy.ticket->idle());  // answered: the connection closes instead of waiting
  EXPECT_EQ(table->busy(), 0u);
  EXPECT_EQ(table->admit("10.0.0.3"), nullptr);
}

}  // namespace
}  // namespace cdstest
