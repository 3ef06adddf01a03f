// A downstream project: d/dx (x*y + x)^2 at x=2, y=3 is 64.
#include <tapeless/tapeless.hpp>

int main() {
  tapeless::Scalar<double> x{2.0}, y{3.0};
  auto g = tapeless::grad(tapeless::square(x * y + x), x, y);
  return g[x](0, 0) == 64.0 && g[y](0, 0) == 32.0 ? 0 : 1;
}
