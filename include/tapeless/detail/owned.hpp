/// @file
/// @brief `owned<T>`: the one heap object a Network, Trainer, Predictor, Product or stored
/// layer owns (its state behind a stable address), without `<memory>`.
///
/// `<memory>` brings shared_ptr, its atomics and the allocator machinery: about 4% of
/// `<Eigen/Core>`'s compile cost to every translation unit that includes tapeless, for the one
/// feature the library uses, a unique owner. This class is that owner and nothing more: moved,
/// never copied, the object deleted with it. (network/parallel_trainer.hpp and io/ still use
/// `<memory>`; they are not in tapeless.hpp.)
#pragma once

#include <cstddef>
#include <utility>

namespace tapeless::detail {

/// Owns at most one `T` made by `make_owned`; deletes it when destroyed or assigned over.
template <class T>
class owned {
 public:
  owned() noexcept = default;
  owned(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): as unique_ptr's
  owned(owned&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  owned& operator=(owned&& other) noexcept {
    owned(std::move(other)).swap(*this);
    return *this;
  }
  owned(const owned&) = delete;
  owned& operator=(const owned&) = delete;
  ~owned() {
    static_assert(sizeof(T) > 0, "tapeless::detail::owned: T must be complete where its owner is destroyed");
    delete p_;
  }

  T* get() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  T* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  void swap(owned& other) noexcept { std::swap(p_, other.p_); }

  template <class U, class... Args>
  friend owned<U> make_owned(Args&&... args);

 private:
  explicit owned(T* p) noexcept : p_(p) {}
  T* p_ = nullptr;
};

/// A new `T(args...)`, owned; if the constructor throws, nothing is leaked (the new-expression
/// frees the memory).
template <class T, class... Args>
owned<T> make_owned(Args&&... args) {
  return owned<T>(new T(std::forward<Args>(args)...));
}

}  // namespace tapeless::detail
