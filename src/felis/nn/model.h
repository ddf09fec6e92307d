// Model: a network in float32 or float64, with what it needs to classify images: its
// input shape, class names and a record of how it was trained.
//
// Legend: C channels, H x W pixels, K classes.
#pragma once

#include "felis/nn/network.h"

#include <random>
#include <string>
#include <variant>

namespace felis {

enum class Precision { float32, float64 };
std::string to_string(Precision precision);
// Throws felis::UsageError for a name other than float32 or float64.
Precision precision_from_string(const std::string& name);

enum class Init { zeros, normal };
// Throws felis::UsageError for a name other than zeros or normal.
Init init_from_string(const std::string& name);

// The model presets of build_model, one line of help each.
const std::vector<std::pair<std::string, std::string>>& model_presets();

class Model {
public:
  using Networks = std::variant<Network<float>, Network<double>>;

  Model(Networks network, std::string name, std::vector<std::string> class_names);

  const std::string& name() const { return name_; }  // the preset it was built from
  const std::vector<std::string>& class_names() const { return class_names_; }
  int64_t class_count() const { return static_cast<int64_t>(class_names_.size()); }
  Precision precision() const;
  const Shape& input_shape() const;  // (C, H, W)
  nlohmann::json architecture() const;
  int64_t parameter_count();

  // Calls f(Network<T>&) with the network in its own precision.
  template <typename F>
  decltype(auto) visit(F&& f) { return std::visit(std::forward<F>(f), network_); }
  template <typename F>
  decltype(auto) visit(F&& f) const { return std::visit(std::forward<F>(f), network_); }

  // Free-form record of the training run (options, seed, data), saved with the model.
  nlohmann::json training;

private:
  Networks network_;
  std::string name_;
  std::vector<std::string> class_names_;
};

struct ModelOptions {
  std::string preset = "logreg";
  Precision precision = Precision::float64;
  Init init = Init::zeros;
  double init_stddev = 0.01;  // for Init::normal
  uint64_t seed = 1;
};

// Builds a preset for images of (C, H, W) and `class_names`:
//   logreg   dense 1, sigmoid output (binary logistic regression; needs exactly 2 classes)
//   softmax  dense K, softmax output (multinomial logistic regression)
// Throws felis::UsageError for an unknown preset or logreg on more than 2 classes.
Model build_model(const ModelOptions& options, const Shape& input_shape,
                  const std::vector<std::string>& class_names);

}  // namespace felis
