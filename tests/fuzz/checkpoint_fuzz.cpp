// libFuzzer harness for the checkpoint loader. For any file content: load_checkpoint either
// throws safetensors_error and leaves network and optimizer exactly as they were, or succeeds
// with every weight and moment finite, every second moment >= 0 and a step count in [0, 2^53];
// nothing else is thrown. Built by tests/fuzz/run checkpoint; its corpus, tests/fuzz/corpus_checkpoint,
// is replayed by ctest.
#include "tapeless/io/checkpoint.hpp"
#include "tapeless/layers/activation.hpp"
#include "tapeless/layers/linear.hpp"
#include "tapeless/layers/sequential.hpp"

#include "support/scratch.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tapeless;
  using Net = Network<Sequential<Linear<4, 8>, ReLU, Linear<8, 3>>>;
  static const std::string path = test::scratch_path("checkpoint_fuzz");  // the reader takes a path
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
  }
  static Net net(1);
  static const Net::vector_type weights = net.values();
  Adam<float> adam(net);
  try {
    load_checkpoint(net, adam, path);
    if (!detail::all_finite(net.values()) || !detail::all_finite(adam.first_moment()) ||
        !detail::all_finite(adam.second_moment()) || (adam.second_moment().array() < 0).any() ||
        adam.step_count() < 0 || adam.step_count() > Adam<float>::max_steps)
      std::abort();  // a loaded state Adam could not reach
    net.values() = weights;
  } catch (const safetensors_error&) {
    if (!(net.values().array() == weights.array()).all() || adam.step_count() != 0 || !adam.first_moment().isZero() ||
        !adam.second_moment().isZero())
      std::abort();  // a failed load changed something
  }
  return 0;
}
