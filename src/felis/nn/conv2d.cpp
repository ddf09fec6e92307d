#include "felis/nn/conv2d.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

namespace felis {
namespace {

// The sizes of one convolution over one sample.
struct Geometry {
  int64_t channels;  // C
  int64_t height;    // H
  int64_t width;     // W
  int64_t kernel;    // k
  int64_t stride;    // s
  int64_t padding;   // p
  int64_t out_height;  // Ho
  int64_t out_width;   // Wo

  int64_t input_size() const { return channels * height * width; }
  int64_t column_rows() const { return channels * kernel * kernel; }
  int64_t column_cols() const { return out_height * out_width; }
};

// The output columns [first, last) whose kernel column v reads inside the image: column
// j reads input column j * stride - padding + v.
std::pair<int64_t, int64_t> valid_columns(const Geometry& g, int64_t v) {
  const int64_t offset = v - g.padding;
  // the smallest j with j * stride + offset >= 0, and one past the largest below width
  const int64_t first = offset >= 0 ? 0 : (-offset + g.stride - 1) / g.stride;
  const int64_t last = g.width - offset <= 0 ? 0 : (g.width - offset + g.stride - 1) / g.stride;
  return {std::min(first, g.out_width), std::clamp(last, std::min(first, g.out_width), g.out_width)};
}

// The sum of values[0, count) in eight interleaved running sums, added in a fixed order.
// The compiler can vectorize it, and unlike Eigen's sum(), which starts its vectors at
// the first aligned address, its rounding does not depend on where the values lie.
template <typename T>
T ordered_sum(const T* values, int64_t count) {
  constexpr int64_t kLanes = 8;
  std::array<T, kLanes> lanes{};
  int64_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    for (int64_t lane = 0; lane < kLanes; ++lane) lanes[lane] += values[i + lane];
  }
  T sum = 0;
  for (const T lane : lanes) sum += lane;
  for (; i < count; ++i) sum += values[i];
  return sum;
}

// Values per fixed-size block in copy_values and add_values: one 32-byte vector.
template <typename T>
constexpr int64_t kBlockValues = 32 / sizeof(T);
template <typename T>
using Block = Eigen::Map<Eigen::Array<T, kBlockValues<T>, 1>>;
template <typename T>
using ConstBlock = Eigen::Map<const Eigen::Array<T, kBlockValues<T>, 1>>;

// out[0, count) = in[0, count) for the short rows of im2col (11 to 26 values in the
// CNN presets), in fixed-size blocks that compile to vector moves. A plain loop or
// std::copy became a memmove call per row, which cost more than the copy itself.
template <typename T>
void copy_values(const T* in, int64_t count, T* out) {
  constexpr int64_t block = kBlockValues<T>;
  if (count < block) {
    for (int64_t j = 0; j < count; ++j) out[j] = in[j];
    return;
  }
  for (int64_t j = 0; j + block < count; j += block) Block<T>(out + j) = ConstBlock<T>(in + j);
  // The last block ends at count and may overlap the one before, which copies twice.
  Block<T>(out + count - block) = ConstBlock<T>(in + count - block);
}

// out[0, count) += in[0, count), in blocks as copy_values. Each value gets one addition,
// so the result does not depend on the blocking.
template <typename T>
void add_values(const T* in, int64_t count, T* out) {
  constexpr int64_t block = kBlockValues<T>;
  int64_t j = 0;
  for (; j + block <= count; j += block) Block<T>(out + j) += ConstBlock<T>(in + j);
  for (; j < count; ++j) out[j] += in[j];
}

// Unrolls one sample x (C, H, W) into cols (C*k*k, Ho*Wo). Row (c*k + u)*k + v, column
// i*Wo + j of cols is x[c, i*s - p + u, j*s - p + v], or zero where that is padding.
template <typename T>
void im2col(const T* x, const Geometry& g, T* cols) {
  for (int64_t c = 0; c < g.channels; ++c) {
    const T* plane = x + c * g.height * g.width;
    for (int64_t u = 0; u < g.kernel; ++u) {
      for (int64_t v = 0; v < g.kernel; ++v) {
        const auto [first, last] = valid_columns(g, v);
        for (int64_t i = 0; i < g.out_height; ++i) {
          T* out = cols + i * g.out_width;
          const int64_t row = i * g.stride - g.padding + u;
          if (row < 0 || row >= g.height) {
            std::fill(out, out + g.out_width, T(0));
            continue;
          }
          const T* in = plane + row * g.width;
          for (int64_t j = 0; j < first; ++j) out[j] = T(0);
          if (g.stride == 1) {
            copy_values(in + first - g.padding + v, last - first, out + first);
          } else {
            for (int64_t j = first; j < last; ++j) out[j] = in[j * g.stride - g.padding + v];
          }
          for (int64_t j = last; j < g.out_width; ++j) out[j] = T(0);
        }
        cols += g.column_cols();
      }
    }
  }
}

// The adjoint of im2col: sets dx (C, H, W) to the sum, over every entry of dcols
// (C*k*k, Ho*Wo), of that entry added at the pixel im2col read it from. Padding entries
// are dropped.
template <typename T>
void col2im(const T* dcols, const Geometry& g, T* dx) {
  std::fill(dx, dx + g.input_size(), T(0));
  for (int64_t c = 0; c < g.channels; ++c) {
    T* plane = dx + c * g.height * g.width;
    for (int64_t u = 0; u < g.kernel; ++u) {
      for (int64_t v = 0; v < g.kernel; ++v) {
        const auto [first, last] = valid_columns(g, v);
        for (int64_t i = 0; i < g.out_height; ++i) {
          const int64_t row = i * g.stride - g.padding + u;
          if (row < 0 || row >= g.height) continue;
          const T* in = dcols + i * g.out_width;
          T* out = plane + row * g.width;
          if (g.stride == 1) {
            add_values(in + first, last - first, out + first - g.padding + v);
          } else {
            for (int64_t j = first; j < last; ++j) out[j * g.stride - g.padding + v] += in[j];
          }
        }
        dcols += g.column_cols();
      }
    }
  }
}

int64_t read_integer(const nlohmann::json& config, const char* key, int64_t min_value,
                     int64_t max_value) {
  if (!config.contains(key) || !config[key].is_number_integer()) {
    throw Error(fmt::format("conv2d layer {} has no integer '{}'", config.dump().substr(0, 200),
                            key));
  }
  const auto value = config[key].get<int64_t>();
  if (value < min_value || value > max_value) {
    throw Error(fmt::format("conv2d layer {}: '{}' is {}, expected {} to {}",
                            config.dump().substr(0, 200), key, value, min_value, max_value));
  }
  return value;
}

std::string shape_string(const Shape& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + ")";
}

}  // namespace

template <typename T>
Conv2d<T>::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                  int64_t padding)
    : stride_(stride), padding_(padding),
      weights_({out_channels, in_channels, kernel, kernel}), bias_({out_channels}),
      weights_grad_({out_channels, in_channels, kernel, kernel}), bias_grad_({out_channels}) {
  assert(in_channels >= 1);
  assert(out_channels >= 1);
  assert(kernel >= 1);
  assert(stride >= 1);
  assert(padding >= 0);
  weights_.set_zero();
  bias_.set_zero();
}

template <typename T>
std::unique_ptr<Layer<T>> Conv2d<T>::from_config(const nlohmann::json& config) {
  const int64_t in_channels = read_integer(config, "in_channels", 1, kMaxConvChannels);
  const int64_t out_channels = read_integer(config, "out_channels", 1, kMaxConvChannels);
  const int64_t kernel = read_integer(config, "kernel", 1, kMaxConvKernel);
  const int64_t stride = read_integer(config, "stride", 1, kMaxConvKernel);
  const int64_t padding = read_integer(config, "padding", 0, kMaxConvKernel);
  return std::make_unique<Conv2d<T>>(in_channels, out_channels, kernel, stride, padding);
}

template <typename T>
nlohmann::json Conv2d<T>::config() const {
  return {{"type", "conv2d"},       {"in_channels", in_channels()},
          {"out_channels", out_channels()}, {"kernel", kernel()},
          {"stride", stride()},     {"padding", padding()}};
}

template <typename T>
Shape Conv2d<T>::output_shape(const Shape& sample_input) const {
  const std::string layer =
      fmt::format("conv2d layer ({} -> {} channels, kernel {}, stride {}, padding {})",
                  in_channels(), out_channels(), kernel(), stride(), padding());
  const bool positive = std::all_of(sample_input.begin(), sample_input.end(),
                                    [](int64_t side) { return side >= 1; });
  if (sample_input.size() != 3 || !positive) {
    throw Error(fmt::format("{} expects a sample of shape (C, H, W) but gets {}", layer,
                            shape_string(sample_input)));
  }
  if (sample_input[0] != in_channels()) {
    throw Error(fmt::format("{} expects {} input channels but gets a sample of shape {}; set "
                            "in_channels to {}",
                            layer, in_channels(), shape_string(sample_input), sample_input[0]));
  }
  const int64_t height = sample_input[1];
  const int64_t width = sample_input[2];
  if (std::min(height, width) + 2 * padding() < kernel()) {
    throw Error(fmt::format("{} gets a sample of shape {}, whose side plus twice the padding "
                            "is smaller than the kernel; use a smaller kernel or more padding",
                            layer, shape_string(sample_input)));
  }
  return {out_channels(), (height + 2 * padding() - kernel()) / stride() + 1,
          (width + 2 * padding() - kernel()) / stride() + 1};
}

template <typename T>
void Conv2d<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  run_forward(x, y, context, /*relu=*/false);
}

template <typename T>
void Conv2d<T>::forward_relu(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  run_forward(x, y, context, /*relu=*/true);
}

template <typename T>
void Conv2d<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  run_backward(dy, dx, context, /*relu=*/false);
}

template <typename T>
void Conv2d<T>::backward_relu(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  assert(output_ != nullptr);
  assert(dy.shape() == output_->shape());
  run_backward(dy, dx, context, /*relu=*/true);
}

// For each sample n: cols (C*k*k, Ho*Wo) = im2col(x_n), then
// Y_n (F, Ho*Wo) = W (F, C*k*k) cols + b, with b added to every column, and with relu
// Y_n = max(Y_n, 0).
template <typename T>
void Conv2d<T>::run_forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context,
                            bool relu) {
  assert(x.shape().size() == 4);
  assert(x.dim(1) == in_channels());
  input_ = &x;
  output_ = &y;
  const int64_t height = x.dim(2);
  const int64_t width = x.dim(3);
  assert(std::min(height, width) + 2 * padding() >= kernel());
  const Geometry g{in_channels(), height, width, kernel(), stride(), padding(),
                   (height + 2 * padding() - kernel()) / stride() + 1,
                   (width + 2 * padding() - kernel()) / stride() + 1};
  const int64_t n = x.dim(0);
  y.resize({n, out_channels(), g.out_height, g.out_width});
  const detail::ConvSizes sizes{g.channels, g.height,  g.width,      out_channels(), g.kernel,
                                g.stride,   g.padding, g.out_height, g.out_width};
  forward_ran_onednn_ =
      engine_ == ConvEngine::onednn && run_onednn_forward(x, y, context, relu, sizes);
  if (forward_ran_onednn_) return;

  const int64_t chunks = chunk_count(n, kConvChunkSamples);
  if (chunk_columns_.size() < static_cast<size_t>(chunks)) chunk_columns_.resize(chunks);

  const ConstMatrixMap<T> W = std::as_const(weights_).matrix();
  const auto b = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(bias_.data(),
                                                                        out_channels());
  context.pool->run(chunks, [&](int64_t chunk) {
    Tensor<T>& columns = chunk_columns_[static_cast<size_t>(chunk)];
    columns.resize({g.column_rows(), g.column_cols()});
    const auto cols = std::as_const(columns).matrix();
    const int64_t last = std::min(n, (chunk + 1) * kConvChunkSamples);
    for (int64_t sample = chunk * kConvChunkSamples; sample < last; ++sample) {
      im2col(x.data() + sample * g.input_size(), g, columns.data());
      MatrixMap<T> Y(y.data() + sample * out_channels() * g.column_cols(), out_channels(),
                     g.column_cols());
      Y.noalias() = W * cols;
      Y.colwise() += b;
      // A select, as in ReLU::forward, because cwiseMax(0) would return -0 for -0 and NaN
      // for NaN where ReLU returns 0.
      if (relu) {
        T* values = Y.data();
        for (int64_t i = 0; i < Y.size(); ++i) values[i] = values[i] > 0 ? values[i] : T(0);
      }
    }
  });
}

// For each sample n, with cols = im2col(x_n) rebuilt and dY_n (F, Ho*Wo), where with relu dY_n
// is first zeroed wherever the output Y_n is not positive:
//   dW (F, C*k*k) += dY_n cols^T,  db (F) += row sums of dY_n,
//   dX_n (C, H, W) = col2im(W^T dY_n).
// dW and db are summed per chunk of samples, then over chunks in order.
template <typename T>
void Conv2d<T>::run_backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context,
                             bool relu) {
  assert(input_ != nullptr);
  assert(input_->dim(0) >= 1);
  if (forward_ran_onednn_) {
    run_onednn_backward(dy, dx, context, relu);
    return;
  }
  const Tensor<T>& x = *input_;
  const Geometry g{in_channels(), x.dim(2), x.dim(3), kernel(), stride(), padding(),
                   dy.dim(2), dy.dim(3)};
  assert(dy.shape() == (Shape{x.dim(0), out_channels(), g.out_height, g.out_width}));
  const int64_t n = x.dim(0);
  const int64_t chunks = chunk_count(n, kConvChunkSamples);
  const int64_t fan_in = g.column_rows();
  const int64_t output_size = out_channels() * g.column_cols();
  if (chunk_columns_.size() < static_cast<size_t>(chunks)) chunk_columns_.resize(chunks);
  if (chunk_grads_.size() < static_cast<size_t>(chunks)) chunk_grads_.resize(chunks);
  if (relu && chunk_output_grads_.size() < static_cast<size_t>(chunks)) {
    chunk_output_grads_.resize(chunks);
  }
  if (dx != nullptr) dx->resize(x.shape());

  const ConstMatrixMap<T> W = std::as_const(weights_).matrix();
  context.pool->run(chunks, [&](int64_t chunk) {
    Tensor<T>& columns = chunk_columns_[static_cast<size_t>(chunk)];
    columns.resize({fan_in, g.column_cols()});
    auto cols = columns.matrix();
    Tensor<T>& partial = chunk_grads_[static_cast<size_t>(chunk)];
    partial.resize({out_channels(), fan_in + 1});  // dW | db
    partial.set_zero();
    auto P = partial.matrix();
    const int64_t last = std::min(n, (chunk + 1) * kConvChunkSamples);
    for (int64_t sample = chunk * kConvChunkSamples; sample < last; ++sample) {
      im2col(x.data() + sample * g.input_size(), g, columns.data());
      const T* output_grad = dy.data() + sample * output_size;
      if (relu) {
        Tensor<T>& masked = chunk_output_grads_[static_cast<size_t>(chunk)];
        masked.resize({out_channels(), g.column_cols()});
        const T* output = output_->data() + sample * output_size;
        T* masked_grad = masked.data();
        for (int64_t i = 0; i < output_size; ++i) {
          const T gradient = output_grad[i];
          masked_grad[i] = output[i] > 0 ? gradient : T(0);
        }
        output_grad = masked_grad;
      }
      const ConstMatrixMap<T> dY(output_grad, out_channels(), g.column_cols());
      P.leftCols(fan_in).noalias() += dY * cols.transpose();
      for (int64_t f = 0; f < out_channels(); ++f) {
        P(f, fan_in) += ordered_sum(dY.data() + f * g.column_cols(), g.column_cols());
      }
      if (dx != nullptr) {
        cols.noalias() = W.transpose() * dY;  // dcols, reusing the buffer
        col2im(columns.data(), g, dx->data() + sample * g.input_size());
      }
    }
  });

  // The sum over chunks, in chunk order for every element, split by filters across tasks.
  auto dW = weights_grad_.matrix();
  auto db = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(bias_grad_.data(), out_channels());
  context.pool->run(chunk_count(out_channels(), kConvReduceFilters), [&](int64_t task) {
    const int64_t first = task * kConvReduceFilters;
    const int64_t rows = std::min(kConvReduceFilters, out_channels() - first);
    const auto P0 = std::as_const(chunk_grads_[0]).matrix().middleRows(first, rows);
    dW.middleRows(first, rows) = P0.leftCols(fan_in);
    db.segment(first, rows) = P0.col(fan_in);
    for (int64_t chunk = 1; chunk < chunks; ++chunk) {
      const auto P =
          std::as_const(chunk_grads_[static_cast<size_t>(chunk)]).matrix().middleRows(first, rows);
      dW.middleRows(first, rows) += P.leftCols(fan_in);
      db.segment(first, rows) += P.col(fan_in);
    }
  });
}

template <typename T>
detail::OneDnnConvolution* Conv2d<T>::onednn_for(const detail::ConvSizes& sizes) {
  auto& convolution = onednn_.convolution;
  if (convolution && convolution->sizes() == sizes) return convolution.get();
  if (onednn_.unsupported == sizes) return nullptr;
  convolution = detail::OneDnnConvolution::create(sizes, kOneDnnChunkSamples);
  if (!convolution) onednn_.unsupported = sizes;
  return convolution.get();
}

template <typename T>
detail::ConvSizes Conv2d<T>::sizes_for(const Tensor<T>& x) const {
  assert(x.shape().size() == 4);
  const int64_t height = x.dim(2);
  const int64_t width = x.dim(3);
  return {in_channels(), height, width, out_channels(), kernel(), stride(), padding(),
          (height + 2 * padding() - kernel()) / stride() + 1,
          (width + 2 * padding() - kernel()) / stride() + 1};
}

template <typename T>
bool Conv2d<T>::forward_relu_pool(const Tensor<T>& x, Tensor<T>& z, const PassContext& context) {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
    assert(x.dim(1) == in_channels());
    if (engine_ != ConvEngine::onednn) return false;
    const detail::ConvSizes sizes = sizes_for(x);
    detail::OneDnnConvolution* convolution = onednn_for(sizes);
    if (convolution == nullptr || !convolution->can_pool()) return false;
    const int64_t n = x.dim(0);
    if (!convolution->begin_forward(n, weights_.data())) return false;
    input_ = &x;
    output_ = nullptr;
    forward_ran_onednn_ = true;
    const int64_t pooled_height = sizes.out_height / 2;
    const int64_t pooled_width = sizes.out_width / 2;
    z.resize({n, out_channels(), pooled_height, pooled_width});
    const int64_t input_size = sizes.channels * sizes.height * sizes.width;
    const int64_t pooled_size = out_channels() * pooled_height * pooled_width;
    context.pool->run(chunk_count(n, kOneDnnChunkSamples), [&](int64_t chunk) {
      const int64_t first = chunk * kOneDnnChunkSamples;
      convolution->forward_pool_chunk(chunk, x.data() + first * input_size, bias_.data(),
                                      z.data() + first * pooled_size);
    });
    return true;
  }
}

template <typename T>
void Conv2d<T>::backward_relu_pool(const Tensor<T>& dz, Tensor<T>* dx,
                                   const PassContext& context) {
  if constexpr (std::is_same_v<T, float>) {
    assert(forward_ran_onednn_);
    assert(input_ != nullptr);
    detail::OneDnnConvolution& convolution = *onednn_.convolution;
    const detail::ConvSizes& sizes = convolution.sizes();
    const int64_t n = input_->dim(0);
    const int64_t pooled_height = sizes.out_height / 2;
    const int64_t pooled_width = sizes.out_width / 2;
    assert(dz.shape() == (Shape{n, sizes.filters, pooled_height, pooled_width}));
    if (dx != nullptr) dx->resize(input_->shape());
    convolution.begin_backward(weights_.data());
    const int64_t input_size = sizes.channels * sizes.height * sizes.width;
    const int64_t pooled_size = sizes.filters * pooled_height * pooled_width;
    context.pool->run(chunk_count(n, kOneDnnChunkSamples), [&](int64_t chunk) {
      const int64_t first = chunk * kOneDnnChunkSamples;
      convolution.backward_pool_chunk(chunk, dz.data() + first * pooled_size,
                                      dx != nullptr ? dx->data() + first * input_size : nullptr);
    });
    convolution.finish_backward(weights_grad_.data(), bias_grad_.data());
  } else {
    assert(false);  // forward_relu_pool() returns false for float64, so this never runs
  }
}

template <typename T>
void Conv2d<T>::relu_output(Tensor<T>& y, const PassContext& context) {
  if constexpr (std::is_same_v<T, float>) {
    assert(forward_ran_onednn_);
    assert(input_ != nullptr);
    detail::OneDnnConvolution& convolution = *onednn_.convolution;
    const detail::ConvSizes& sizes = convolution.sizes();
    const int64_t n = input_->dim(0);
    y.resize({n, sizes.filters, sizes.out_height, sizes.out_width});
    const int64_t output_size = sizes.filters * sizes.out_height * sizes.out_width;
    context.pool->run(chunk_count(n, kOneDnnChunkSamples), [&](int64_t chunk) {
      convolution.relu_output_chunk(chunk, y.data() + chunk * kOneDnnChunkSamples * output_size);
    });
    output_ = &y;
  } else {
    assert(false);  // forward_relu_pool() returns false for float64, so this never runs
  }
}

template <typename T>
bool Conv2d<T>::run_onednn_forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context,
                                   bool relu, const detail::ConvSizes& sizes) {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
    detail::OneDnnConvolution* convolution = onednn_for(sizes);
    if (convolution == nullptr) return false;
    const int64_t n = x.dim(0);
    if (!convolution->begin_forward(n, weights_.data())) return false;
    const int64_t input_size = sizes.channels * sizes.height * sizes.width;
    const int64_t output_size = sizes.filters * sizes.out_height * sizes.out_width;
    context.pool->run(chunk_count(n, kOneDnnChunkSamples), [&](int64_t chunk) {
      const int64_t first = chunk * kOneDnnChunkSamples;
      convolution->forward_chunk(chunk, x.data() + first * input_size, bias_.data(),
                                 y.data() + first * output_size, relu);
    });
    return true;
  }
}

template <typename T>
void Conv2d<T>::run_onednn_backward(const Tensor<T>& dy, Tensor<T>* dx,
                                    const PassContext& context, bool relu) {
  if constexpr (std::is_same_v<T, float>) {
    detail::OneDnnConvolution& convolution = *onednn_.convolution;
    const detail::ConvSizes& sizes = convolution.sizes();
    const int64_t n = input_->dim(0);
    assert(dy.shape() == (Shape{n, sizes.filters, sizes.out_height, sizes.out_width}));
    if (dx != nullptr) dx->resize(input_->shape());
    convolution.begin_backward(weights_.data());
    const int64_t input_size = sizes.channels * sizes.height * sizes.width;
    const int64_t output_size = sizes.filters * sizes.out_height * sizes.out_width;
    context.pool->run(chunk_count(n, kOneDnnChunkSamples), [&](int64_t chunk) {
      const int64_t first = chunk * kOneDnnChunkSamples;
      convolution.backward_chunk(chunk, dy.data() + first * output_size,
                                 relu ? output_->data() + first * output_size : nullptr,
                                 dx != nullptr ? dx->data() + first * input_size : nullptr);
    });
    convolution.finish_backward(weights_grad_.data(), bias_grad_.data());
  }
}

template <typename T>
std::vector<Parameter<T>> Conv2d<T>::parameters() {
  return {{"W", &weights_, &weights_grad_, true}, {"b", &bias_, &bias_grad_, false}};
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace felis
