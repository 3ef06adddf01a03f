// Every op's value and gradients against PyTorch autograd, from committed fixtures
// (fixtures/ops_torch.txt, made by fixtures/make_ops_torch.py): in float64 (relative 1e-10) and
// in float32 against PyTorch's float32 (relative 1e-5), each with fixed shapes and again with the
// batch (row) dimension known only at run time.
#define BOOST_TEST_MODULE ops_torch_fixtures
#include "tapeless/tapeless.hpp"

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <ratio>
#include <sstream>
#include <string>
#include <type_traits>

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

/// A test configuration: the scalar type, and whether batch dimensions are known only at run time.
template <class S, bool RuntimeBatch>
struct config {
  using scalar = S;
  /// A tensor of R x C, or of a run-time number of rows x C (its rows are the fixture's).
  template <int R, int C>
  using tensor = Tensor<S, RuntimeBatch ? dynamic : R, C>;
  static constexpr double tolerance = std::is_same_v<S, double> ? 1e-10 : 1e-5;
  /// The fixture case of this scalar type.
  static std::string name(const std::string& base) { return std::is_same_v<S, double> ? base : base + ".f32"; }
};
using configs =
    boost::mpl::list<config<double, false>, config<double, true>, config<float, false>, config<float, true>>;

template <class G>
bool close(const G& a, const Eigen::MatrixXd& b, double tolerance) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.template cast<double>() - b).norm() <= tolerance * (1.0 + b.norm());
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
  using S = typename P::scalar_type;
  const double tolerance = std::is_same_v<S, double> ? 1e-10 : 1e-5;
  BOOST_TEST_CONTEXT(name) {
    BOOST_TEST(std::abs(static_cast<double>(program.scalar()) - c.loss) <= tolerance * (1.0 + std::abs(c.loss)));
    BOOST_TEST(sizeof...(G) == c.grads.size());
    (
        [&](const char* key, const auto& value) {
          BOOST_TEST(close(value, c.grads.at(key), tolerance), key << ": " << value << "\nvs\n" << c.grads.at(key));
        }(grads.first, grads.second),
        ...);
  }
}

template <class G>
std::pair<const char*, const G&> d(const char* key, const G& g) {
  return {key, g};
}

}  // namespace

// Each case runs in every configuration: float64 and float32, fixed and run-time batch (the
// row count of tensors that have rows; 1 x n biases and 1 x 1 scalars stay fixed).
BOOST_AUTO_TEST_CASE_TEMPLATE(elementwise_binary, C, configs) {
  using S = typename C::scalar;
  typename C::template tensor<3, 4> a, b, w;
  Scalar<S> s;
  auto binary = [&](const std::string& base, auto f) {
    const std::string name = C::name(base);
    load(name, in("a", a), in("b", b), in("w", w));
    auto g = grad(sum(f(a, b) * input(w)), a, b);
    expect(name, g, d("a", g[a]), d("b", g[b]));
  };
  binary("add", [](auto& x, auto& y) { return x + y; });
  binary("sub", [](auto& x, auto& y) { return x - y; });
  binary("mul", [](auto& x, auto& y) { return x * y; });
  binary("div", [](auto& x, auto& y) { return x / y; });
  load(C::name("add_scalar"), in("a", a), in("s", s), in("w", w));
  auto g1 = grad(sum((a + s) * input(w)), a, s);
  expect(C::name("add_scalar"), g1, d("a", g1[a]), d("s", g1[s]));
  load(C::name("mul_scalar"), in("s", s), in("a", a), in("w", w));
  auto g2 = grad(sum(s * a * input(w)), s, a);
  expect(C::name("mul_scalar"), g2, d("s", g2[s]), d("a", g2[a]));
  load(C::name("neg"), in("a", a), in("w", w));
  auto g3 = grad(sum(-a * input(w)), a);
  expect(C::name("neg"), g3, d("a", g3[a]));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(linear_algebra, C, configs) {
  using S = typename C::scalar;
  typename C::template tensor<3, 4> a, x, w34;
  typename C::template tensor<3, 5> w35;
  Tensor<S, 4, 5> b, w1;
  Tensor<S, 1, 4> b4;
  Tensor<S, 1, 5> b5;
  load(C::name("matmul"), in("a", a), in("b", b), in("w", w35));
  auto g1 = grad(sum(matmul(a, b) * input(w35)), a, b);
  expect(C::name("matmul"), g1, d("a", g1[a]), d("b", g1[b]));
  load(C::name("bias_add"), in("x", x), in("b", b4), in("w", w34));
  auto g2 = grad(sum(bias_add(x, b4) * input(w34)), x, b4);
  expect(C::name("bias_add"), g2, d("x", g2[x]), d("b", g2[b4]));
  load(C::name("affine"), in("x", x), in("w1", w1), in("b", b5), in("w", w35));
  auto g3 = grad(sum(affine(x, w1, b5) * input(w35)), x, w1, b5);
  expect(C::name("affine"), g3, d("x", g3[x]), d("w1", g3[w1]), d("b", g3[b5]));
  Tensor<S, 3, 4> fixed;  // transpose needs a fixed row count: its rows become columns
  Tensor<S, 4, 3> w43;
  load(C::name("transpose"), in("a", fixed), in("w", w43));
  auto g4 = grad(sum(transpose(fixed) * input(w43)), fixed);
  expect(C::name("transpose"), g4, d("a", g4[fixed]));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(elementwise_functions, C, configs) {
  typename C::template tensor<3, 4> a, w;
  auto check = [&](const std::string& base, auto f) {
    const std::string name = C::name(base);
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
  check("leaky_relu", [](auto& x) { return leaky_relu(x); });
  check("leaky_relu_1_5", [](auto& x) { return leaky_relu<std::ratio<1, 5>>(x); });
  check("elu", [](auto& x) { return elu(x); });
  check("gelu", [](auto& x) { return gelu(x); });
  check("silu", [](auto& x) { return silu(x); });
  check("softmax", [](auto& x) { return softmax(x); });
  check("log_softmax", [](auto& x) { return log_softmax(x); });
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reductions_and_losses, C, configs) {
  typename C::template tensor<3, 4> a, p, t;
  load(C::name("sum"), in("a", a));
  auto g1 = grad(sum(a) * sum(a), a);
  expect(C::name("sum"), g1, d("a", g1[a]));
  load(C::name("mean"), in("a", a));
  auto g2 = grad(mean(a * a), a);
  expect(C::name("mean"), g2, d("a", g2[a]));
  typename C::template tensor<4, 5> z, probabilities;
  Tensor<int, std::remove_cvref_t<decltype(z)>::rows_at_compile_time, 1> labels;
  load(C::name("softmax_cross_entropy_index"), in("z", z), in("labels", labels));
  auto g3 = grad(softmax_cross_entropy(z, labels), z);
  expect(C::name("softmax_cross_entropy_index"), g3, d("z", g3[z]));
  load(C::name("softmax_cross_entropy_probabilities"), in("z", z), in("t", probabilities));
  auto g4 = grad(softmax_cross_entropy(z, input(probabilities)), z);
  expect(C::name("softmax_cross_entropy_probabilities"), g4, d("z", g4[z]));
  load(C::name("mse"), in("p", p), in("t", t));
  auto g5 = grad(mse(p, t), p, t);
  expect(C::name("mse"), g5, d("p", g5[p]), d("t", g5[t]));
}
