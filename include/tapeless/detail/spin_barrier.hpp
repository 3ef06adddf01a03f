/// @file
/// @brief `spin_barrier`: a reusable barrier for a fixed group of threads that spins for a short
/// while before it sleeps.
///
/// `ParallelTrainer` meets at a barrier four times a step, and at batch 64 a thread's wait there
/// is a few microseconds. libstdc++'s `std::barrier` spins only a few iterations before it
/// sleeps in the kernel (a futex), and waking a sleeping thread costs microseconds more, on a
/// virtual machine most of all: the four meetings took about 10% of a 784-256-10 step split over
/// two threads (bench/analysis.md, stop 34). This barrier spins for up to `spin_limit` (checking
/// the clock every 64 polls, a pause instruction between polls), then waits on the atomic
/// (`std::atomic::wait`, the standard's futex), so a thread that waits long still sleeps.
///
/// - `arrive_and_wait()`: arrives, and returns once every thread of the group has arrived in
///   this phase.
/// - `arrive_and_drop()`: arrives, and leaves the group from the next phase on.
#pragma once

#include <atomic>
#include <chrono>

namespace tapeless::detail {

class spin_barrier {
 public:
  /// How long a waiting thread polls before it sleeps.
  static constexpr std::chrono::microseconds spin_limit{100};

  explicit spin_barrier(int count) noexcept : expected_(count), left_(count) {}
  spin_barrier(const spin_barrier&) = delete;
  spin_barrier& operator=(const spin_barrier&) = delete;

  void arrive_and_wait() noexcept {
    const unsigned phase = phase_.load(std::memory_order_acquire);  // cannot move on before this thread arrives
    if (!arrive()) wait(phase);
  }
  void arrive_and_drop() noexcept {
    expected_.fetch_sub(1, std::memory_order_relaxed);  // seen by the last arrival: left_'s read-modify-writes
    (void)arrive();
  }

 private:
  /// Counts this thread in; true if it was the last, which opens the next phase.
  bool arrive() noexcept {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) != 1) return false;
    left_.store(expected_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    phase_.fetch_add(1, std::memory_order_release);  // publishes left_'s reset with the new phase
    phase_.notify_all();
    return true;
  }
  void wait(unsigned phase) const noexcept {
    const auto start = std::chrono::steady_clock::now();
    for (unsigned polls = 1;; ++polls) {
      if (phase_.load(std::memory_order_acquire) != phase) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (polls % 64 == 0 && std::chrono::steady_clock::now() - start > spin_limit) break;
    }
    while (phase_.load(std::memory_order_acquire) == phase) phase_.wait(phase, std::memory_order_acquire);
  }

  std::atomic<int> expected_;
  std::atomic<int> left_;
  std::atomic<unsigned> phase_{0};
};

}  // namespace tapeless::detail
