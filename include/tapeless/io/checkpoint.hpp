/// @file
/// @brief Training checkpoints: a network's parameters and its Adam state (both moments and the
/// step count) in one safetensors file, so that training resumes exactly.
///
/// The parameters are stored as save_safetensors stores them; the moments as "optimizer.m" and
/// "optimizer.v" (flat, in the network's buffer order), the step count in the metadata
/// ("optimizer.step"). Loading checks everything before changing the network or the optimizer:
/// the weights as load_safetensors does, the moments as strictly (finite in the network's scalar
/// type, the second moment >= 0) and the step count (0 to 2^53).
#pragma once

#include "tapeless/io/safetensors.hpp"
#include "tapeless/optim/adam.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

namespace tapeless {

template <class Net>
void save_checkpoint(const Net& net, const Adam<typename Net::scalar_type>& adam, const std::string& path) {
  using S = typename Net::scalar_type;
  detail::require_finite_parameters(net, path);
  if (!detail::all_finite(adam.first_moment()) || !detail::all_finite(adam.second_moment()))
    throw safetensors_error("tapeless: " + path + ": the optimizer state is not finite; not saved");
  const auto n = static_cast<std::uint64_t>(net.values().size());
  const std::string dtype = std::is_same_v<S, float> ? "F32" : "F64";
  Safetensors file;
  file.tensors = detail::parameter_tensors(net, {}, dtype);
  for (const auto* v : {&net.values(), &adam.first_moment(), &adam.second_moment()})
    detail::append_bytes(file.data, *v);
  file.tensors.push_back({"optimizer.m", dtype, {n}, n * sizeof(S), 2 * n * sizeof(S)});
  file.tensors.push_back({"optimizer.v", dtype, {n}, 2 * n * sizeof(S), 3 * n * sizeof(S)});
  file.metadata = {{"optimizer", "adam"},
                   {"optimizer.step", std::to_string(adam.step_count())},
                   {architecture_key, Net::architecture()}};
  write_safetensors(path, file);
}

template <class Net>
void load_checkpoint(Net& net, Adam<typename Net::scalar_type>& adam, const std::string& path) {
  Safetensors file = read_safetensors(path);
  auto fail = [&](const std::string& what) { return safetensors_error("tapeless: " + path + ": " + what); };
  const auto n = static_cast<std::uint64_t>(net.values().size());
  const SafetensorsTensor* m = file.find("optimizer.m");
  const SafetensorsTensor* v = file.find("optimizer.v");
  const auto step = file.metadata.find("optimizer.step");
  if (!m || !v || step == file.metadata.end() || file.metadata["optimizer"] != "adam")
    throw fail("not an Adam checkpoint (optimizer.m, optimizer.v and the optimizer.step metadata are needed)");
  if (m->shape != std::vector<std::uint64_t>{n} || v->shape != std::vector<std::uint64_t>{n})
    throw fail("optimizer state has the wrong size for this network (" + std::to_string(n) + " parameters)");
  std::int64_t steps = 0;
  try {
    std::size_t used = 0;
    steps = std::stoll(step->second, &used);
    if (step->second.empty() || step->second[0] < '0' || step->second[0] > '9' || used != step->second.size())
      throw std::invalid_argument("");
  } catch (const std::logic_error&) {
    throw fail("optimizer.step '" + step->second + "' is not a step count");
  }
  using Optimizer = Adam<typename Net::scalar_type>;
  typename Optimizer::vector_type m_values(static_cast<Index>(n)), v_values(static_cast<Index>(n));
  // converted, then checked as strictly as weights: finite in the network's type, v >= 0, and a
  // step count that cannot overflow
  detail::convert_checked(file.values(*m), m_values.data(), false,
                          [&](const std::string& what) { return fail("tensor 'optimizer.m' " + what); });
  detail::convert_checked(file.values(*v), v_values.data(), false,
                          [&](const std::string& what) { return fail("tensor 'optimizer.v' " + what); });
  try {
    Optimizer::check_state(m_values, v_values, steps, static_cast<Index>(n));
  } catch (const std::invalid_argument& e) {
    throw fail(e.what());
  }
  // the parameters last: load_safetensors checks everything before it changes the network
  file.tensors.erase(std::remove_if(file.tensors.begin(), file.tensors.end(),
                                    [](const auto& t) { return t.name.rfind("optimizer.", 0) == 0; }),
                     file.tensors.end());
  load_safetensors(net, file, path);
  adam.restore(m_values, v_values, steps);
}

}  // namespace tapeless
