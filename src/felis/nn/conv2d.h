// Conv2d: a 2-D convolution (cross-correlation, as in most frameworks) with square
// kernels, a stride and zero padding.
//
// Legend: N samples, C input channels, H x W input pixels, F filters (output channels),
// k kernel side, s stride, p zero padding on every side, Ho x Wo output pixels with
// Ho = (H + 2p - k) / s + 1 and Wo = (W + 2p - k) / s + 1 (integer division).
//
//   y[n, f, i, j] = b[f] + sum over c, u, v of W[f, c, u, v] * x[n, c, i*s - p + u, j*s - p + v]
//
// where x reads as zero outside the H x W image.
#pragma once

#include "felis/nn/conv2d_onednn.h"
#include "felis/nn/layer.h"

#include <memory>
#include <optional>

namespace felis {

// The implementation of a float32 Conv2d's passes.
enum class ConvEngine {
  onednn,  // oneDNN's CPU convolution kernels, in chunks of kOneDnnChunkSamples samples
  im2col,  // im2col and Eigen matrix products per sample, the float64 layers' only engine
};

template <typename T>
class Conv2d final : public Layer<T> {
public:
  // Weights and bias start at zero. Requires every argument >= 1 except padding >= 0.
  // from_config() checks values that come from a file.
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
         int64_t padding);

  // Builds the layer that config() describes. Throws felis::Error naming the field when
  // one is missing, not an integer or out of range (channels 1 to kMaxConvChannels,
  // kernel, stride and padding up to kMaxConvKernel, padding from 0, the others from 1).
  // NOTE: it does not bound the weight count F*C*k*k, which can reach 2^44. A caller
  // that reads an untrusted file checks that count against its own limit first.
  static std::unique_ptr<Layer<T>> from_config(const nlohmann::json& config);

  // {"type": "conv2d", "in_channels", "out_channels", "kernel", "stride", "padding"}.
  nlohmann::json config() const override;

  // (F, Ho, Wo) for a sample (C, H, W). Throws felis::Error when the sample is not 3-D,
  // has another channel count than in_channels(), or Ho or Wo would be below 1.
  Shape output_shape(const Shape& sample_input) const override;

  // y (N, F, Ho, Wo) from x (N, C, H, W). Keeps pointers to x and y for backward().
  void forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context) override;
  // Sets dW and db from dy (N, F, Ho, Wo), and dx (N, C, H, W) when dx is not null.
  void backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context) override;

  // The layer followed by a ReLU in one pass: y = max(conv(x), 0), the same values as
  // forward() and then ReLU::forward(), without a second pass over y.
  void forward_relu(const Tensor<T>& x, Tensor<T>& y, const PassContext& context);
  // The backward pass of forward_relu(): dy is the gradient at the ReLU's output, and is
  // zeroed where y is not positive, as ReLU::backward() does, before backward() uses it.
  // Requires forward_relu() of the same batch before it, and y still alive.
  void backward_relu(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context);

  // The layer, its ReLU and a MaxPool2d(2, 2) in one pass: z = maxpool(max(conv(x), 0)),
  // the same values as forward_relu() and then MaxPool2d::forward(), without writing the
  // ReLU's output. Returns false, with nothing done, unless the oneDNN engine runs the
  // layer and F is a multiple of 16; the caller then runs the layers one by one.
  bool forward_relu_pool(const Tensor<T>& x, Tensor<T>& z, const PassContext& context);
  // The backward pass of forward_relu_pool() from dz, the gradient at the pool's output:
  // the same dW, db and dx as MaxPool2d::backward() and then backward_relu(). Requires
  // forward_relu_pool() of the same batch before it, and x still alive.
  void backward_relu_pool(const Tensor<T>& dz, Tensor<T>* dx, const PassContext& context);
  // Writes y (N, F, Ho, Wo), the ReLU's output of the last forward_relu_pool(), and makes
  // backward_relu() the backward pass that follows, for callers that need the gradient
  // at every layer. Requires forward_relu_pool() before it, and no backward pass between.
  void relu_output(Tensor<T>& y, const PassContext& context);

  std::vector<Parameter<T>> parameters() override;

  // Selects the engine of the float32 passes; oneDNN is the default. float64 layers, and
  // sizes that oneDNN has no kernel for, use im2col whatever is set. Results differ
  // between the engines by rounding only.
  void set_engine(ConvEngine engine) { engine_ = engine; }
  ConvEngine engine() const { return engine_; }

  int64_t in_channels() const { return weights_.dim(1); }
  int64_t out_channels() const { return weights_.dim(0); }
  int64_t kernel() const { return weights_.dim(2); }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return padding_; }

private:
  void run_forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context, bool relu);
  void run_backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context, bool relu);
  // The oneDNN convolution for these sizes, or null when oneDNN has no kernel for them.
  detail::OneDnnConvolution* onednn_for(const detail::ConvSizes& sizes);
  // The sizes of a forward pass on x.
  detail::ConvSizes sizes_for(const Tensor<T>& x) const;
  // The oneDNN forward pass; false, with nothing done, when it cannot run on these sizes.
  bool run_onednn_forward(const Tensor<T>& x, Tensor<T>& y, const PassContext& context,
                          bool relu, const detail::ConvSizes& sizes);
  void run_onednn_backward(const Tensor<T>& dy, Tensor<T>* dx, const PassContext& context,
                           bool relu);

  // oneDNN's kernels and buffers for the last input size: a cache, so a copy of the layer
  // starts without one.
  struct OneDnnCache {
    OneDnnCache() = default;
    OneDnnCache(const OneDnnCache&) {}
    OneDnnCache& operator=(const OneDnnCache&) {
      convolution.reset();
      unsupported.reset();
      return *this;
    }
    OneDnnCache(OneDnnCache&&) = default;
    OneDnnCache& operator=(OneDnnCache&&) = default;

    std::unique_ptr<detail::OneDnnConvolution> convolution;
    std::optional<detail::ConvSizes> unsupported;  // the last sizes without a oneDNN kernel
  };

  int64_t stride_;
  int64_t padding_;
  Tensor<T> weights_;       // W (F, C, k, k), read as an (F, C*k*k) matrix
  Tensor<T> bias_;          // b (F)
  Tensor<T> weights_grad_;  // dW (F, C, k, k)
  Tensor<T> bias_grad_;     // db (F)

  // x (N, C, H, W) and y (N, F, Ho, Wo), cached by forward for backward. Backward
  // rebuilds the column matrices from x instead of caching them, because they take
  // N*C*k*k*Ho*Wo values, about k^2 / s^2 times the input. Caching them for the CNN
  // presets (10 MB at batch 64) made no measurable difference to a training step.
  const Tensor<T>* input_ = nullptr;
  const Tensor<T>* output_ = nullptr;

  ConvEngine engine_ = ConvEngine::onednn;
  OneDnnCache onednn_;
  bool forward_ran_onednn_ = false;  // which engine backward() must use

  // Scratch per chunk of samples, kept across batches so that a batch allocates nothing.
  std::vector<Tensor<T>> chunk_columns_;       // (C*k*k, Ho*Wo) im2col of one sample, then dcols
  std::vector<Tensor<T>> chunk_grads_;         // (F, C*k*k + 1) partial dW | db, summed in order
  std::vector<Tensor<T>> chunk_output_grads_;  // (F, Ho*Wo) dy of one sample after the ReLU mask
};

// Samples per task in Conv2d's parallel loops. Fixed, so that the sums of dW and db over
// chunks, and with them the results, do not depend on the number of threads.
// NOTE: chosen to keep two threads busy on batches of 32 to 64, and not tuned further.
inline constexpr int64_t kConvChunkSamples = 4;

// Samples per task of the oneDNN engine, fixed for the same reason. oneDNN's kernels run
// one task each on one thread; Conv2d splits the batch itself, so that dW and db are
// summed in the same order with any thread count.
// NOTE: with 16, conv2's Winograd kernels reached 190 GFLOP/s on one Zen 4 core, and a
// batch of 64 makes 4 tasks for two threads. Other batches and thread counts are untuned.
inline constexpr int64_t kOneDnnChunkSamples = 16;

// Filters per task when Conv2d::backward sums the chunks' partial gradients. Every
// element is summed in chunk order whatever the split, so this sets only the task size.
inline constexpr int64_t kConvReduceFilters = 8;

// Bounds that Conv2d::from_config accepts.
inline constexpr int64_t kMaxConvChannels = 65536;
inline constexpr int64_t kMaxConvKernel = 64;

}  // namespace felis
