// The one translation unit that compiles the Trainer and Predictor of support/extern_model.hpp.
#include "support/extern_model.hpp"

template class tapeless::Trainer<model::Net, model::Loss, model::batch>;
template class tapeless::Predictor<model::Net, 1>;
