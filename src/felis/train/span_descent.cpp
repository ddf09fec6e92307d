#include "felis/train/span_descent.h"

#include "felis/data/batch.h"
#include "felis/nn/dense.h"
#include "felis/nn/optimizer.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#ifdef __AVX512VNNI__
#include <immintrin.h>
#endif
#include <numeric>
#include <type_traits>

namespace felis {

namespace {

// The Gram path pays N^2 D / 2 integer operations once and saves about 4 N D K floating
// point ones per step, so it needs N well below D; G must also stay small in memory.
constexpr int64_t kMaxSpanImages = 4096;

// Sum of a[p] b[p] over d bytes. Each block of at most 32768 products fits an int32
// (255^2 * 32768 < 2^31), which lets the compiler use 32-bit vector lanes.
int64_t dot_bytes(const uint8_t* a, const uint8_t* b, int64_t d) {
  constexpr int64_t kBlock = 32768;
  int64_t total = 0;
  for (int64_t start = 0; start < d; start += kBlock) {
    const int64_t end = std::min(d, start + kBlock);
    int32_t sum = 0;
    for (int64_t p = start; p < end; ++p) sum += int32_t{a[p]} * int32_t{b[p]};
    total += sum;
  }
  return total;
}

// Each image's sum of bytes, for AVX-512 VNNI's unsigned-by-signed byte products:
// a . b = a . (b - 128) + 128 sum(a). Empty without VNNI.
std::vector<int64_t> image_sums(const Dataset& data) {
  std::vector<int64_t> sums;
#ifdef __AVX512VNNI__
  const int64_t d = data.image_size();
  sums.resize(static_cast<size_t>(data.count));
  for (int64_t i = 0; i < data.count; ++i) {
    const uint8_t* image = data.image(i);
    int64_t sum = 0;
    for (int64_t p = 0; p < d; ++p) sum += image[p];
    sums[static_cast<size_t>(i)] = sum;
  }
#else
  (void)data;
#endif
  return sums;
}

// dot_bytes(a, b) with 64 byte products per instruction: b's bytes flipped in their top
// bit are b - 128 as int8. Each 32-bit lane gains at most 4 * 255 * 128 per step, so an
// int32 has room for 4096 steps.
int64_t dot_shifted(const uint8_t* a, const uint8_t* b, int64_t a_sum, int64_t d) {
#ifdef __AVX512VNNI__
  constexpr int64_t kBlock = 4096 * 64;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  int64_t total = 128 * a_sum;
  int64_t p = 0;
  for (int64_t start = 0; start + 64 <= d; start += kBlock) {
    const int64_t end = std::min(d - d % 64, start + kBlock);
    __m512i sum = _mm512_setzero_si512();
    for (p = start; p < end; p += 64) {
      const __m512i b_shifted = _mm512_xor_si512(_mm512_loadu_si512(b + p), flip);
      sum = _mm512_dpbusd_epi32(sum, _mm512_loadu_si512(a + p), b_shifted);
    }
    // Each lane fits an int32, but the sum of 16 lanes may not: add them as int64.
    total += _mm512_reduce_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(sum))) +
             _mm512_reduce_add_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(sum, 1)));
  }
  for (; p < d; ++p) total += int64_t{a[p]} * (int64_t{b[p]} - 128);
  return total;
#else
  (void)a, (void)b, (void)a_sum, (void)d;
  return 0;
#endif
}

// The first dense layer's weights and bias.
template <typename T>
Parameter<T> dense_parameter(Network<T>& network, int layer, const std::string& name) {
  for (auto& parameter : network.layer(static_cast<size_t>(layer)).parameters()) {
    if (parameter.name == name) return parameter;
  }
  throw Error("dense layer without parameter " + name);
}

// Calls f(first, x) for consecutive chunks of the training images, x (count, D) holding
// images [first, first + count) as the pixel path's batch would. A chunk of about 512 KB
// stays in a core's L2 cache between its conversion and its product.
template <typename T, typename F>
void for_each_image_chunk(const Dataset& data, std::span<const int32_t> permutation, F&& f) {
  const int64_t image_bytes = std::max<int64_t>(1, data.image_size()) * int64_t{sizeof(T)};
  const int64_t chunk = std::clamp<int64_t>((512 << 10) / image_bytes, 8, 32);
  Tensor<T> x;
  std::vector<int32_t> labels;
  std::vector<int64_t> indices;
  for (int64_t first = 0; first < data.count; first += chunk) {
    indices.resize(static_cast<size_t>(std::min(chunk, data.count - first)));
    std::iota(indices.begin(), indices.end(), first);
    make_batch(data, indices, x, labels, permutation);
    f(first, x);
  }
}

}  // namespace

template <typename T>
int span_descent_layer(Network<T>& network, const Dataset& train, const TrainOptions& options) {
  // In float32, W0 + A X loses what the pixel path keeps: A's entries grow and cancel, and
  // a He-initialized course-4layer ended at 36 % test accuracy against 72 % on the pixels.
  if constexpr (!std::is_same_v<T, double>) return -1;
  const bool plain_full_batch = (options.batch_size == 0 || options.batch_size >= train.count) &&
                                options.augment.empty() &&
                                options.optimizer == OptimizerKind::sgd && options.l2 == 0 &&
                                options.clip_norm == 0;
  if (!plain_full_batch || train.count > kMaxSpanImages ||
      2 * train.count > train.image_size() || network.layer_count() == 0) {
    return -1;
  }
  const int first = network.layer(0).config().value("type", "") == "flatten" ? 1 : 0;
  if (static_cast<size_t>(first) >= network.layer_count()) return -1;
  const auto config = network.layer(static_cast<size_t>(first)).config();
  if (config.value("type", "") != "dense") return -1;
  // G costs about N^2 D / 2 byte products once, and each pixel step about 4 N D K
  // floating-point operations: the Gram path pays off only over enough steps.
  const int64_t steps = options.iterations > 0 ? options.iterations : options.epochs;
  const int64_t units = config.value("units", int64_t{1});
  return steps * units * 8 >= train.count ? first : -1;
}

template <typename T>
RowMatrix<T> pixel_gram(const Dataset& data, ThreadPool& pool) {
  const int64_t n = data.count;
  const int64_t d = data.image_size();
  RowMatrix<T> gram(n, n);
  const std::vector<int64_t> sums = image_sums(data);
  pool.run(n, [&](int64_t i) {
    for (int64_t j = i; j < n; ++j) {
      const int64_t dot = sums.empty() ? dot_bytes(data.image(i), data.image(j), d)
                                       : dot_shifted(data.image(j), data.image(i),
                                                     sums[static_cast<size_t>(j)], d);
      gram(i, j) = static_cast<T>(static_cast<double>(dot) / (255.0 * 255.0));
    }
  });
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) gram(i, j) = gram(j, i);
  }
  return gram;
}

template <typename T>
SpanDescent<T>::SpanDescent(Network<T>& network, int layer, const Dataset& train,
                            std::span<const int32_t> permutation, ThreadPool& pool)
    : network_(network), layer_(layer), train_(train), permutation_(permutation), pool_(pool),
      context_{.pool = &pool, .training = true} {
  gram_ = pixel_gram<T>(train, pool);
  const auto weights = dense_parameter(network, layer, "W").value->matrix();
  const int64_t units = weights.rows();
  initial_ = RowMatrix<T>::Zero(train.count, units);
  if (!weights.isZero(0)) {
    for_each_image_chunk<T>(train, permutation, [&](int64_t first, const Tensor<T>& x) {
      initial_.middleRows(first, x.rows()).noalias() = x.matrix() * weights.transpose();
    });
  }
  span_ = RowMatrix<T>::Zero(units, train.count);
  z_.resize({train.count, units});
  for (size_t i = static_cast<size_t>(layer) + 1; i < network.layer_count(); ++i) {
    for (auto& parameter : network.layer(i).parameters()) later_.push_back(parameter);
  }
}

template <typename T>
double SpanDescent<T>::forward_backward(std::span<const int32_t> labels) {
  const Tensor<T>& bias = *dense_parameter(network_, layer_, "b").value;
  auto z = z_.matrix();
  z.noalias() = gram_ * span_.transpose();
  z += initial_;
  z.rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias.data(), bias.size());
  const bool last = static_cast<size_t>(layer_) + 1 == network_.layer_count();
  const auto next = static_cast<size_t>(layer_) + 1;
  const Tensor<T>& logits = last ? z_ : network_.forward_from(next, z_, context_);
  const double cost = cross_entropy(network_.output(), logits, labels, &dlogits_);
  if (last) {
    dz_ = &dlogits_;
  } else {
    network_.backward(dlogits_, context_, true, next);
    dz_ = &network_.input_gradient(next);
  }
  return cost;
}

template <typename T>
void SpanDescent<T>::step(double learning_rate) {
  const auto dz = dz_->matrix();
  auto bias = dense_parameter(network_, layer_, "b");
  Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias.gradient->data(), bias.gradient->size()) =
      dz.colwise().sum();
  GradientDescent<T> descent(learning_rate);
  descent.step({bias});
  descent.step(later_);
  span_ -= static_cast<T>(learning_rate) * dz.transpose();
}

template <typename T>
void SpanDescent<T>::finish() {
  auto weights = dense_parameter(network_, layer_, "W").value->matrix();
  for_each_image_chunk<T>(train_, permutation_, [&](int64_t first, const Tensor<T>& x) {
    weights.noalias() += span_.middleCols(first, x.rows()) * x.matrix();
  });
}

template int span_descent_layer(Network<float>&, const Dataset&, const TrainOptions&);
template int span_descent_layer(Network<double>&, const Dataset&, const TrainOptions&);
template RowMatrix<float> pixel_gram(const Dataset&, ThreadPool&);
template RowMatrix<double> pixel_gram(const Dataset&, ThreadPool&);
template class SpanDescent<float>;
template class SpanDescent<double>;

}  // namespace felis
