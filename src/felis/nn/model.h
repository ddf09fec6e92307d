// Model: a network in float32 or float64, with what it needs to classify images: its
// input shape, class names and a record of how it was trained.
//
// Legend: C channels, H x W pixels, K classes.
#pragma once

#include "felis/nn/network.h"

#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <variant>

namespace felis {

enum class Precision { float32, float64 };
std::string to_string(Precision precision);
// Throws felis::UsageError for a name other than float32 or float64.
Precision precision_from_string(const std::string& name);

// Initial weights: zeros; `course`, the course notebooks' draws (randn * 0.01 for
// course-2layer, randn / sqrt(fan_in) for the other models) from numpy's generator;
// He; Glorot. `automatic` is zeros for logreg and softmax and He for the rest.
enum class Init { automatic, zeros, course, he, glorot };
// Throws felis::UsageError for a name other than auto, zeros, course, he or glorot.
Init init_from_string(const std::string& name);
std::string to_string(Init init);

class Model {
public:
  using Networks = std::variant<Network<float>, Network<double>>;

  Model(Networks network, std::string name, std::vector<std::string> class_names);

  const std::string& name() const { return name_; }  // the preset, or "custom"
  const std::vector<std::string>& class_names() const { return class_names_; }
  int64_t class_count() const { return static_cast<int64_t>(class_names_.size()); }
  Precision precision() const;
  const Shape& input_shape() const;  // (C, H, W)
  nlohmann::json architecture() const;
  int64_t parameter_count();

  // Forward and backward passes keep their activations in the layers, so one model runs
  // one pass at a time. Prediction and training hold this lock while they run; two
  // threads predicting on one model take turns and get the results one thread gets.
  [[nodiscard]] std::unique_lock<std::mutex> lock_passes() {
    return std::unique_lock<std::mutex>(*passes_);
  }

  // Calls f(Network<T>&) with the network in its own precision.
  template <typename F>
  decltype(auto) visit(F&& f) { return std::visit(std::forward<F>(f), network_); }
  template <typename F>
  decltype(auto) visit(F&& f) const { return std::visit(std::forward<F>(f), network_); }

  // Free-form record of the training run (options, seed, data), saved with the model.
  nlohmann::json training;

  // Pixel positions shuffled before an image enters the network, (H W) or empty for none:
  // position p of the input comes from position input_permutation[p] of the image. Set
  // by felis train --permute-pixels; every batch made for this model applies it.
  std::vector<int32_t> input_permutation;

private:
  Networks network_;
  std::string name_;
  std::vector<std::string> class_names_;
  std::unique_ptr<std::mutex> passes_ = std::make_unique<std::mutex>();  // see lock_passes()
};

struct ModelOptions {
  std::string preset = "logreg";  // a preset name or a spec string (see model_spec.h)
  Precision precision = Precision::float64;
  Init init = Init::automatic;
  uint64_t seed = 1;  // seeds numpy's generator for the initial weights, as np.random.seed
};

// Builds the model a preset or spec describes for images of (C, H, W) and `class_names`,
// with initial weights. Throws felis::UsageError for an unknown preset, an invalid spec,
// or a spec that does not fit the input or the classes.
Model build_model(const ModelOptions& options, const Shape& input_shape,
                  const std::vector<std::string>& class_names);

}  // namespace felis
