// The README's example: an expression and its gradient. Built in CI.
#include <iostream>
#include <tapeless/tapeless.hpp>

int main() {
  using namespace tapeless;
  Scalar<double> x{2.0}, y{3.0};              // leaves: the expression refers to them
  auto w = x * y + x;                         // a typed expression tree, no tape
  auto loss = square(w);                      // 64
  auto g = grad(loss, x, y);                  // forward + backward, generated at compile time
  std::cout << "loss " << g.scalar()          // 64
            << " dx " << g[x](0, 0)           // 64: x's two paths are summed
            << " dy " << g[y](0, 0) << '\n';  // 32
  x = Eigen::Matrix<double, 1, 1>(1.0);       // change a leaf, run again: no allocation
  g.run();
  std::cout << "loss " << g.scalar() << " dx " << g[x](0, 0) << '\n';  // 16 32
}
