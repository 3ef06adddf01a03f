#define BOOST_TEST_MODULE detail_owned
// The umbrella header first: what it pulls in is checked below, before Boost.Test adds its own.
#include "tapeless/tapeless.hpp"

// libstdc++'s include guards, read before anything else is included.
#if defined(_GLIBCXX_MEMORY)
constexpr bool umbrella_includes_memory = true;
#else
constexpr bool umbrella_includes_memory = false;
#endif
#if defined(_GLIBCXX_CHARCONV)
constexpr bool umbrella_includes_charconv = true;
#else
constexpr bool umbrella_includes_charconv = false;
#endif

#include "tapeless/detail/owned.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <type_traits>
#include <utility>

using tapeless::detail::make_owned;
using tapeless::detail::owned;

namespace {
int alive = 0;  // Counted objects alive now

struct Counted {
  int value;
  explicit Counted(int v) : value(v) { ++alive; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() { --alive; }
};

struct Throws {
  Throws() { throw std::runtime_error("constructor"); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(the_umbrella_header_leaves_out_memory_and_charconv) {
  // bench/analysis.md (stop 29): <memory> cost about 4% and <charconv> 1.5% of <Eigen/Core>'s
  // compile time in every translation unit that includes tapeless.hpp.
#if defined(__GLIBCXX__)
  BOOST_TEST(!umbrella_includes_memory);
  BOOST_TEST(!umbrella_includes_charconv);
#else
  BOOST_TEST_MESSAGE("not libstdc++: the include-guard check does not apply");
#endif
}

BOOST_AUTO_TEST_CASE(an_owner_deletes_its_object_once_and_moves_it_without_copying) {
  static_assert(!std::is_copy_constructible_v<owned<Counted>> && !std::is_copy_assignable_v<owned<Counted>>);
  static_assert(std::is_nothrow_move_constructible_v<owned<Counted>> &&
                std::is_nothrow_move_assignable_v<owned<Counted>>);
  {
    owned<Counted> a = make_owned<Counted>(7);
    BOOST_TEST(alive == 1);
    BOOST_TEST(static_cast<bool>(a));
    BOOST_TEST(a->value == 7);
    BOOST_TEST((*a).value == 7);
    Counted* at = a.get();

    owned<Counted> b(std::move(a));  // the same object, now b's
    BOOST_TEST(alive == 1);
    BOOST_TEST(b.get() == at);
    BOOST_TEST(!a);  // NOLINT(bugprone-use-after-move): a moved-from owner is empty
    BOOST_TEST(a.get() == nullptr);

    owned<Counted> c = make_owned<Counted>(8);
    BOOST_TEST(alive == 2);
    c = std::move(b);  // c's old object is deleted, b's moves over
    BOOST_TEST(alive == 1);
    BOOST_TEST(c.get() == at);
    BOOST_TEST(c->value == 7);

    owned<Counted>& same = c;
    c = std::move(same);  // self-move keeps the object
    BOOST_TEST(alive == 1);
    BOOST_TEST(c.get() == at);

    c = nullptr;  // assigning empty deletes
    BOOST_TEST(alive == 0);
    BOOST_TEST(!c);
  }
  BOOST_TEST(alive == 0);
  {
    owned<Counted> empty;
    owned<Counted> null(nullptr);
    BOOST_TEST(!empty);
    BOOST_TEST(!null);
  }  // destroying empty owners deletes nothing
  {
    const owned<Counted> last = make_owned<Counted>(1);
    BOOST_TEST(alive == 1);
  }
  BOOST_TEST(alive == 0);  // the destructor deletes
}

BOOST_AUTO_TEST_CASE(a_constructor_that_throws_leaves_nothing_owned) {
  BOOST_CHECK_THROW(make_owned<Throws>(), std::runtime_error);  // ASan reports a leak if memory is kept
}
