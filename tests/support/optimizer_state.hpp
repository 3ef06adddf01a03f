// An optimizer's whole state as one vector, to compare bit for bit before and after a step that
// must change nothing: Sgd's velocity; Adam's moments and step count.
#pragma once

#include "tapeless/optim/adam.hpp"
#include "tapeless/optim/sgd.hpp"

#include <vector>

namespace test {

template <class S>
std::vector<S> optimizer_state(const tapeless::Sgd<S>& o) {
  return {o.velocity().data(), o.velocity().data() + o.velocity().size()};
}

template <class S>
std::vector<double> optimizer_state(const tapeless::Adam<S>& o) {
  std::vector<double> s(o.first_moment().data(), o.first_moment().data() + o.first_moment().size());
  s.insert(s.end(), o.second_moment().data(), o.second_moment().data() + o.second_moment().size());
  s.push_back(static_cast<double>(o.step_count()));
  return s;
}

}  // namespace test
