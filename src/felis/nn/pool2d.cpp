#include "felis/nn/pool2d.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>

namespace felis {
namespace {

// The sizes of one pooling over one sample.
struct Geometry {
  int64_t channels;    // C
  int64_t height;      // H
  int64_t width;       // W
  int64_t kernel;      // k
  int64_t stride;      // s
  int64_t out_height;  // Ho
  int64_t out_width;   // Wo

  int64_t input_size() const { return channels * height * width; }
  int64_t output_size() const { return channels * out_height * out_width; }
};

Geometry geometry_of(const Shape& input, int64_t kernel, int64_t stride) {
  assert(input.size() == 4);
  assert(std::min(input[2], input[3]) >= kernel);
  return {input[1], input[2], input[3], kernel, stride, (input[2] - kernel) / stride + 1,
          (input[3] - kernel) / stride + 1};
}

std::string shape_string(const Shape& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + ")";
}

// The output shape of either pooling layer; `type` is its config type, for messages.
Shape pooled_shape(const Shape& sample_input, const char* type, int64_t kernel,
                   int64_t stride) {
  const std::string layer = fmt::format("{} layer (kernel {}, stride {})", type, kernel, stride);
  const bool positive = std::all_of(sample_input.begin(), sample_input.end(),
                                    [](int64_t side) { return side >= 1; });
  if (sample_input.size() != 3 || !positive) {
    throw Error(fmt::format("{} expects a sample of shape (C, H, W) but gets {}", layer,
                            shape_string(sample_input)));
  }
  if (std::min(sample_input[1], sample_input[2]) < kernel) {
    throw Error(fmt::format("{} gets a sample of shape {}, whose side is smaller than the "
                            "kernel; use a smaller kernel or a larger input",
                            layer, shape_string(sample_input)));
  }
  return {sample_input[0], (sample_input[1] - kernel) / stride + 1,
          (sample_input[2] - kernel) / stride + 1};
}

int64_t read_integer(const nlohmann::json& config, const char* type, const char* key) {
  if (!config.contains(key) || !config[key].is_number_integer()) {
    throw Error(fmt::format("{} layer {} has no integer '{}'", type,
                            config.dump().substr(0, 200), key));
  }
  const auto value = config[key].get<int64_t>();
  if (value < 1 || value > kMaxPoolKernel) {
    throw Error(fmt::format("{} layer {}: '{}' is {}, expected 1 to {}", type,
                            config.dump().substr(0, 200), key, value, kMaxPoolKernel));
  }
  return value;
}

}  // namespace

// ---- MaxPool2d ----

template <typename T>
MaxPool2d<T>::MaxPool2d(int64_t kernel, int64_t stride) : kernel_(kernel), stride_(stride) {
  assert(kernel >= 1);
  assert(stride >= 1);
}

template <typename T>
std::unique_ptr<Layer<T>> MaxPool2d<T>::from_config(const nlohmann::json& config) {
  return std::make_unique<MaxPool2d<T>>(read_integer(config, "maxpool", "kernel"),
                                        read_integer(config, "maxpool", "stride"));
}

template <typename T>
nlohmann::json MaxPool2d<T>::config() const {
  return {{"type", "maxpool"}, {"kernel", kernel_}, {"stride", stride_}};
}

template <typename T>
Shape MaxPool2d<T>::output_shape(const Shape& sample_input) const {
  const Shape output = pooled_shape(sample_input, "maxpool", kernel_, stride_);
  if (element_count(sample_input) > kMaxMaxPoolSampleSize) {
    throw Error(fmt::format("maxpool layer gets a sample of shape {} with more than {} values; "
                            "use a smaller input",
                            shape_string(sample_input), kMaxMaxPoolSampleSize));
  }
  return output;
}

namespace {

// The common 2x2 window of stride 2 for one sample. It runs on blocks of output rows in
// two passes: the larger pixel of each column of a window, then the larger of a window's
// two columns. Each pass is a loop of independent selects, which GCC 12 vectorizes, while
// chained selects in one loop stay scalar branches. The first maximum in row-major order
// wins, as in the general loop: on a tie between the columns, the one whose pixel comes
// first.
// NOTE: with a NaN in a window the choice can differ from the general loop's.
template <typename T>
void max_pool_2x2(const T* in, const Geometry& g, T* out, int32_t* where) {
  constexpr int64_t kBlockValues = 256;
  std::array<T, kBlockValues> column_max;        // (rows, 2 Wo) per block
  std::array<int32_t, kBlockValues> column_arg;  // index in the sample of each column_max
  const int64_t rows = g.channels * g.out_height;
  const int64_t block_rows = std::max<int64_t>(1, kBlockValues / (2 * g.out_width));
  for (int64_t first_row = 0; first_row < rows; first_row += block_rows) {
    const int64_t row_count = std::min(block_rows, rows - first_row);
    // Pass 1, per output row r = (c, i): the upper or lower pixel of each column.
    for (int64_t r = 0; r < row_count; ++r) {
      const int64_t c = (first_row + r) / g.out_height;
      const int64_t i = (first_row + r) % g.out_height;
      const auto top = static_cast<int32_t>((c * g.height + 2 * i) * g.width);
      const auto width = static_cast<int32_t>(g.width);
      const T* upper = in + top;
      const T* lower = upper + width;
      T* values = column_max.data() + r * 2 * g.out_width;
      int32_t* indices = column_arg.data() + r * 2 * g.out_width;
      for (int32_t j = 0; j < static_cast<int32_t>(2 * g.out_width); ++j) {
        const T a = upper[j];
        const T b = lower[j];
        values[j] = b > a ? b : a;
        indices[j] = b > a ? top + width + j : top + j;
      }
    }
    // Pass 2, over the block's windows in order: the left or right column.
    const auto count = static_cast<int32_t>(row_count * g.out_width);
    const T* values = column_max.data();
    const int32_t* indices = column_arg.data();
    for (int32_t k = 0; k < count; ++k) {
      const T left = values[2 * k];
      const T right = values[2 * k + 1];
      const int32_t left_arg = indices[2 * k];
      const int32_t right_arg = indices[2 * k + 1];
      // Bitwise operators, because && and || would be branches that block vectorizing.
      const bool take_right = (right > left) | ((right == left) & (right_arg < left_arg));
      out[k] = take_right ? right : left;
      where[k] = take_right ? right_arg : left_arg;
    }
    out += count;
    where += count;
  }
}

// The backward pass of max_pool_2x2: each window's four pixels are written once, its
// gradient at the maximum and zero elsewhere, in one pass over the image instead of a
// fill of the whole image and a scatter. A last column or row that no window covers (odd
// W or H) gets zeros.
template <typename T>
void unpool_2x2(const T* grad, const int32_t* where, const Geometry& g, T* out) {
  for (int64_t c = 0; c < g.channels; ++c) {
    T* plane = out + c * g.height * g.width;
    for (int64_t i = 0; i < g.out_height; ++i) {
      std::fill(plane + 2 * i * g.width, plane + (2 * i + 2) * g.width, T(0));
      for (int64_t j = 0; j < g.out_width; ++j) out[where[j]] = grad[j];
      grad += g.out_width;
      where += g.out_width;
    }
    std::fill(plane + 2 * g.out_height * g.width, plane + g.height * g.width, T(0));
  }
}

}  // namespace

template <typename T>
void MaxPool2d<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  input_shape_ = x.shape();
  const Geometry g = geometry_of(input_shape_, kernel_, stride_);
  const int64_t n = x.dim(0);
  y.resize({n, g.channels, g.out_height, g.out_width});
  assert(g.input_size() <= kMaxMaxPoolSampleSize);
  argmax_.resize(static_cast<size_t>(y.size()));

  context.pool->run(chunk_count(n, kPoolChunkSamples), [&](int64_t chunk) {
    const int64_t last = std::min(n, (chunk + 1) * kPoolChunkSamples);
    for (int64_t sample = chunk * kPoolChunkSamples; sample < last; ++sample) {
      const T* in = x.data() + sample * g.input_size();
      T* out = y.data() + sample * g.output_size();
      int32_t* where = argmax_.data() + sample * g.output_size();
      if (g.kernel == 2 && g.stride == 2) {
        max_pool_2x2(in, g, out, where);
        continue;
      }
      for (int64_t c = 0; c < g.channels; ++c) {
        for (int64_t i = 0; i < g.out_height; ++i) {
          for (int64_t j = 0; j < g.out_width; ++j) {
            // Start from the window's first pixel and replace only on a strictly larger
            // value, so the first maximum wins ties.
            auto best = static_cast<int32_t>((c * g.height + i * g.stride) * g.width + j * g.stride);
            for (int64_t u = 0; u < g.kernel; ++u) {
              const auto row =
                  static_cast<int32_t>((c * g.height + i * g.stride + u) * g.width + j * g.stride);
              for (int32_t v = 0; v < static_cast<int32_t>(g.kernel); ++v) {
                if (in[row + v] > in[best]) best = row + v;
              }
            }
            *out++ = in[best];
            *where++ = best;
          }
        }
      }
    }
  });
}

template <typename T>
void MaxPool2d<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  if (dx == nullptr) return;
  const Geometry g = geometry_of(input_shape_, kernel_, stride_);
  const int64_t n = input_shape_[0];
  assert(dy.size() == n * g.output_size());
  dx->resize(input_shape_);

  context.pool->run(chunk_count(n, kPoolChunkSamples), [&](int64_t chunk) {
    const int64_t last = std::min(n, (chunk + 1) * kPoolChunkSamples);
    for (int64_t sample = chunk * kPoolChunkSamples; sample < last; ++sample) {
      T* out = dx->data() + sample * g.input_size();
      const T* grad = dy.data() + sample * g.output_size();
      const int32_t* where = argmax_.data() + sample * g.output_size();
      if (g.kernel == 2 && g.stride == 2) {
        unpool_2x2(grad, where, g, out);
        continue;
      }
      std::fill(out, out + g.input_size(), T(0));
      // Windows overlap when s < k, so one pixel may collect several gradients.
      for (int64_t o = 0; o < g.output_size(); ++o) out[where[o]] += grad[o];
    }
  });
}

// ---- AvgPool2d ----

template <typename T>
AvgPool2d<T>::AvgPool2d(int64_t kernel, int64_t stride) : kernel_(kernel), stride_(stride) {
  assert(kernel >= 1);
  assert(stride >= 1);
}

template <typename T>
std::unique_ptr<Layer<T>> AvgPool2d<T>::from_config(const nlohmann::json& config) {
  return std::make_unique<AvgPool2d<T>>(read_integer(config, "avgpool", "kernel"),
                                        read_integer(config, "avgpool", "stride"));
}

template <typename T>
nlohmann::json AvgPool2d<T>::config() const {
  return {{"type", "avgpool"}, {"kernel", kernel_}, {"stride", stride_}};
}

template <typename T>
Shape AvgPool2d<T>::output_shape(const Shape& sample_input) const {
  return pooled_shape(sample_input, "avgpool", kernel_, stride_);
}

template <typename T>
void AvgPool2d<T>::forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) {
  input_shape_ = x.shape();
  const Geometry g = geometry_of(input_shape_, kernel_, stride_);
  const int64_t n = x.dim(0);
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  y.resize({n, g.channels, g.out_height, g.out_width});

  context.pool->run(chunk_count(n, kPoolChunkSamples), [&](int64_t chunk) {
    const int64_t last = std::min(n, (chunk + 1) * kPoolChunkSamples);
    for (int64_t sample = chunk * kPoolChunkSamples; sample < last; ++sample) {
      const T* in = x.data() + sample * g.input_size();
      T* out = y.data() + sample * g.output_size();
      for (int64_t c = 0; c < g.channels; ++c) {
        for (int64_t i = 0; i < g.out_height; ++i) {
          for (int64_t j = 0; j < g.out_width; ++j) {
            T sum = 0;
            for (int64_t u = 0; u < g.kernel; ++u) {
              const T* row = in + (c * g.height + i * g.stride + u) * g.width + j * g.stride;
              for (int64_t v = 0; v < g.kernel; ++v) sum += row[v];
            }
            *out++ = sum * scale;
          }
        }
      }
    }
  });
}

template <typename T>
void AvgPool2d<T>::backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) {
  if (dx == nullptr) return;
  const Geometry g = geometry_of(input_shape_, kernel_, stride_);
  const int64_t n = input_shape_[0];
  assert(dy.size() == n * g.output_size());
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  dx->resize(input_shape_);

  context.pool->run(chunk_count(n, kPoolChunkSamples), [&](int64_t chunk) {
    const int64_t last = std::min(n, (chunk + 1) * kPoolChunkSamples);
    for (int64_t sample = chunk * kPoolChunkSamples; sample < last; ++sample) {
      T* out = dx->data() + sample * g.input_size();
      const T* grad = dy.data() + sample * g.output_size();
      std::fill(out, out + g.input_size(), T(0));
      for (int64_t c = 0; c < g.channels; ++c) {
        for (int64_t i = 0; i < g.out_height; ++i) {
          for (int64_t j = 0; j < g.out_width; ++j) {
            const T share = *grad++ * scale;
            for (int64_t u = 0; u < g.kernel; ++u) {
              T* row = out + (c * g.height + i * g.stride + u) * g.width + j * g.stride;
              for (int64_t v = 0; v < g.kernel; ++v) row[v] += share;
            }
          }
        }
      }
    }
  });
}

template class MaxPool2d<float>;
template class MaxPool2d<double>;
template class AvgPool2d<float>;
template class AvgPool2d<double>;

}  // namespace felis
