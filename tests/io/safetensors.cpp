// io/safetensors.hpp: round trips, PyTorch parity from committed fixtures (made by
// fixtures/make_torch_mlp.py), and every kind of bad file with its exact error; neither the
// network in memory nor the file on disk changes on a failure.
#define BOOST_TEST_MODULE io_safetensors
#include "tapeless/io/safetensors.hpp"

#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"
#include "tapeless/losses/mse.hpp"
#include "tapeless/losses/softmax_cross_entropy.hpp"
#include "tapeless/network/trainer.hpp"

#include "support/hostile.hpp"
#include "support/scratch.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ratio>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <type_traits>
#include <unistd.h>

using namespace tapeless;
using Mlp = Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>;

namespace {
std::string scratch(const std::string& name) { return test::scratch_path("st_" + name); }
std::vector<unsigned char> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
// A raw file: 8-byte length, the header text as given, the data.
std::string raw_file(const std::string& name, const std::string& header, const std::vector<unsigned char>& data,
                     std::uint64_t length = ~0ull) {
  const std::string path = scratch(name);
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t n = length == ~0ull ? header.size() : length;
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return path;
}
// A header for Mlp's four tensors in F32, each entry overridable.
std::string mlp_header(const std::map<std::string, std::string>& replace = {}) {
  std::map<std::string, std::string> e = {{"0.weight", R"({"dtype":"F32","shape":[8,4],"data_offsets":[0,128]})"},
                                          {"0.bias", R"({"dtype":"F32","shape":[8],"data_offsets":[128,160]})"},
                                          {"2.weight", R"({"dtype":"F32","shape":[3,8],"data_offsets":[160,256]})"},
                                          {"2.bias", R"({"dtype":"F32","shape":[3],"data_offsets":[256,268]})"}};
  for (const auto& [k, v] : replace) e[k] = v;
  std::string h = "{";
  for (const auto& [k, v] : e)
    if (!v.empty()) h += (h.size() > 1 ? "," : "") + ("\"" + k + "\":" + v);
  return h + "}";
}
std::vector<unsigned char> floats(std::size_t n, float v = 0.5f) {
  std::vector<unsigned char> b(n * 4);
  for (std::size_t i = 0; i < n; ++i) std::memcpy(b.data() + 4 * i, &v, 4);
  return b;
}
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const safetensors_error& e) {
    return e.what();
  }
  return "";
}
// Loading `path` into `net` fails with exactly `problem` and leaves `net` as it was.
void expect_refused(Network<Mlp, float>& net, const std::string& path, const std::string& problem) {
  const Eigen::VectorXf before = net.values();
  BOOST_TEST(error_of([&] { load_safetensors(net, path); }) == "tapeless: " + path + ": " + problem);
  BOOST_TEST((net.values().array() == before.array()).all());
}
struct Reference {
  std::map<std::string, Eigen::MatrixXd> m;
  explicit Reference(const std::string& path) {
    std::ifstream in(path);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
    std::string line, name;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream s(line);
      Index r = 0, c = 0;
      s >> name >> r >> c;
      Eigen::MatrixXd v(r, c);
      for (Index i = 0; i < r; ++i)
        for (Index j = 0; j < c; ++j) s >> v(i, j);
      m[name] = v;
    }
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_float_and_double) {
  Network<Mlp, float> a(1), b(2);
  const std::string path = scratch("round_trip.safetensors");
  save_safetensors(a, path, {}, {{"by", "tapeless"}});
  load_safetensors(b, path);
  BOOST_TEST((a.values() == b.values()));
  const Safetensors f = read_safetensors(path);
  BOOST_TEST(f.metadata.at("by") == "tapeless");
  BOOST_TEST((f.find("0.weight")->shape == std::vector<std::uint64_t>{8, 4}));  // PyTorch's [out, in]
  BOOST_TEST((f.find("2.bias")->shape == std::vector<std::uint64_t>{3}));
  BOOST_TEST(f.find("0.weight")->dtype == "F32");
  Network<Mlp, double> c(3), d(4);
  save_safetensors(c, path, {{"0.weight", "fc1.weight"}});  // renamed on the way out...
  BOOST_TEST(read_safetensors(path).find("fc1.weight"));
  load_safetensors(d, path, {.names = {{"0.weight", "fc1.weight"}}});  // ...and back in
  BOOST_TEST((c.values() == d.values()));
}

// A parameter-shaped matrix in PyTorch's layout, by the parameter's declared role.
template <class Net>
Eigen::MatrixXd torch_layout(const Net& net, const std::string& name, const Eigen::MatrixXd& ours) {
  for (const ParameterInfo& p : net.parameters())
    if (p.name == name) return p.role == ParameterRole::weight ? Eigen::MatrixXd(ours.transpose()) : ours;
  BOOST_FAIL("no parameter " << name);
  return {};
}

template <class S>
void expect_torch_parity(const std::string& file, double tolerance) {
  Network<Mlp, S> net(0);
  load_safetensors(net, std::string(TAPELESS_FIXTURES) + "/" + file);
  const Reference ref(std::string(TAPELESS_FIXTURES) + "/torch_mlp_reference.txt");
  Trainer<Network<Mlp, S>, SoftmaxCrossEntropy<>> trainer(net, 5);
  trainer.inputs() = ref.m.at("x").cast<S>();
  for (Index i = 0; i < 5; ++i) trainer.targets()(i, 0) = static_cast<int>(ref.m.at("labels")(i, 0));
  const Eigen::MatrixXd logits = trainer.infer().template cast<double>();
  BOOST_TEST(((logits - ref.m.at("logits")).norm() <= tolerance * ref.m.at("logits").norm()));
  const StepResult r = trainer.compute();
  BOOST_TEST(std::abs(r.loss - ref.m.at("loss")(0, 0)) <= tolerance * ref.m.at("loss")(0, 0));
  for (const char* name : {"0.weight", "0.bias", "2.weight", "2.bias"}) {
    const Eigen::MatrixXd ours = net.gradient(name).template cast<double>();
    const Eigen::MatrixXd& theirs = ref.m.at(std::string("grad.") + name);  // PyTorch layout
    const Eigen::MatrixXd mine = torch_layout(net, name, ours);
    BOOST_TEST(((mine - theirs).norm() <= tolerance * theirs.norm()), name);
  }
}

BOOST_AUTO_TEST_CASE(pytorch_parity_f64) { expect_torch_parity<double>("torch_mlp_f64.safetensors", 1e-10); }
BOOST_AUTO_TEST_CASE(pytorch_parity_f32) { expect_torch_parity<float>("torch_mlp_f32.safetensors", 1e-5); }

BOOST_AUTO_TEST_CASE(one_wide_layers_follow_their_role_not_their_shape) {
  // nn.Linear(1, 4) and nn.Linear(4, 1): weights [4, 1] and [1, 4] in PyTorch's file. A layout
  // guessed from the shape took the 1 x 4 weight of Linear<1, 4> for a bias ([4]).
  using Narrow = Sequential<Linear<1, 4>, Tanh, Linear<4, 1>>;
  Network<Narrow, double> net(0);
  load_safetensors(net, std::string(TAPELESS_FIXTURES) + "/torch_narrow_f64.safetensors");
  const Reference ref(std::string(TAPELESS_FIXTURES) + "/torch_narrow_reference.txt");
  Trainer<Network<Narrow, double>, MSE> trainer(net, 5);
  trainer.inputs() = ref.m.at("x");
  trainer.targets() = ref.m.at("targets");
  const Eigen::MatrixXd out = trainer.infer();
  BOOST_TEST(((out - ref.m.at("output")).norm() <= 1e-12 * ref.m.at("output").norm()));
  const StepResult r = trainer.compute();
  BOOST_TEST(std::abs(r.loss - ref.m.at("loss")(0, 0)) <= 1e-12 * ref.m.at("loss")(0, 0));
  for (const char* name : {"0.weight", "0.bias", "2.weight", "2.bias"}) {
    const Eigen::MatrixXd mine = torch_layout(net, name, net.gradient(name));
    const Eigen::MatrixXd& theirs = ref.m.at(std::string("grad.") + name);
    BOOST_TEST(((mine - theirs).norm() <= 1e-12 * theirs.norm()), name);
  }
  const std::string path = scratch("narrow.safetensors");
  save_safetensors(net, path);
  const Safetensors f = read_safetensors(path);
  BOOST_TEST((f.find("0.weight")->shape == std::vector<std::uint64_t>{4, 1}));
  BOOST_TEST((f.find("0.bias")->shape == std::vector<std::uint64_t>{4}));
  BOOST_TEST((f.find("2.weight")->shape == std::vector<std::uint64_t>{1, 4}));
  BOOST_TEST((f.find("2.bias")->shape == std::vector<std::uint64_t>{1}));
  Network<Narrow, double> back(9);
  load_safetensors(back, path);
  BOOST_TEST((back.values() == net.values()));
}

BOOST_AUTO_TEST_CASE(a_scaled_residual_block_matches_pytorchs_module_by_name_and_value) {
  // PyTorch: x + 0.25 * self.block(x), the block an nn.Sequential (tests/fixtures/make_torch_mlp.py)
  using Net =
      Network<Sequential<Linear<3, 6>, ReLU, Residual<Sequential<Linear<6, 6>, Tanh>, std::ratio<1, 4>>, Linear<6, 2>>,
              double>;
  Net net(0);
  load_safetensors(net, std::string(TAPELESS_FIXTURES) + "/torch_residual_f64.safetensors");  // by name
  const Reference ref(std::string(TAPELESS_FIXTURES) + "/torch_residual_reference.txt");
  Trainer<Net, SoftmaxCrossEntropy<>> trainer(net, 5);
  trainer.inputs() = ref.m.at("x");
  for (Index i = 0; i < 5; ++i) trainer.targets()(i, 0) = static_cast<int>(ref.m.at("labels")(i, 0));
  const Eigen::MatrixXd logits = trainer.infer();
  BOOST_TEST(((logits - ref.m.at("logits")).norm() <= 1e-12 * ref.m.at("logits").norm()));
  BOOST_TEST(std::abs(trainer.compute().loss - ref.m.at("loss")(0, 0)) <= 1e-12 * ref.m.at("loss")(0, 0));
  for (const ParameterInfo& p : net.parameters()) {
    const Eigen::MatrixXd mine = torch_layout(net, p.name, net.gradient(p.name));
    const Eigen::MatrixXd& theirs = ref.m.at("grad." + p.name);
    BOOST_TEST(((mine - theirs).norm() <= 1e-12 * theirs.norm()), p.name);
  }
}

BOOST_AUTO_TEST_CASE(half_precision_is_converted_on_load) {
  std::vector<unsigned char> data;
  for (int i = 0; i < 32 + 8 + 24 + 3; ++i) {
    const Eigen::half h(0.25f * static_cast<float>(i % 4));
    const Eigen::bfloat16 b(-0.5f);
    const std::uint16_t raw =
        i < 40 ? Eigen::numext::bit_cast<std::uint16_t>(h) : Eigen::numext::bit_cast<std::uint16_t>(b);
    data.push_back(static_cast<unsigned char>(raw & 0xff));
    data.push_back(static_cast<unsigned char>(raw >> 8));
  }
  const std::string path =
      raw_file("half.safetensors",
               mlp_header({{"0.weight", R"({"dtype":"F16","shape":[8,4],"data_offsets":[0,64]})"},
                           {"0.bias", R"({"dtype":"F16","shape":[8],"data_offsets":[64,80]})"},
                           {"2.weight", R"({"dtype":"BF16","shape":[3,8],"data_offsets":[80,128]})"},
                           {"2.bias", R"({"dtype":"BF16","shape":[3],"data_offsets":[128,134]})"}}),
               data);
  Network<Mlp, float> net(1);
  load_safetensors(net, path);
  BOOST_TEST(net.values()(3) == 0.75f);
  BOOST_TEST(net.parameter("2.bias").isConstant(-0.5f));
}

// Saving in half precision: each value rounded to nearest even (Eigen's conversion), the file's
// dtype and size say so, and it loads back to the rounded values, in float and in double.
template <class S>
void check_half_save() {
  Network<Mlp, S> net(4);
  for (auto [dtype, name] : {std::pair{SaveDtype::BF16, "BF16"}, std::pair{SaveDtype::F16, "F16"}}) {
    const std::string path = scratch(std::string("half_save_") + name + ".safetensors");
    save_safetensors(net, path, {}, {{"note", "half"}}, dtype);
    const Safetensors file = read_safetensors(path);
    BOOST_TEST(file.tensors.size() == 4u);
    for (const SafetensorsTensor& t : file.tensors) BOOST_TEST(t.dtype == name);
    BOOST_TEST(file.metadata.at("note") == "half");
    Network<Mlp, S> back(0);
    load_safetensors(back, path);
    Index mismatches = 0;
    for (Index i = 0; i < net.values().size(); ++i) {
      const auto f = static_cast<float>(net.values()(i));
      const float expected =
          dtype == SaveDtype::BF16 ? static_cast<float>(Eigen::bfloat16(f)) : static_cast<float>(Eigen::half(f));
      mismatches += static_cast<float>(back.values()(i)) != expected;
    }
    BOOST_TEST(mismatches == 0);
    BOOST_TEST((back.values() - net.values()).cwiseAbs().maxCoeff() > 0);  // rounded, not copied
  }
  const std::string native = scratch("half_save_native.safetensors");
  save_safetensors(net, native);
  const std::string half = scratch("half_save_F16.safetensors");
  BOOST_TEST(std::filesystem::file_size(half) < std::filesystem::file_size(native) / (sizeof(S) / 2) + 512);
}

BOOST_AUTO_TEST_CASE(half_precision_is_written_rounded_to_nearest_even) {
  check_half_save<float>();
  check_half_save<double>();
}

BOOST_AUTO_TEST_CASE(a_weight_beyond_the_dtype_is_refused_and_the_previous_file_kept) {
  Network<Mlp, double> net(4);
  const std::string path = scratch("half_range.safetensors");
  save_safetensors(net, path, {}, {}, SaveDtype::F16);
  const std::vector<unsigned char> before = bytes_of(path);
  net.parameter("2.weight")(1, 2) = 70000;  // binary16's largest finite value is 65504
  const std::string message = error_of([&] { save_safetensors(net, path, {}, {}, SaveDtype::F16); });
  BOOST_TEST(message.find("'2.weight'") != std::string::npos, message);
  BOOST_TEST(message.find("70000") != std::string::npos, message);
  BOOST_TEST(message.find("F16") != std::string::npos, message);
  BOOST_TEST((bytes_of(path) == before));
  save_safetensors(net, path, {}, {}, SaveDtype::BF16);  // within bfloat16's range
  net.parameter("0.bias")(0, 1) = 1e300;                 // beyond float's: F32, BF16 and F16 refuse it
  for (SaveDtype d : {SaveDtype::F32, SaveDtype::BF16, SaveDtype::F16})
    BOOST_TEST(error_of([&] { save_safetensors(net, path, {}, {}, d); }).find("'0.bias'") != std::string::npos);
  save_safetensors(net, path, {}, {}, SaveDtype::F64);  // and F64 keeps it
  // a double network saved as F32: each value converted, and loaded back as it
  Network<Mlp, double> wide(6);
  save_safetensors(wide, path, {}, {}, SaveDtype::F32);
  for (const SafetensorsTensor& t : read_safetensors(path).tensors) BOOST_TEST(t.dtype == "F32");
  Network<Mlp, float> narrow(0);
  load_safetensors(narrow, path);
  BOOST_TEST((narrow.values() == wide.values().cast<float>()));
}

BOOST_AUTO_TEST_CASE(every_bad_file_is_named_and_changes_nothing) {
  Network<Mlp, float> net(9);
  auto expect = [&](const std::string& path, const std::string& problem) { expect_refused(net, path, problem); };
  const std::string missing = scratch("none.safetensors");
  expect(missing, "cannot open the file (No such file or directory)");
  const std::string tiny = scratch("tiny");
  std::ofstream(tiny, std::ios::binary).write("\x01\x02\x03\x04", 4);
  expect(tiny, "truncated: the 8-byte header length is missing (the file has 4 bytes)");
  expect(raw_file("long", "{}", {}, 1000), "header length 1000 is larger than the rest of the file (2 bytes)");
  expect(raw_file("json", "{\"0.weight\": [", {}),
         "the header is not valid JSON (at byte 14: expected a value, found the end of the text)");
  expect(raw_file("dtype", mlp_header({{"2.bias", R"({"dtype":"I32","shape":[3],"data_offsets":[256,268]})"}}),
                  floats(67)),
         "tensor '2.bias': dtype I32 is not supported (F16, BF16, F32, F64)");
  // a truncated file: its last tensor's offsets now reach past the data
  expect(raw_file("truncated", mlp_header(), floats(60)),
         "tensor '2.bias': data offsets [256, 268] lie outside the 240 bytes of data");
  expect(
      raw_file("size", mlp_header({{"0.bias", R"({"dtype":"F32","shape":[9],"data_offsets":[128,160]})"}}), floats(67)),
      "tensor '0.bias': shape [9] of F32 needs 36 bytes, its offsets hold 32");
  expect(raw_file("overlap", mlp_header({{"0.bias", R"({"dtype":"F32","shape":[8],"data_offsets":[120,152]})"}}),
                  floats(67)),
         "tensors '0.weight' and '0.bias' overlap in the data");
  expect(raw_file("hole", mlp_header(), floats(68)), "bytes 268..272 of the data belong to no tensor");
  expect(raw_file("missing", mlp_header({{"2.bias", ""}}), floats(64)), "missing tensor(s) '2.bias'");
  expect(raw_file("extra", mlp_header({{"3.weight", R"({"dtype":"F32","shape":[1],"data_offsets":[268,272]})"}}),
                  floats(68)),
         "unexpected tensor(s) '3.weight': the network has no such parameter");
  // a renamed tensor: both lists, from which a LoadOptions::names map can be written
  expect(raw_file("renamed",
                  mlp_header({{"2.bias", ""}, {"fc2.bias", R"({"dtype":"F32","shape":[3],"data_offsets":[256,268]})"}}),
                  floats(67)),
         "missing tensor(s) '2.bias'; unexpected tensor(s) 'fc2.bias' (LoadOptions::names maps the network's names to "
         "the file's)");
  expect(raw_file("shape", mlp_header({{"0.weight", R"({"dtype":"F32","shape":[4,8],"data_offsets":[0,128]})"}}),
                  floats(67)),
         "tensor '0.weight': expected shape [8, 4], found [4, 8]");
  std::vector<unsigned char> nan = floats(67);
  const float bad = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan.data() + 4 * 65, &bad, 4);  // 2.bias[1]
  const std::string nan_file = raw_file("nan", mlp_header(), nan);
  expect(nan_file,
         "tensor '2.bias' has a non-finite value (nan) at flat index 1; refused (LoadOptions::allow_non_finite accepts "
         "it)");
  load_safetensors(net, nan_file, {.allow_non_finite = true, .names = {}});  // asked for: accepted
  BOOST_TEST(std::isnan(net.parameter("2.bias")(0, 1)));
}

BOOST_AUTO_TEST_CASE(a_file_from_another_architecture_is_refused_naming_both) {
  static_assert(std::is_same_v<decltype(Network<Mlp>::architecture()), std::string>);
  BOOST_TEST(Network<Mlp>::architecture() == "Sequential(Linear(4, 8), ReLU, Linear(8, 3))");
  using TanhMlp = Sequential<Linear<4, 8>, Tanh, Linear<8, 3>>;  // the same names and shapes
  Network<TanhMlp, float> saved(1);
  const std::string path = scratch("tanh.safetensors");
  save_safetensors(saved, path, {}, {{"tapeless.architecture", "not ours to set"}, {"by", "test"}});
  const Safetensors file = read_safetensors(path);
  BOOST_TEST(file.metadata.at("tapeless.architecture") == "Sequential(Linear(4, 8), Tanh, Linear(8, 3))");
  BOOST_TEST(file.metadata.at("by") == "test");
  Network<Mlp, float> relu(2);
  const Eigen::VectorXf before = relu.values();
  BOOST_TEST(
      error_of([&] { load_safetensors(relu, path); }) ==
      "tapeless: " + path +
          ": the file holds a Sequential(Linear(4, 8), Tanh, Linear(8, 3)) (its metadata tapeless.architecture), "
          "the network is a Sequential(Linear(4, 8), ReLU, Linear(8, 3)); refused "
          "(LoadOptions::check_architecture = false loads it anyway)");
  BOOST_TEST((relu.values().array() == before.array()).all());
  load_safetensors(relu, path, {.check_architecture = false});  // asked for: loaded
  BOOST_TEST((relu.values() == saved.values()));
  Network<TanhMlp, float> same(3);
  load_safetensors(same, path);  // the same architecture loads
  BOOST_TEST((same.values() == saved.values()));
}

BOOST_AUTO_TEST_CASE(failed_save_leaves_the_previous_file) {
  // A write that fails half-way (the file-size limit, which binds root too): the previous file is
  // byte-identical, no temporary file is left, and the error gives the system's reason.
  Network<Mlp, float> a(1), b(2);
  const std::filesystem::path dir = scratch("failed_save");
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.safetensors").string();
  save_safetensors(a, path);
  const auto before = bytes_of(path);
  ::rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  ::rlimit small = old;
  small.rlim_cur = 100;
  ::setrlimit(RLIMIT_FSIZE, &small);
  const std::string error = error_of([&] { save_safetensors(b, path); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  BOOST_TEST(error.find("tapeless: " + path + ": writing ") == 0u, error);
  BOOST_TEST(error.find("failed (File too large); the previous file, if any, is unchanged") != std::string::npos,
             error);
  BOOST_TEST((bytes_of(path) == before));
  BOOST_TEST(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);  // no temporary file
  save_safetensors(b, path);                                                     // and a save that works replaces it
  BOOST_TEST(!(bytes_of(path) == before));
}

BOOST_AUTO_TEST_CASE(save_creates_its_temporary_file_exclusively) {
  // Symlinks planted at the names a predictable scheme would use (NAME.tmp-PID, and the ones
  // around it) must not redirect the write: the victim stays as it was.
  Network<Mlp, float> a(1);
  const std::filesystem::path dir = scratch("planted");
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.safetensors").string();
  const std::string victim = (dir / "victim").string();
  std::ofstream(victim) << "victim";
  for (int pid = ::getpid() - 2; pid <= ::getpid() + 2; ++pid)
    std::filesystem::create_symlink(victim, path + ".tmp-" + std::to_string(pid));
  save_safetensors(a, path);
  std::ifstream in(victim);
  BOOST_TEST(std::string(std::istreambuf_iterator<char>(in), {}) == "victim");
  Network<Mlp, float> back(2);
  load_safetensors(back, path);
  BOOST_TEST((back.values() == a.values()));
}

BOOST_AUTO_TEST_CASE(save_keeps_the_permissions_and_follows_a_symlinked_target) {
  Network<Mlp, float> a(1), b(2);
  const std::filesystem::path dir = scratch("perms");
  std::filesystem::create_directories(dir);
  const std::string real = (dir / "real.safetensors").string();
  save_safetensors(a, real);
  std::filesystem::permissions(real, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                         std::filesystem::perms::group_read);
  const std::string link = (dir / "link.safetensors").string();
  std::filesystem::create_symlink(real, link);
  save_safetensors(b, link);  // replaces the file the link points to; the link stays a link
  BOOST_TEST(std::filesystem::is_symlink(link));
  Network<Mlp, float> back(3);
  load_safetensors(back, real);
  BOOST_TEST((back.values() == b.values()));
  BOOST_TEST((
      std::filesystem::status(real).permissions() ==
      (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | std::filesystem::perms::group_read)));
}

BOOST_AUTO_TEST_CASE(save_follows_relative_chained_and_dangling_symlinks_and_refuses_a_loop) {
  Network<Mlp, float> a(1), b(2), back(3);
  const std::filesystem::path dir = scratch("links");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sub");
  const std::string real = (dir / "sub" / "real.safetensors").string();
  save_safetensors(a, real);
  // relative to the link's own directory, through a second link
  std::filesystem::create_symlink("sub/real.safetensors", dir / "first");
  std::filesystem::create_symlink("first", dir / "second");
  save_safetensors(b, (dir / "second").string());
  load_safetensors(back, real);
  BOOST_TEST((back.values() == b.values()));
  BOOST_TEST(std::filesystem::is_symlink(dir / "second"));
  BOOST_TEST(std::filesystem::is_symlink(dir / "first"));
  // a link to a file not made yet: the file is made where it points
  std::filesystem::create_symlink("sub/new.safetensors", dir / "dangling");
  save_safetensors(a, (dir / "dangling").string());
  load_safetensors(back, (dir / "sub" / "new.safetensors").string());
  BOOST_TEST((back.values() == a.values()));
  BOOST_TEST(std::filesystem::is_symlink(dir / "dangling"));
  // a loop
  std::filesystem::create_symlink("loop_b", dir / "loop_a");
  std::filesystem::create_symlink("loop_a", dir / "loop_b");
  const std::string loop = (dir / "loop_a").string();
  BOOST_TEST(error_of([&] { save_safetensors(a, loop); }) ==
             "tapeless: " + loop +
                 ": cannot resolve the symlink (Too many levels of symbolic links); the previous file, if any, is "
                 "unchanged");
}

BOOST_AUTO_TEST_CASE(an_interrupted_save_leaves_no_temporary_file) {
  // A child saves a 4 MB model over and over; SIGINT arrives at a random moment. Whatever it
  // interrupts, the directory then holds the model file alone, never a temporary, and the file is
  // a complete save. One save is made first: a slow build (-O0 under UBSan) may not finish any
  // save of a child within the 20-80 ms it gets.
  using Big = Sequential<Linear<1000, 1000>>;
  const std::filesystem::path dir = scratch("interrupted");
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "big.safetensors").string();
  Network<Big, float> net(1);
  save_safetensors(net, path);
  Rng rng(3);
  for (int round = 0; round < 6; ++round) {
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
      for (;;) save_safetensors(net, path);
    }
    ::usleep(static_cast<useconds_t>(20000 + rng.below(60000)));
    ::kill(child, SIGINT);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGINT));
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      BOOST_TEST(entry.path().string() == path, "left behind: " << entry.path());
  }
  Network<Big, float> back(2);
  load_safetensors(back, path);  // the last complete save
  BOOST_TEST((back.values() == net.values()));
}

BOOST_AUTO_TEST_CASE(hostile_files_are_refused_by_name_and_change_nothing) {
  Network<Mlp, float> net(9);
  const Eigen::VectorXf before = net.values();
  auto expect = [&](const std::string& name, const std::string& problem) {
    const std::string path = test::hostile(name);
    const std::string error = error_of([&] { load_safetensors(net, path); });
    BOOST_TEST(error.find("tapeless: " + path + ": " + problem) == 0u, name << ": " << error);
    BOOST_TEST((net.values().array() == before.array()).all());
  };
  // F64 values beyond float's range are checked after conversion (they would be +-inf)
  expect("f64_beyond_float.safetensors",
         "tensor '2.bias' has a value (1e+300) at flat index 1 outside the range of the network's scalar type");
  Network<Mlp, double> wide(1);
  load_safetensors(wide, test::hostile("f64_beyond_float.safetensors"));  // a double network takes it
  BOOST_TEST(wide.parameter("2.bias")(0, 1) == 1e300);
  // shape products that overflow 64 bits
  expect("shape_overflow_zero.safetensors", "tensor 'x': shape [4294967296, 4294967296]... of F32 overflows 64 bits");
  expect("shape_overflow_wraps.safetensors", "tensor 'x': shape [9223372036854775809]... of F32 overflows 64 bits");
  // header oddities
  expect("duplicate_name.safetensors", "the header names '0.bias' twice");
  expect("nul_in_header.safetensors", "the header holds a NUL byte at offset ");
  expect("trailing_text.safetensors", "the header is not valid JSON (");
  expect("dot_name.safetensors", "tensor '.': is not a valid tensor name");
}

BOOST_AUTO_TEST_CASE(only_regular_files_are_read_and_nothing_blocks) {
  Network<Mlp, float> net(9);
  const Eigen::VectorXf before = net.values();
  const test::watchdog guard(20);
  for (const auto& special : test::non_regular_files(scratch("special"))) {
    const std::string& path = special.first;  // not a structured binding: clang 14 cannot capture those
    const std::string error = error_of([&] { load_safetensors(net, path); });
    BOOST_TEST(error == "tapeless: " + path + ": " + special.second);
    BOOST_TEST((net.values().array() == before.array()).all());
  }
  // a header over the format's 100 MB cap (a sparse file: its length field says 150 MB)
  const std::string big = scratch("big_header");
  {
    std::ofstream out(big, std::ios::binary);
    const std::uint64_t n = 150'000'000;
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  }
  std::filesystem::resize_file(big, 8 + 150'000'000 + 16);
  BOOST_TEST(error_of([&] { (void)read_safetensors(big); }) ==
             "tapeless: " + big + ": header length 150000000 is over the limit of 100000000 bytes");
  std::filesystem::remove(big);
  // and the caller's cap on the file size
  const std::string path = scratch("capped.safetensors");
  save_safetensors(net, path);
  BOOST_TEST(error_of([&] { (void)read_safetensors(path, 100); }).find("more than the limit of 100") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_non_finite_network_is_never_saved_over_a_good_file) {
  Network<Mlp, float> good(1), bad(2);
  const std::string path = scratch("never_non_finite.safetensors");
  save_safetensors(good, path);
  const auto before = bytes_of(path);
  bad.parameter("2.weight")(1, 2) = std::numeric_limits<float>::infinity();
  BOOST_TEST(error_of([&] { save_safetensors(bad, path); }) ==
             "tapeless: " + path +
                 ": parameter '2.weight' has a non-finite value at flat index 17; not saved, the "
                 "previous file, if any, is unchanged");
  BOOST_TEST((bytes_of(path) == before));
}

BOOST_AUTO_TEST_CASE(a_header_of_many_names_is_checked_in_time) {
  // 150,000 empty tensors (9 MB of header): comparing every pair of names for duplicates took
  // 9.3 s at 40,000 names and over 200 s at this count (-O2); sorted, 0.2 s (about 8 s under
  // the sanitizers at -O0)
  constexpr int count = 150'000;
  std::string header = "{";
  for (int i = 0; i < count; ++i) {
    char entry[80];
    std::snprintf(entry, sizeof entry, "%s\"t%06d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                  i ? "," : "", i);
    header += entry;
  }
  const std::string many = raw_file("many", header + "}", {});
  const test::watchdog guard(60);
  BOOST_TEST(read_safetensors(many).tensors.size() == static_cast<std::size_t>(count));
  // the same with one name repeated at the end: refused, naming it
  const std::string repeated =
      raw_file("many_repeated", header + ",\"t000007\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", {});
  BOOST_TEST(error_of([&] { (void)read_safetensors(repeated); }) ==
             "tapeless: " + repeated + ": the header names 't000007' twice");
}

BOOST_AUTO_TEST_CASE(a_key_repeated_inside_an_entry_or_the_metadata_is_refused) {
  Network<Mlp, float> net(9);
  const Eigen::VectorXf before = net.values();
  auto expect = [&](const std::string& path, const std::string& problem) { expect_refused(net, path, problem); };
  // which of two dtypes or shapes counts is not for the reader to guess
  expect(raw_file("two_dtypes",
                  mlp_header({{"2.bias", R"({"dtype":"F64","shape":[3],"dtype":"F32","data_offsets":[256,268]})"}}),
                  floats(67)),
         "tensor '2.bias': names 'dtype' twice");
  expect(raw_file("two_shapes",
                  mlp_header({{"2.bias", R"({"dtype":"F32","shape":[3],"data_offsets":[256,268],"shape":[1]})"}}),
                  floats(67)),
         "tensor '2.bias': names 'shape' twice");
  std::string header = mlp_header();
  header.insert(1, R"("__metadata__":{"a":"1","a":"2"},)");
  expect(raw_file("two_metadata_keys", header, floats(67)), "__metadata__ names 'a' twice");
  // other members of an entry are skipped, whatever they hold, up to 64 levels deep (the root
  // object is level 1, an entry 2, its members' values 3)
  auto with_member = [](int depth) {
    return mlp_header({{"2.bias", R"({"dtype":"F32","shape":[3],"data_offsets":[256,268],"x":)" +
                                      std::string(static_cast<std::size_t>(depth - 2), '[') +
                                      std::string(static_cast<std::size_t>(depth - 2), ']') + ",\"y\":{\"z\":null}}"}});
  };
  load_safetensors(net, raw_file("deep_member", with_member(64), floats(67)));
  BOOST_TEST(net.parameter("2.bias")(0, 0) == 0.5f);
  net.values() = before;
  const std::string deeper = with_member(65);
  expect(raw_file("too_deep", deeper, floats(67)), "the header is not valid JSON (at byte " +
                                                       std::to_string(deeper.find(std::string(63, '[')) + 62) +
                                                       ": nesting deeper than 64 levels)");
}

// LoadOptions::names gives each parameter a file tensor: a typo in its keys was ignored, and two
// parameters of one shape given one tensor both loaded it, silently.
BOOST_AUTO_TEST_CASE(a_names_map_naming_no_parameter_or_one_tensor_twice_is_refused) {
  using Square = Network<Sequential<Linear<4, 4>, ReLU, Linear<4, 4>>, float>;  // two 4 x 4 weights
  Square net(3), into(4);
  const std::string path = scratch("names_map.safetensors");
  save_safetensors(net, path, {{"0.weight", "w"}});
  Safetensors file = read_safetensors(path);  // w, 0.bias, 2.bias: "2.weight" taken out
  file.tensors.erase(std::find_if(file.tensors.begin(), file.tensors.end(),
                                  [](const SafetensorsTensor& t) { return t.name == "2.weight"; }));
  const Eigen::VectorXf before = into.values();
  auto load_error = [&](const std::map<std::string, std::string>& names) {
    return error_of([&] { load_safetensors(into, file, "names.safetensors", {.names = names}); });
  };
  BOOST_TEST(load_error({{"0.weight", "w"}, {"2.weight", "w"}}) ==
             "tapeless: names.safetensors: the names map gives '0.weight' and '2.weight' one tensor, 'w' "
             "(LoadOptions::names)");
  BOOST_TEST(load_error({{"0.weight", "w"}, {"2.wieght", "w"}}) ==
             "tapeless: names.safetensors: the names map has '2.wieght', which is not a parameter of the network "
             "(LoadOptions::names)");
  BOOST_TEST((into.values().array() == before.array()).all());
  // the file is sound: with 2.weight back it loads
  load_safetensors(into, path, {.names = {{"0.weight", "w"}}});
  BOOST_TEST((into.values().array() == net.values().array()).all());
  // saving: the same refusals, and the file on disk stays as it was
  const std::vector<unsigned char> good = bytes_of(path);
  BOOST_TEST(error_of([&] {
               save_safetensors(net, path, {{"2.wieght", "w2"}});
             }) ==
             "tapeless: " + path +
                 ": not written: the names map has '2.wieght', which is not a parameter of the network; the previous "
                 "file, if any, is unchanged");
  BOOST_TEST(error_of([&] {
               save_safetensors(net, path, {{"0.bias", "2.bias"}});
             }) ==
             "tapeless: " + path +
                 ": not written: the names map gives '0.bias' and '2.bias' one tensor, '2.bias'; the previous file, "
                 "if any, is unchanged");
  BOOST_TEST((bytes_of(path) == good));
}

BOOST_AUTO_TEST_CASE(a_file_the_reader_would_refuse_is_not_written) {
  Network<Mlp, float> net(9);
  const std::string path = scratch("refused_write.safetensors");
  save_safetensors(net, path);
  const std::vector<unsigned char> good = bytes_of(path);
  auto refused = [&](auto&& save, const std::string& problem) {
    const std::string message = error_of(save);
    BOOST_TEST(message ==
               "tapeless: " + path + ": not written: " + problem + "; the previous file, if any, is unchanged");
    BOOST_TEST((bytes_of(path) == good));
  };
  // two parameters under one name: the file would hold one entry and data nobody owns
  refused(
      [&] {
        save_safetensors(net, path, {{"0.bias", "b"}, {"2.bias", "b"}});
      },
      "the names map gives '0.bias' and '2.bias' one tensor, 'b'");
  refused(
      [&] {
        save_safetensors(net, path, {{"0.bias", "a..b"}});
      },
      "tensor 'a..b': is not a valid tensor name (non-empty dotted parts, no control characters)");
  const std::string message = error_of([&] { save_safetensors(net, path, {}, {{"note", "\xff"}}); });
  BOOST_TEST(message.find("not written: a name or metadata is not valid UTF-8") != std::string::npos, message);
  BOOST_TEST((bytes_of(path) == good));
  // write_safetensors itself: data that no tensor covers
  Safetensors file = read_safetensors(path);
  file.data.push_back(0);
  refused([&] { write_safetensors(path, file); }, "bytes 268..269 of the data belong to no tensor");
}
