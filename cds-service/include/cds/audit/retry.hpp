#pragma once
// How an audit writer rides out a store that cannot commit (a full disk, a read-only file, a
// lock held elsewhere, a database server that is away): it rolls the transaction back, keeps
// the records it holds, and tries them again after a pause that doubles from kFirstRetry up to
// kMaxRetry, so a fault costs a few attempts a second, never a busy loop. Each record waits at
// most kCommitPatience from its submission across those attempts; then its caller is told "not
// durable" (503) and the record is dropped, never written later. Backend-neutral: every
// AuditStore writer uses it the same way.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace cds {

class CommitRetry {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirstRetry{10};
  static constexpr std::chrono::milliseconds kMaxRetry{1000};
  // Less than an EHR's usual patience with a CDS service, long enough to outlast a brief lock.
  static constexpr std::chrono::milliseconds kCommitPatience{2000};

  // A commit failed now: when to try again.
  Clock::time_point failed(Clock::time_point now) {
    if (failures_++ == 0) first_failure_ = now;
    delay_ = delay_.count() == 0 ? kFirstRetry : std::min(delay_ * 2, kMaxRetry);
    return now + delay_;
  }
  // A commit succeeded: the next failure starts the pauses over.
  void succeeded() {
    failures_ = 0;
    delay_ = {};
  }
  bool failing() const noexcept { return failures_ > 0; }
  std::uint64_t failures() const noexcept { return failures_; }
  Clock::time_point first_failure() const noexcept { return first_failure_; }
  std::chrono::milliseconds delay() const noexcept { return delay_; }

 private:
  std::uint64_t failures_ = 0;
  std::chrono::milliseconds delay_{};
  Clock::time_point first_failure_{};
};

}  // namespace cds
