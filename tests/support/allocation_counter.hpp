// Counts heap allocations: replaces the global operator new/delete (include this header in one
// translation unit per test executable) and switches Eigen's own guard on while counting
// (define EIGEN_RUNTIME_NO_MALLOC before any Eigen header).
#pragma once

#ifndef EIGEN_RUNTIME_NO_MALLOC
#error "define EIGEN_RUNTIME_NO_MALLOC before including Eigen, so that Eigen's allocations are checked too"
#endif

#include <Eigen/Core>

#include <atomic>
#include <cstdlib>
#include <new>

namespace test {
inline std::atomic<long> allocations{0};

/// How many times operator new ran while `f` ran; Eigen asserts if it allocates meanwhile.
template <class F>
long allocations_during(F&& f) {
  const long before = allocations.load();
  Eigen::internal::set_is_malloc_allowed(false);
  f();
  Eigen::internal::set_is_malloc_allowed(true);
  return allocations.load() - before;
}
}  // namespace test

// The replaced operator new allocates with malloc, so its operator delete frees with free; GCC
// cannot see that the pair matches.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  ++test::allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++test::allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
