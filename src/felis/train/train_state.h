// Capturing and restoring a training run's state (TrainState) around the trainer's loop.
#pragma once

#include "felis/nn/network.h"
#include "felis/nn/optimizer.h"
#include "felis/train/trainer.h"

namespace felis {

// Copies the optimizer's tensors, its rate and step count, and every layer's generator
// into `state`, leaving its other fields as they are.
template <typename T>
void capture_state(Network<T>& network, Optimizer<T>& optimizer,
                   const std::vector<Parameter<T>>& parameters, TrainState& state);

// Writes `state`'s optimizer tensors, rate, step count and generators back. Throws
// felis::Error naming the first tensor or layer that does not match, before changing
// anything.
template <typename T>
void restore_state(const TrainState& state, Network<T>& network, Optimizer<T>& optimizer,
                   const std::vector<Parameter<T>>& parameters);

// Throws DivergenceError naming the first parameter whose gradient contains a NaN or an
// infinity, with the step and rate for the message.
template <typename T>
void check_finite_gradients(const std::vector<Parameter<T>>& parameters, int64_t step,
                            double learning_rate);

// True when every parameter's value is finite.
template <typename T>
bool parameters_finite(const std::vector<Parameter<T>>& parameters);

}  // namespace felis
