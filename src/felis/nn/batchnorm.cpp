#include "felis/nn/batchnorm.h"

#include "felis/error.h"
#include "felis/nn/layer_config.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>

namespace felis {

namespace {

constexpr int64_t kMaxFeatures = int64_t{1} << 30;

// Values per task in the parallel loops, rounded to whole features (at least one per
// task). Each feature is reduced by one task in a fixed order, so the result does not
// depend on the number of threads. NOTE: 16384 is a guess, not a measurement.
constexpr int64_t kChunkValues = 16384;

// The element of x (N, F, S) at sample i, feature c and position k is at (i * F + c) * S + k.
int64_t offset(int64_t i, int64_t c, int64_t k, int64_t features, int64_t spatial) {
  return (i * features + c) * spatial + k;
}

// Calls per_feature(c) for every feature c, in tasks of whole features.
template <typename PerFeature>
void for_each_feature(const PassContext& context, int64_t features, int64_t values_per_feature,
                      const PerFeature& per_feature) {
  assert(values_per_feature > 0);
  const int64_t features_per_task = std::max<int64_t>(1, kChunkValues / values_per_feature);
  context.pool->run(chunk_count(features, features_per_task), [&](int64_t task) {
    const int64_t first = task * features_per_task;
    const int64_t last = std::min(first + features_per_task, features);
    for (int64_t c = first; c < last; ++c) per_feature(c);
  });
}

// Reads an optional number field, or returns fallback when the field is absent.
double read_number(const nlohmann::json& config, const char* field, double fallback,
                   const char* valid_range) {
  if (!config.contains(field)) return fallback;
  const nlohmann::json& value = config[field];
  if (!value.is_number()) {
    throw Error(fmt::format("batchnorm \"{}\" is {}; expected a number in {}", field,
                            value.dump().substr(0, 100), valid_range));
  }
  return value.get<double>();
}

}  // namespace

template <typename T>
BatchNorm<T>::BatchNorm(int64_t features, BatchNormOptions options)
    : options_(options) {
  if (features < 1 || features > kMaxFeatures) {
    throw Error(fmt::format("batchnorm \"features\" is {}; expected an integer in [1, 2^30]",
                            features));
  }
  if (!(options.momentum >= 0.0 && options.momentum <= 1.0)) {  // also rejects NaN
    throw Error(fmt::format("batchnorm \"momentum\" is {}; expected a number in [0, 1]",
                            options.momentum));
  }
  if (!(options.epsilon > 0.0 && std::isfinite(options.epsilon))) {
    throw Error(fmt::format("batchnorm \"epsilon\" is {}; expected a number in (0, inf)",
                            options.epsilon));
  }
  for (Tensor<T>* tensor : {&gamma_, &beta_, &gamma_grad_, &beta_grad_, &running_mean_,
                            &running_var_, &inverse_std_}) {
    tensor->resize({features});
    tensor->set_zero();
  }
  std::fill(gamma_.data(), gamma_.data() + features, T(1));
  std::fill(running_var_.data(), running_var_.data() + features, T(1));
}

template <typename T>
std::unique_ptr<Layer<T>> BatchNorm<T>::from_config(const nlohmann::json& config) {
  check_layer_config(config, "batchnorm", {"features", "momentum", "epsilon"});

  if (!config.contains("features")) {
    throw Error("batchnorm layer config is missing \"features\", an integer in [1, 2^30]");
  }
  const nlohmann::json& features = config["features"];
  if (!features.is_number_integer()) {
    throw Error(fmt::format("batchnorm \"features\" is {}; expected an integer in [1, 2^30]",
                            features.dump().substr(0, 100)));
  }
  // Clamped before the conversion, so that a huge unsigned value cannot wrap to a valid one.
  const int64_t feature_count = features.is_number_unsigned()
                                    ? static_cast<int64_t>(std::min<uint64_t>(
                                          features.get<uint64_t>(), kMaxFeatures + 1))
                                    : features.get<int64_t>();

  const BatchNormOptions defaults;
  const BatchNormOptions options{
      .momentum = read_number(config, "momentum", defaults.momentum, "[0, 1]"),
      .epsilon = read_number(config, "epsilon", defaults.epsilon, "(0, inf)"),
  };
  return std::make_unique<BatchNorm<T>>(feature_count, options);
}

template <typename T>
nlohmann::json BatchNorm<T>::config() const {
  return {{"type", "batchnorm"},
          {"features", features()},
          {"momentum", options_.momentum},
          {"epsilon", options_.epsilon}};
}

template <typename T>
Shape BatchNorm<T>::output_shape(const Shape& sample_input) const {
  if (sample_input.empty() || sample_input[0] != features()) {
    throw Error(fmt::format("batchnorm layer of {} features expects a sample shape ({}, ...) "
                            "but gets ({}); set \"features\" to the input's first dimension",
                            features(), features(), fmt::join(sample_input, ", ")));
  }
  return sample_input;
}

// Per feature c over its m = N*S values (see the header for the formulas):
// statistics in double, then x_hat = (x - mean) * inverse_std and y = gamma * x_hat + beta.
template <typename T>
void BatchNorm<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  const int64_t n = x.rows();
  const int64_t f = features();
  assert(n == 0 || x.row_size() % f == 0);
  const int64_t s = n == 0 ? 0 : x.row_size() / f;
  const int64_t m = n * s;
  batch_statistics_ = context.training;
  y.resize(x.shape());
  normalized_.resize(x.shape());
  if (m == 0) return;

  const T* X = x.data();
  T* Y = y.data();
  T* X_hat = normalized_.data();
  for_each_feature(context, f, m, [&](int64_t c) {
    double mean = running_mean_[c];
    double var = running_var_[c];
    if (context.training) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < s; ++k) sum += X[offset(i, c, k, f, s)];
      }
      mean = sum / static_cast<double>(m);
      double squares = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < s; ++k) {
          const double centered = X[offset(i, c, k, f, s)] - mean;
          squares += centered * centered;
        }
      }
      var = squares / static_cast<double>(m);
      // One value has no unbiased variance, so a batch with m = 1 leaves both alone.
      if (m > 1) {
        const double momentum = options_.momentum;
        const double unbiased_var = squares / static_cast<double>(m - 1);
        running_mean_[c] = static_cast<T>(momentum * running_mean_[c] + (1 - momentum) * mean);
        running_var_[c] =
            static_cast<T>(momentum * running_var_[c] + (1 - momentum) * unbiased_var);
      }
    }

    const double inverse_std = 1.0 / std::sqrt(var + options_.epsilon);
    inverse_std_[c] = static_cast<T>(inverse_std);
    const T gamma = gamma_[c];
    const T beta = beta_[c];
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < s; ++k) {
        const int64_t at = offset(i, c, k, f, s);
        X_hat[at] = static_cast<T>((X[at] - mean) * inverse_std);
        Y[at] = gamma * X_hat[at] + beta;
      }
    }
  });
}

// Per feature c, with g = dy and sums over its m values:
//   dbeta = sum(g),  dgamma = sum(g * x_hat)
//   training:  dx = gamma * inverse_std / m * (m * g - sum(g) - x_hat * sum(g * x_hat))
//   inference: dx = gamma * inverse_std * g
// The training form includes the paths through the batch mean and variance.
template <typename T>
void BatchNorm<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(dy.shape() == normalized_.shape());
  const int64_t n = dy.rows();
  const int64_t f = features();
  const int64_t s = n == 0 ? 0 : dy.row_size() / f;
  const int64_t m = n * s;
  if (dx != nullptr) dx->resize(dy.shape());
  gamma_grad_.set_zero();
  beta_grad_.set_zero();
  if (m == 0) return;

  const T* dY = dy.data();
  const T* X_hat = normalized_.data();
  T* dX = dx == nullptr ? nullptr : dx->data();
  for_each_feature(context, f, m, [&](int64_t c) {
    double sum_dy = 0.0;
    double sum_dy_x_hat = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < s; ++k) {
        const int64_t at = offset(i, c, k, f, s);
        sum_dy += dY[at];
        sum_dy_x_hat += static_cast<double>(dY[at]) * X_hat[at];
      }
    }
    beta_grad_[c] = static_cast<T>(sum_dy);
    gamma_grad_[c] = static_cast<T>(sum_dy_x_hat);
    if (dX == nullptr) return;

    const double scale = static_cast<double>(gamma_[c]) * inverse_std_[c];
    const double m_real = static_cast<double>(m);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < s; ++k) {
        const int64_t at = offset(i, c, k, f, s);
        const double g = dY[at];
        dX[at] = static_cast<T>(
            batch_statistics_ ? scale / m_real * (m_real * g - sum_dy - X_hat[at] * sum_dy_x_hat)
                              : scale * g);
      }
    }
  });
}

template <typename T>
std::vector<Parameter<T>> BatchNorm<T>::parameters() {
  return {{"gamma", &gamma_, &gamma_grad_, false}, {"beta", &beta_, &beta_grad_, false}};
}

template <typename T>
std::vector<Buffer<T>> BatchNorm<T>::buffers() {
  return {{"running_mean", &running_mean_}, {"running_var", &running_var_}};
}

template class BatchNorm<float>;
template class BatchNorm<double>;

}  // namespace felis
