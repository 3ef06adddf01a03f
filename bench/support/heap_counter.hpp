/// @file
/// @brief Counts every heap allocation of the process, whoever makes it: operator new, Eigen's
/// aligned_malloc, and libtorch's CPU allocator (posix_memalign) all end in the malloc family,
/// which heap_counter.cpp replaces in the executable (glibc's __libc_* functions do the work).
#pragma once

#include <cstdint>

namespace bench::heap {

struct Count {
  std::int64_t allocations = 0;
  std::int64_t bytes = 0;
};

/// Allocations and bytes requested since the program started (all threads).
Count now() noexcept;

/// What `f` allocated.
template <class F>
Count during(F&& f) {
  const Count before = now();
  f();
  const Count after = now();
  return {after.allocations - before.allocations, after.bytes - before.bytes};
}

}  // namespace bench::heap
