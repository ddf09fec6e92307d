// The training options each preset starts from, shared by felis train and felis study.
#pragma once

#include "felis/train/trainer.h"

#include <string>

namespace felis {

// The preset's options for a training set of `train_count` images: the course's
// full-batch loops for logreg and the course networks, SGD with a decaying rate for
// softmax, Adam with a decaying rate for the rest. Where the preset's epochs make fewer
// than kMinDefaultSteps steps, the epochs grow to reach it and the decay per epoch
// shrinks so that the rate ends where the preset's epochs would leave it.
TrainOptions default_train_options(const std::string& preset, int64_t train_count);

// Steps below which default_train_options lengthens a run (20 steps of Adam on the
// course's 209 images leave every model near its start).
inline constexpr int64_t kMinDefaultSteps = 200;

// "float64" for logreg and softmax, as the course computes; "float32" for the rest.
std::string default_precision(const std::string& preset);

}  // namespace felis
