// network/network.hpp: contiguous buffers, seeded initialisation (same on every machine), copies.
#define BOOST_TEST_MODULE network_network
#include "tapeless/network/network.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/trainer.hpp"
#include "tapeless/optim/sgd.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <type_traits>

using namespace tapeless;
using Mlp = Sequential<Linear<64, 32>, ReLU, Linear<32, 10>>;

BOOST_AUTO_TEST_CASE(rng_is_the_standard_mersenne_twister_with_portable_conversions) {
  // The standard fixes mt19937_64's 10000th output for the default seed: the engine is portable.
  std::mt19937_64 reference;
  reference.discard(9999);
  BOOST_TEST(reference() == 9981545732273789042ull);
  // Known values, computed independently of this library: a from-the-paper mt19937_64 in Python
  // (checked against the standard's value above), 53-bit uniforms, Box-Muller.
  Rng rng(7);
  BOOST_TEST(rng.uniform() == 0.754385304152858);
  BOOST_TEST(rng.normal() == 0.23870757976144003, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(rng.normal() == 0.21697228689831372, boost::test_tools::tolerance(1e-14));  // the spare
}

BOOST_AUTO_TEST_CASE(same_seed_same_weights_other_seed_other_weights) {
  Network<Mlp> a(42), b(42), c(43);
  BOOST_TEST((a.values() == b.values()));
  BOOST_TEST(!(a.values() == c.values()));
}

BOOST_AUTO_TEST_CASE(he_and_xavier_have_their_scales) {
  Network<Sequential<Linear<400, 300>>, double> he(1, Init::he), xavier(1, Init::xavier);
  const auto w_he = he.parameter("0.weight");
  const double sd = std::sqrt(w_he.array().square().mean());
  BOOST_TEST(sd == std::sqrt(2.0 / 400), boost::test_tools::tolerance(0.01));
  BOOST_TEST(std::abs(w_he.mean()) < 0.002);
  const auto w_x = xavier.parameter("0.weight");
  const double bound = std::sqrt(6.0 / 700);
  BOOST_TEST(w_x.maxCoeff() <= bound);
  BOOST_TEST(w_x.minCoeff() >= -bound);
  BOOST_TEST(w_x.maxCoeff() > 0.99 * bound);
  BOOST_TEST(he.parameter("0.bias").isZero());
}

BOOST_AUTO_TEST_CASE(copies_are_deep_and_views_follow_their_own_buffers) {
  Network<Mlp> a(1);
  Network<Mlp> b = a;
  BOOST_TEST((a.values() == b.values()));
  b.values().setZero();
  BOOST_TEST(!a.values().isZero());
  BOOST_TEST(b.params().layer<0>().weight.value().isZero());  // b's views see b's buffer
  BOOST_TEST(a.params().layer<0>().weight.value().data() == a.values().data());
  Network<Mlp> c = std::move(a);  // a move keeps the views valid: the buffers do not move
  BOOST_TEST(c.params().layer<0>().weight.value().data() == c.values().data());
}

BOOST_AUTO_TEST_CASE(a_moved_from_network_can_be_assigned_again) {
  // Moved from, a network is empty (no buffers, no parameters); assigning to it, by copy or by
  // move, makes it a whole network again. Copying from it throws instead of reading null.
  Network<Mlp> a(1), b(2);
  Network<Mlp> c = std::move(a);
  BOOST_TEST(a.empty());
  BOOST_TEST(a.parameters().empty());
  BOOST_CHECK_THROW(Network<Mlp>{a}, std::logic_error);
  a = b;
  BOOST_TEST(!a.empty());
  BOOST_TEST((a.values() == b.values()));
  BOOST_TEST(a.parameters().size() == 4u);
  BOOST_TEST(a.params().layer<0>().weight.value().data() == a.values().data());
  BOOST_TEST((a.parameter("2.bias") == b.parameter("2.bias")));
  Network<Mlp> d = std::move(c);
  c = std::move(d);
  BOOST_TEST(!c.empty());
  BOOST_TEST(d.empty());
  d = c;
  BOOST_TEST((d.values() == c.values()));
  Network<Mlp> e = std::move(d);
  const Network<Mlp>::vector_type before = b.values();
  BOOST_CHECK_THROW(b = d, std::logic_error);  // copying from an empty network: b keeps its weights
  BOOST_TEST((b.values() == before));
  b = std::move(d);  // moving one in empties b too
  BOOST_TEST(b.empty());
}

BOOST_AUTO_TEST_CASE(parameters_by_name_and_index_are_views) {
  Network<Mlp> net(2);
  net.parameter("2.bias").setConstant(3.f);
  BOOST_TEST(net.values().tail(10).isConstant(3.f));
  BOOST_TEST((net.parameter(std::size_t{3}) == net.parameter("2.bias")));
  BOOST_CHECK_THROW(net.parameter(std::size_t{4}), std::out_of_range);
  // gradients by index too, and read-only views of both on a const network
  net.gradient(std::size_t{1}).setConstant(2.f);
  BOOST_TEST((net.gradient(std::size_t{1}) == net.gradient("0.bias")));
  BOOST_TEST(net.gradients().segment(net.parameters()[1].offset, net.parameters()[1].cols).isConstant(2.f));
  BOOST_CHECK_THROW(net.gradient(std::size_t{4}), std::out_of_range);
  const Network<Mlp>& view = net;
  static_assert(!std::is_lvalue_reference_v<decltype(view.parameter("2.bias")(0, 0))>);  // read-only
  BOOST_TEST((view.parameter("2.bias") == net.parameter("2.bias")));
  BOOST_TEST((view.parameter(std::size_t{3}) == net.parameter("2.bias")));
  BOOST_TEST((view.gradient("0.bias") == net.gradient("0.bias")));
  BOOST_TEST((view.gradient(std::size_t{1}) == net.gradient("0.bias")));
  BOOST_CHECK_THROW(view.gradient("9.bias"), std::out_of_range);
}

namespace {
// Whether a shape_error's message holds every one of `parts`.
auto says(std::initializer_list<std::string> parts) {
  return [parts](const std::exception& e) {
    const std::string what = e.what();
    for (const auto& p : parts)
      if (what.find(p) == std::string::npos) return false;
    return true;
  };
}
}  // namespace

// A parameter's view checks what is assigned to it: a wrong shape used to write past the
// parameter (or truncate) in a Release build.
BOOST_AUTO_TEST_CASE(a_wrong_shaped_assignment_to_a_parameter_throws_and_changes_nothing) {
  Network<Sequential<Linear<3, 4>, ReLU, Linear<4, 2>>, double> net(1);
  const Eigen::VectorXd values = net.values(), gradients = net.gradients();
  BOOST_CHECK_EXCEPTION(net.parameter("0.weight") = Eigen::MatrixXd::Ones(4, 3), shape_error,
                        says({"'0.weight'", "3x4", "4x3"}));
  BOOST_CHECK_EXCEPTION(net.parameter(3) += Eigen::MatrixXd::Ones(2, 2), shape_error, says({"'2.bias'", "1x2", "2x2"}));
  BOOST_CHECK_EXCEPTION(net.gradient("2.weight") -= Eigen::MatrixXd::Ones(2, 4), shape_error,
                        says({"'2.weight'", "4x2", "2x4"}));
  BOOST_CHECK_THROW(net.parameter("0.bias") = net.parameter("0.weight"), shape_error);
  BOOST_TEST((net.values() == values));
  BOOST_TEST((net.gradients() == gradients));
  net.parameter("0.weight") = Eigen::MatrixXd::Ones(3, 4);  // the right shape assigns
  net.parameter("0.bias") += Eigen::MatrixXd::Ones(1, 4);
  BOOST_TEST(net.parameter("0.weight").sum() == 12);
  BOOST_TEST(net.parameter("0.bias").sum() == values.segment(12, 4).sum() + 4, boost::test_tools::tolerance(1e-12));
}

// A fixed-batch input resized through its raw value() (the Eigen matrix, unchecked) is refused
// by the program before it computes anything: it used to read past the matrix (ASan:
// heap-buffer-overflow in the first product). Assigning the tensor itself checks at once.
BOOST_AUTO_TEST_CASE(an_input_resized_through_its_value_is_refused_before_any_computation) {
  using Net = Network<Sequential<Linear<20, 20>, ReLU, Linear<20, 3>>, float>;  // 32x20 inputs: heap storage
  Net net(1);
  Trainer<Net, SoftmaxCrossEntropy<>, 32> trainer(net);
  Sgd<float> sgd(net, {0.01});
  const Eigen::VectorXf before = net.values();
  trainer.inputs().value() = Eigen::MatrixXf::Random(10, 20);
  BOOST_CHECK_EXCEPTION(trainer.step(sgd), shape_error, says({"32x20", "10x20"}));
  BOOST_CHECK_EXCEPTION(trainer.infer(), shape_error, says({"32x20", "10x20"}));
  BOOST_TEST((net.values() == before));
  BOOST_CHECK_EXCEPTION(trainer.inputs() = Eigen::MatrixXf::Random(10, 20), shape_error, says({"10x20", "32x20"}));
  trainer.inputs() = Eigen::MatrixXf::Random(32, 20);
  BOOST_TEST(trainer.step(sgd).ok());
  BOOST_TEST((net.values() != before));
}

BOOST_AUTO_TEST_CASE(a_network_from_given_weights_in_either_layout) {
  using Dbl = Network<Mlp, double>;
  Dbl drawn(4);
  std::map<std::string, Eigen::MatrixXd> ours, torch;
  for (const ParameterInfo& p : drawn.parameters()) {
    const Eigen::MatrixXd m = drawn.parameter(p.name);
    ours[p.name] = m;
    torch[p.name] = m.transpose();  // PyTorch: a weight [out, in], a bias a vector (a column here)
  }
  BOOST_TEST((Dbl::from_parameters(ours).values() == drawn.values()));
  BOOST_TEST((Dbl::from_parameters(torch, Layout::pytorch).values() == drawn.values()));
  std::map<std::string, Eigen::MatrixXf> as_float;  // another scalar type converts
  for (const auto& [name, m] : ours) as_float[name] = m.cast<float>();
  BOOST_TEST((Network<Mlp, float>::from_parameters(as_float).values() == drawn.values().cast<float>()));
  // refusals, each before anything is built
  auto renamed = ours;
  renamed["fc.bias"] = renamed.at("2.bias");
  renamed.erase("2.bias");
  BOOST_CHECK_EXCEPTION(Dbl::from_parameters(renamed), std::invalid_argument,
                        says({"missing '2.bias'", "unexpected 'fc.bias'"}));
  BOOST_CHECK_EXCEPTION(Dbl::from_parameters(torch), shape_error,  // PyTorch's, read as ours
                        says({"'0.weight' is 32x64, expected 64x32"}));
  BOOST_CHECK_EXCEPTION(Dbl::from_parameters(ours, Layout::pytorch), shape_error,
                        says({"'0.weight' is 64x32, expected 32x64 (PyTorch's [out, in])"}));
  auto nan = ours;
  nan["2.weight"](3, 1) = std::nan("");
  BOOST_CHECK_EXCEPTION(Dbl::from_parameters(nan), std::invalid_argument, says({"'2.weight' has a non-finite value"}));
}
