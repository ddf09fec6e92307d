// Gradient descent and the L2 penalty.
//
// Legend: W a weight tensor, m the number of samples in the batch, lambda the L2 strength.
#pragma once

#include "felis/nn/layer.h"

namespace felis {

// Adds the course's L2 penalty to the weights' gradients, dW += lambda / m * W, and
// returns the penalty it adds to the cost, lambda / (2 m) * sum of W^2 over all weights.
// Biases are not penalised. Returns 0 without touching anything when lambda is 0.
template <typename T>
double apply_l2_penalty(const std::vector<Parameter<T>>& parameters, double lambda, int64_t m);

// Plain gradient descent: p -= learning_rate * dp for every parameter. With the full
// training set per step this is the course's loop; with shuffled mini-batches it is SGD.
template <typename T>
class GradientDescent {
public:
  explicit GradientDescent(double learning_rate) : learning_rate_(learning_rate) {}
  void step(const std::vector<Parameter<T>>& parameters);
  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate) { learning_rate_ = learning_rate; }

private:
  double learning_rate_;
};

}  // namespace felis
