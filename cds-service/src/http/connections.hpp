#pragma once
// Every open connection, so that a flood of them cannot exhaust the process's file descriptors
// (then accept() fails, the audit cannot open its files and legitimate calls go unanswered).
// Connections beyond limits.max_connections are made room for by closing the one that has been
// idle longest (waiting for a TLS handshake or a request: what a flood of held-open connections
// does); when none is idle the new one is refused. limits.max_connections_per_ip caps one
// address. A connection holds a Ticket for its lifetime; the table is shared by the I/O threads.
#include "cds/http/connection_counters.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cds::detail {

class ConnectionTable : public std::enable_shared_from_this<ConnectionTable> {
 public:
  class Ticket;
  // Closes the connection; run on the connection's own executor (it posts itself there).
  using Closer = std::function<void()>;

  ConnectionTable(std::size_t max_connections, std::size_t max_per_ip, ConnectionCounters& counters)
      : max_(max_connections), max_per_ip_(max_per_ip), counters_(counters) {
    counters_.max.store(max_connections, std::memory_order_relaxed);
  }

  // Admits a new connection from `ip`, closing the longest-idle one when the table is full.
  // Null: refused (the caller closes the socket). The ticket starts idle (before any request).
  std::shared_ptr<Ticket> admit(const std::string& ip);

  std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::size_t busy() const noexcept { return busy_.load(std::memory_order_relaxed); }
  std::size_t max_connections() const noexcept { return max_; }
  ConnectionCounters& counters() noexcept { return counters_; }

  // Shutting down: idle connections are closed now and busy ones once their answer is written.
  void drain();
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

 private:
  friend class Ticket;
  // Connections being closed hold their descriptors until their own thread gets to them.
  static constexpr std::size_t kClosingMargin = 32;
  // `raw` stays usable under the mutex even when `ticket` has expired: a dying ticket's
  // destructor waits for the mutex (release) before it ends.
  struct Idle {
    std::weak_ptr<Ticket> ticket;
    Ticket* raw;
  };
  void release(Ticket& t);
  bool set_idle(Ticket& t, bool idle);

  const std::size_t max_;
  const std::size_t max_per_ip_;
  std::mutex mutex_;
  std::list<Idle> idle_;  // oldest idle first
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::atomic<std::size_t> open_{0}, busy_{0};
  std::atomic<bool> draining_{false};
  ConnectionCounters& counters_;
};

class ConnectionTable::Ticket : public std::enable_shared_from_this<Ticket> {
 public:
  Ticket(std::shared_ptr<ConnectionTable> table, std::string ip) : table_(std::move(table)), ip_(std::move(ip)) {}
  ~Ticket() { table_->release(*this); }
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;

  // The session says how to close it (before it first goes idle).
  void set_closer(Closer closer) { closer_ = std::move(closer); }
  // The connection waits for a request (true) or is busy with one (false). False: the
  // connection was closed to make room (or the service is draining) and must end now.
  bool idle() { return table_->set_idle(*this, true); }
  bool busy() { return table_->set_idle(*this, false); }

 private:
  friend class ConnectionTable;
  std::shared_ptr<ConnectionTable> table_;
  std::string ip_;
  Closer closer_;
  bool idle_ = false, closing_ = false, counted_busy_ = false;
  std::list<Idle>::iterator position_;  // in idle_ while idle_
};

}  // namespace cds::detail
