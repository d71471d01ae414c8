#include "http/connections.hpp"

#include <vector>

namespace cds::detail {

// Tickets are locked from their weak references inside the mutex but always let go outside it:
// the last reference's destructor takes the mutex (release).

std::shared_ptr<ConnectionTable::Ticket> ConnectionTable::admit(const std::string& ip) {
  std::shared_ptr<Ticket> victim, ticket;
  {
    std::lock_guard lock(mutex_);
    const std::size_t open = open_.load(std::memory_order_relaxed);
    if (draining_.load(std::memory_order_relaxed) || (max_per_ip_ != 0 && per_ip_[ip] >= max_per_ip_) ||
        (open >= max_ && (idle_.empty() || open >= max_ + kClosingMargin))) {
      counters_.refused.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    if (open >= max_) {
      Idle& oldest = idle_.front();
      oldest.raw->idle_ = false;
      oldest.raw->closing_ = true;
      victim = oldest.ticket.lock();  // null: it is closing by itself and frees its slot
      idle_.pop_front();
      counters_.evicted.fetch_add(1, std::memory_order_relaxed);
    }
    ticket = std::make_shared<Ticket>(shared_from_this(), ip);
    ++per_ip_[ip];
    open_.fetch_add(1, std::memory_order_relaxed);
    counters_.open.fetch_add(1, std::memory_order_relaxed);
    ticket->idle_ = true;
    ticket->position_ = idle_.insert(idle_.end(), Idle{ticket, ticket.get()});
  }
  if (victim && victim->closer_) victim->closer_();  // posts to the victim's own thread
  return ticket;
}

bool ConnectionTable::set_idle(Ticket& t, bool idle) {
  std::lock_guard lock(mutex_);
  if (t.closing_) return false;
  if (idle && draining_.load(std::memory_order_relaxed)) t.closing_ = true;  // answered: now close
  const bool want_idle = idle && !t.closing_;
  if (t.idle_ && !want_idle) idle_.erase(t.position_);
  // An idle connection goes to the back: the front is the one that has waited longest.
  if (!t.idle_ && want_idle) t.position_ = idle_.insert(idle_.end(), Idle{t.weak_from_this(), &t});
  t.idle_ = want_idle;
  const bool want_busy = !idle && !t.closing_;
  if (t.counted_busy_ != want_busy) {
    if (want_busy) busy_.fetch_add(1, std::memory_order_relaxed);
    else busy_.fetch_sub(1, std::memory_order_relaxed);
    t.counted_busy_ = want_busy;
  }
  return !t.closing_;
}

void ConnectionTable::release(Ticket& t) {
  std::lock_guard lock(mutex_);
  if (t.idle_) idle_.erase(t.position_);
  if (t.counted_busy_) busy_.fetch_sub(1, std::memory_order_relaxed);
  if (auto it = per_ip_.find(t.ip_); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  open_.fetch_sub(1, std::memory_order_relaxed);
  counters_.open.fetch_sub(1, std::memory_order_relaxed);
}

void ConnectionTable::drain() {
  std::vector<std::shared_ptr<Ticket>> idle;
  {
    std::lock_guard lock(mutex_);
    draining_.store(true, std::memory_order_relaxed);
    for (auto& i : idle_) {
      i.raw->idle_ = false;
      i.raw->closing_ = true;
      if (auto t = i.ticket.lock()) idle.push_back(std::move(t));
    }
    idle_.clear();
  }
  for (auto& t : idle)
    if (t->closer_) t->closer_();
}

}  // namespace cds::detail
