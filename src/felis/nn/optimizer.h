// Optimizers and the L2 penalty.
//
// Legend: p a parameter, g its gradient, lr the learning rate, t the step count from 1,
// m the number of samples in the batch, lambda the L2 strength.
// An optimizer keeps its state (velocities, moments) per parameter, matched by position in
// the parameter list it gets at every step. That list must not change between steps.
#pragma once

#include "felis/nn/layer.h"

#include <memory>
#include <string>

namespace felis {

// Adds the course's L2 penalty to the weights' gradients, dW += lambda / m * W, and
// returns the penalty it adds to the cost, lambda / (2 m) * sum of W^2 over all weights.
// Biases are not penalised. Returns 0 without touching anything when lambda is 0.
template <typename T>
double apply_l2_penalty(const std::vector<Parameter<T>>& parameters, double lambda, int64_t m);

// Scales every gradient by max_norm / ||g|| when the global norm ||g|| over all of them
// exceeds max_norm. Returns ||g|| before clipping. Does nothing when max_norm is 0.
template <typename T>
double clip_gradient_norm(const std::vector<Parameter<T>>& parameters, double max_norm);

enum class OptimizerKind { sgd, momentum, rmsprop, adam };

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::sgd;
  double learning_rate = 0.01;
  double momentum = 0.9;  // beta of momentum; also Adam's beta1
  double beta2 = 0.999;   // RMSprop's and Adam's decay of squared gradients
  double epsilon = 1e-8;  // added to the root of the squared-gradient average
};

// Throws felis::UsageError for a name other than sgd, momentum, rmsprop or adam.
OptimizerKind optimizer_kind_from_string(const std::string& name);
std::string to_string(OptimizerKind kind);

template <typename T>
class Optimizer {
public:
  virtual ~Optimizer() = default;
  // Updates every parameter from its gradient.
  virtual void step(const std::vector<Parameter<T>>& parameters) = 0;
  // The optimizer's per-parameter tensors for `parameters`, named "<slot>/<index>" (for
  // example "first_moment/0"), allocated as zeros if no step has run yet. Checkpoints
  // save them and write them back through the same pointers.
  virtual std::vector<Buffer<T>> state(const std::vector<Parameter<T>>& parameters) {
    (void)parameters;
    return {};
  }
  // Steps taken so far, for the optimizers whose update depends on it (Adam).
  virtual int64_t step_count() const { return 0; }
  virtual void set_step_count(int64_t steps) { (void)steps; }

  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate) { learning_rate_ = learning_rate; }

protected:
  explicit Optimizer(double learning_rate) : learning_rate_(learning_rate) {}
  double learning_rate_;
};

// Plain gradient descent: p -= lr * g. With the full training set per step this is the
// course's loop; with shuffled mini-batches it is SGD.
template <typename T>
class GradientDescent final : public Optimizer<T> {
public:
  explicit GradientDescent(double learning_rate) : Optimizer<T>(learning_rate) {}
  void step(const std::vector<Parameter<T>>& parameters) override;
};

// Momentum: v = beta v + (1 - beta) g; p -= lr * v (the course's form).
template <typename T>
class Momentum final : public Optimizer<T> {
public:
  Momentum(double learning_rate, double beta) : Optimizer<T>(learning_rate), beta_(beta) {}
  void step(const std::vector<Parameter<T>>& parameters) override;
  std::vector<Buffer<T>> state(const std::vector<Parameter<T>>& parameters) override;

private:
  double beta_;
  std::vector<Tensor<T>> velocity_;  // one per parameter, its shape
};

// RMSprop: s = beta2 s + (1 - beta2) g^2; p -= lr * g / (sqrt(s) + epsilon).
template <typename T>
class RmsProp final : public Optimizer<T> {
public:
  RmsProp(double learning_rate, double beta2, double epsilon)
      : Optimizer<T>(learning_rate), beta2_(beta2), epsilon_(epsilon) {}
  void step(const std::vector<Parameter<T>>& parameters) override;
  std::vector<Buffer<T>> state(const std::vector<Parameter<T>>& parameters) override;

private:
  double beta2_;
  double epsilon_;
  std::vector<Tensor<T>> square_average_;  // one per parameter
};

// Adam: v = beta1 v + (1 - beta1) g, s = beta2 s + (1 - beta2) g^2,
// p -= lr * (v / (1 - beta1^t)) / (sqrt(s / (1 - beta2^t)) + epsilon).
template <typename T>
class Adam final : public Optimizer<T> {
public:
  Adam(double learning_rate, double beta1, double beta2, double epsilon)
      : Optimizer<T>(learning_rate), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}
  void step(const std::vector<Parameter<T>>& parameters) override;
  std::vector<Buffer<T>> state(const std::vector<Parameter<T>>& parameters) override;
  int64_t step_count() const override { return steps_; }
  void set_step_count(int64_t steps) override { steps_ = steps; }

private:
  double beta1_;
  double beta2_;
  double epsilon_;
  int64_t steps_ = 0;                      // t
  std::vector<Tensor<T>> first_moment_;    // v, one per parameter
  std::vector<Tensor<T>> second_moment_;   // s, one per parameter
};

template <typename T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerOptions& options);

}  // namespace felis
