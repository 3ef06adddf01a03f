// detail/spin_barrier.hpp: no thread leaves a phase before every thread of the group has arrived
// in it, phase after phase, whether the waits are short (spinning) or long (sleeping); a thread
// that drops out is no longer waited for. tests/CMakeLists.txt runs this file under
// ThreadSanitizer too.
#define BOOST_TEST_MODULE detail_spin_barrier
#include "tapeless/detail/spin_barrier.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using tapeless::detail::spin_barrier;

namespace {
/// `threads` threads meet `phases` times; before each meeting thread t counts itself in, after
/// it every thread must see all counted. `slow` makes one thread late by more than the spin
/// limit every seventh phase, so that the others sleep. Returns the meetings at which a thread
/// saw fewer.
int early_leaves(int threads, int phases, bool slow) {
  spin_barrier barrier(threads);
  std::atomic<int> arrived{0}, early{0};
  std::vector<int> plain(static_cast<std::size_t>(phases), 0);  // written before the barrier, read after
  auto run = [&](int t) {
    for (int p = 0; p < phases; ++p) {
      if (slow && t == threads - 1 && p % 7 == 0)
        std::this_thread::sleep_for(spin_barrier::spin_limit + std::chrono::microseconds(400));
      if (t == 0) plain[static_cast<std::size_t>(p)] = p + 1;
      arrived.fetch_add(1, std::memory_order_relaxed);
      barrier.arrive_and_wait();
      if (arrived.load(std::memory_order_relaxed) < (p + 1) * threads) early.fetch_add(1);
      if (plain[static_cast<std::size_t>(p)] != p + 1) early.fetch_add(1);  // the barrier orders plain memory
      barrier.arrive_and_wait();  // nobody counts the next phase in before all have checked this one
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
  return early.load();
}
}  // namespace

BOOST_AUTO_TEST_CASE(no_thread_leaves_a_phase_early_spinning) {
  BOOST_TEST(early_leaves(2, 5000, false) == 0);
  BOOST_TEST(early_leaves(4, 1000, false) == 0);  // more threads than cores: each meeting may wait for a slice
}

BOOST_AUTO_TEST_CASE(no_thread_leaves_a_phase_early_sleeping) { BOOST_TEST(early_leaves(3, 70, true) == 0); }

BOOST_AUTO_TEST_CASE(a_dropped_thread_is_not_waited_for) {
  spin_barrier barrier(3);
  std::atomic<int> passed{0};
  std::thread leaver([&] { barrier.arrive_and_drop(); });  // arrives in phase 0, then leaves
  std::thread stayer([&] {
    for (int p = 0; p < 100; ++p) {
      barrier.arrive_and_wait();
      passed.fetch_add(1);
    }
  });
  for (int p = 0; p < 100; ++p) barrier.arrive_and_wait();  // phases 1.. need two threads only
  stayer.join();
  leaver.join();
  BOOST_TEST(passed.load() == 100);
}

BOOST_AUTO_TEST_CASE(a_group_of_one_never_waits) {
  spin_barrier barrier(1);
  for (int p = 0; p < 1000; ++p) barrier.arrive_and_wait();
  BOOST_TEST(true);  // reaching here is the test: a wait would hang (ctest's timeout)
}
