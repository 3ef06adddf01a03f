// Every op's value and gradients against PyTorch autograd, from committed fixtures
// (fixtures/ops_torch.txt, made by fixtures/make_ops_torch.py): float64, relative 1e-10.
#define BOOST_TEST_MODULE ops_torch_fixtures
#include "tapeless/tapeless.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

using namespace tapeless;

namespace {

struct Case {
  std::map<std::string, Eigen::MatrixXd> inputs;
  std::map<std::string, Eigen::MatrixXd> grads;
  double loss = 0;
};

Eigen::MatrixXd read_matrix(std::istringstream& line) {
  Index rows = 0, cols = 0;
  line >> rows >> cols;
  Eigen::MatrixXd m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) line >> m(i, j);
  BOOST_REQUIRE_MESSAGE(!line.fail(), "fixture matrix truncated");
  return m;
}

const std::map<std::string, Case>& fixtures() {
  static const std::map<std::string, Case> all = [] {
    std::map<std::string, Case> cases;
    std::ifstream file(TAPELESS_FIXTURES "/ops_torch.txt");
    BOOST_REQUIRE_MESSAGE(file, "cannot open " TAPELESS_FIXTURES "/ops_torch.txt");
    std::string text, word, name;
    while (std::getline(file, text)) {
      std::istringstream line(text);
      line >> word;
      if (word == "case")
        line >> name;
      else if (word == "input")
        line >> word, cases[name].inputs[word] = read_matrix(line);
      else if (word == "grad")
        line >> word, cases[name].grads[word] = read_matrix(line);
      else if (word == "loss")
        line >> cases[name].loss;
    }
    return cases;
  }();
  return all;
}

bool close(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a - b).norm() <= 1e-10 * (1.0 + b.norm());
}

template <class T>
std::pair<const char*, T&> in(const char* key, T& t) {
  return {key, t};
}

// Loads a case's inputs into the tensors, by name.
template <class... T>
const Case& load(const std::string& name, std::pair<const char*, T&>... tensors) {
  const auto it = fixtures().find(name);
  BOOST_REQUIRE_MESSAGE(it != fixtures().end(), "no fixture " << name);
  ((tensors.second = it->second.inputs.at(tensors.first).template cast<typename T::scalar_type>()), ...);
  return it->second;
}

// Compares the loss and each named gradient with PyTorch's; every gradient of the case is checked.
template <class P, class... G>
void expect(const std::string& name, const P& program, std::pair<const char*, const G&>... grads) {
  const Case& c = fixtures().at(name);
  BOOST_TEST_CONTEXT(name) {
    BOOST_TEST(program.scalar() == c.loss, boost::test_tools::tolerance(1e-10));
    BOOST_TEST(sizeof...(G) == c.grads.size());
    (
        [&](const char* key, const auto& value) {
          BOOST_TEST(close(value, c.grads.at(key)), key << ": " << value << "\nvs\n" << c.grads.at(key));
        }(grads.first, grads.second),
        ...);
  }
}

template <class G>
std::pair<const char*, const G&> d(const char* key, const G& g) {
  return {key, g};
}

}  // namespace

BOOST_AUTO_TEST_CASE(elementwise_binary) {
  Tensor<double, 3, 4> a, b, w;
  Scalar<double> s;
  auto binary = [&](const std::string& name, auto f) {
    load(name, in("a", a), in("b", b), in("w", w));
    auto g = grad(sum(f(a, b) * input(w)), a, b);
    expect(name, g, d("a", g[a]), d("b", g[b]));
  };
  binary("add", [](auto& x, auto& y) { return x + y; });
  binary("sub", [](auto& x, auto& y) { return x - y; });
  binary("mul", [](auto& x, auto& y) { return x * y; });
  binary("div", [](auto& x, auto& y) { return x / y; });
  load("add_scalar", in("a", a), in("s", s), in("w", w));
  auto g1 = grad(sum((a + s) * input(w)), a, s);
  expect("add_scalar", g1, d("a", g1[a]), d("s", g1[s]));
  load("mul_scalar", in("s", s), in("a", a), in("w", w));
  auto g2 = grad(sum(s * a * input(w)), s, a);
  expect("mul_scalar", g2, d("s", g2[s]), d("a", g2[a]));
  load("neg", in("a", a), in("w", w));
  auto g3 = grad(sum(-a * input(w)), a);
  expect("neg", g3, d("a", g3[a]));
}

BOOST_AUTO_TEST_CASE(linear_algebra) {
  Tensor<double, 3, 4> a, x, w34;
  Tensor<double, 4, 5> b, w1;
  Tensor<double, 3, 5> w35;
  Tensor<double, 1, 4> b4;
  Tensor<double, 1, 5> b5;
  Tensor<double, 4, 3> w43;
  load("matmul", in("a", a), in("b", b), in("w", w35));
  auto g1 = grad(sum(matmul(a, b) * input(w35)), a, b);
  expect("matmul", g1, d("a", g1[a]), d("b", g1[b]));
  load("bias_add", in("x", x), in("b", b4), in("w", w34));
  auto g2 = grad(sum(bias_add(x, b4) * input(w34)), x, b4);
  expect("bias_add", g2, d("x", g2[x]), d("b", g2[b4]));
  load("affine", in("x", x), in("w1", w1), in("b", b5), in("w", w35));
  auto g3 = grad(sum(affine(x, w1, b5) * input(w35)), x, w1, b5);
  expect("affine", g3, d("x", g3[x]), d("w1", g3[w1]), d("b", g3[b5]));
  load("transpose", in("a", a), in("w", w43));
  auto g4 = grad(sum(transpose(a) * input(w43)), a);
  expect("transpose", g4, d("a", g4[a]));
}

BOOST_AUTO_TEST_CASE(elementwise_functions) {
  Tensor<double, 3, 4> a, w;
  auto check = [&](const std::string& name, auto f) {
    load(name, in("a", a), in("w", w));
    auto g = grad(sum(f(a) * input(w)), a);
    expect(name, g, d("a", g[a]));
  };
  check("exp", [](auto& x) { return exp(x); });
  check("log", [](auto& x) { return log(x); });
  check("square", [](auto& x) { return square(x); });
  check("pow", [](auto& x) { return pow(x, 1.5); });
  check("tanh", [](auto& x) { return tanh(x); });
  check("sigmoid", [](auto& x) { return sigmoid(x); });
  check("relu", [](auto& x) { return relu(x); });
  check("softmax", [](auto& x) { return softmax(x); });
  check("log_softmax", [](auto& x) { return log_softmax(x); });
}

BOOST_AUTO_TEST_CASE(reductions_and_losses) {
  Tensor<double, 3, 4> a, p, t;
  load("sum", in("a", a));
  auto g1 = grad(sum(a) * sum(a), a);
  expect("sum", g1, d("a", g1[a]));
  load("mean", in("a", a));
  auto g2 = grad(mean(a * a), a);
  expect("mean", g2, d("a", g2[a]));
  Tensor<double, 4, 5> z, probabilities;
  Tensor<int, 4, 1> labels;
  load("softmax_cross_entropy_index", in("z", z), in("labels", labels));
  auto g3 = grad(softmax_cross_entropy(z, labels), z);
  expect("softmax_cross_entropy_index", g3, d("z", g3[z]));
  load("softmax_cross_entropy_probabilities", in("z", z), in("t", probabilities));
  auto g4 = grad(softmax_cross_entropy(z, input(probabilities)), z);
  expect("softmax_cross_entropy_probabilities", g4, d("z", g4[z]));
  load("mse", in("p", p), in("t", t));
  auto g5 = grad(mse(p, t), p, t);
  expect("mse", g5, d("p", g5[p]), d("t", g5[t]));
}
