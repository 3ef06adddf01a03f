// The reference notes' computational graph (003): apples 100 x 2 and oranges 150 x 3, tax 1.1.
#include <iostream>
#include <tapeless/tapeless.hpp>

int main() {
  using namespace tapeless;
  Scalar<double> apple{100}, apple_num{2}, orange{150}, orange_num{3}, tax{1.1};
  auto price = (apple * apple_num + orange * orange_num) * tax;
  auto g = grad(price, apple, apple_num, orange, orange_num, tax);
  std::cout << "price " << g.scalar() << "\ndapple " << g[apple](0, 0) << "\ndapple_num " << g[apple_num](0, 0)
            << "\ndorange " << g[orange](0, 0) << "\ndorange_num " << g[orange_num](0, 0) << "\ndtax " << g[tax](0, 0)
            << '\n';
}
