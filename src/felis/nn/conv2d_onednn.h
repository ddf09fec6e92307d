// OneDnnConvolution: Conv2d's float32 passes on oneDNN's CPU convolution kernels (Debian
// package libdnnl-dev, oneDNN 2.6), one chunk of samples per call on the calling thread.
//
// Legend: n samples in a chunk, C input channels, H x W input pixels, F filters, k kernel
// side, Ho x Wo output pixels. Conv2d's tensors are NCHW. Inside, an activation with a
// multiple of 16 channels is stored in oneDNN's nChw16c layout, (n, C/16, H, W, 16),
// because its AVX-512 kernels read that. Other activations stay NCHW.
//
// Why: on the Fashion-MNIST CNN at batch 64 on one Zen 4 core, conv2's forward and
// backward passes took 6.6 ms with oneDNN and 13.9 ms with im2col and Eigen products.
// conv1's took 1.1 and 2.2 ms (felis_bench conv_forward and conv_backward, /conv*_relu).
//
// Each chunk has a slot that keeps its packed input from forward for backward, and its
// own scratch memory, so different chunks can run at the same time on different threads.
// Chunks of one pass must have the same sample count, except the last, which may be
// shorter. A chunk's results do not depend on which thread runs it or on the other chunks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace felis::detail {

// The sizes of one convolution, without the sample count.
struct ConvSizes {
  int64_t channels;    // C
  int64_t height;      // H
  int64_t width;       // W
  int64_t filters;     // F
  int64_t kernel;      // k
  int64_t stride;      // s
  int64_t padding;     // p
  int64_t out_height;  // Ho
  int64_t out_width;   // Wo

  bool operator==(const ConvSizes&) const = default;
};

class OneDnnConvolution {
public:
  // Returns null when oneDNN has no CPU kernel for these sizes and chunks of up to
  // `chunk_samples` samples; the caller then keeps its own path.
  static std::unique_ptr<OneDnnConvolution> create(const ConvSizes& sizes,
                                                   int64_t chunk_samples);
  ~OneDnnConvolution();

  const ConvSizes& sizes() const { return sizes_; }

  // Prepares a forward pass of `samples` samples: builds the kernels for the chunk sizes
  // it needs and copies W (F, C, k, k) into the forward kernels' layout. Call it on one
  // thread, before forward_chunk(). Returns false, and the pass must not run, when
  // oneDNN has no kernel for the shorter last chunk.
  bool begin_forward(int64_t samples, const float* W);

  // y (n, F, Ho, Wo) = conv(x (n, C, H, W)) + b for chunk number `chunk`, with
  // y = max(y, 0) when relu is set. Keeps x in the chunk's slot for backward_chunk().
  void forward_chunk(int64_t chunk, const float* x, const float* b, float* y, bool relu);

  // Prepares the backward pass of the last forward: copies W (F, C, k, k) into the
  // backward-data kernels' layout. Call it on one thread, before backward_chunk().
  void begin_backward(const float* W);

  // From dy (n, F, Ho, Wo) of chunk `chunk`: the chunk's dW and db, kept in its slot, and
  // dx (n, C, H, W) when dx is not null. With relu_output not null, dy is first zeroed
  // where relu_output (n, F, Ho, Wo), the forward's output after its ReLU, is not positive.
  void backward_chunk(int64_t chunk, const float* dy, const float* relu_output, float* dx);

  // Writes dW (F, C, k, k) and db (F), the sums of the chunks' parts in chunk order.
  void finish_backward(float* dW, float* db);

  // Whether the *_pool_chunk() passes can run: F is a multiple of 16 and Ho, Wo >= 2.
  bool can_pool() const;

  // z (n, F, Hp, Wp) = the maximum of each 2 x 2 window, of stride 2, of
  // max(conv(x) + b, 0), with Hp = Ho / 2 and Wp = Wo / 2 (integer division): the values
  // of forward_chunk() with relu and then MaxPool2d(2, 2). Requires can_pool(). Keeps x
  // and conv(x) + b in the chunk's slot for backward_pool_chunk() and relu_output_chunk().
  void forward_pool_chunk(int64_t chunk, const float* x, const float* b, float* z);

  // Writes y (n, F, Ho, Wo) = max(conv(x) + b, 0) of the chunk's last forward_pool_chunk().
  // Valid until the chunk's next backward pass.
  void relu_output_chunk(int64_t chunk, float* y);

  // The backward pass of forward_pool_chunk() from dz (n, F, Hp, Wp). Each value of dz
  // goes to the first maximum of its window in row-major order, as in MaxPool2d, and is
  // zeroed where that maximum is not positive, as in the ReLU. The rest is backward_chunk().
  void backward_pool_chunk(int64_t chunk, const float* dz, float* dx);

private:
  struct Engine;
  struct Kernels;
  struct Slot;

  explicit OneDnnConvolution(const ConvSizes& sizes);
  Kernels& kernels_for(int64_t samples);
  int64_t chunk_size(int64_t chunk) const;
  // Packs x into the chunk's slot and runs the forward kernel. Returns the slot's output
  // buffer, which then contains conv(x) + b packed.
  float* run_forward_kernel(int64_t chunk, const float* x, const float* b);
  // The kernel passes of backward_chunk() once the slot's output buffer contains dy packed.
  void run_backward_kernels(int64_t chunk, float* dx);

  ConvSizes sizes_;
  std::unique_ptr<Engine> engine_;
  int64_t chunk_samples_ = 0;
  int64_t samples_ = 0;  // of the last forward
  std::map<int64_t, std::unique_ptr<Kernels>> kernels_;  // by chunk sample count
  std::vector<std::unique_ptr<Slot>> slots_;             // by chunk number
};

}  // namespace felis::detail
