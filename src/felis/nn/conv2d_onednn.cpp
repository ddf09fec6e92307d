#include "felis/nn/conv2d_onednn.h"

#include <oneapi/dnnl/dnnl.hpp>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cassert>
#include <unordered_map>

// From the OpenMP runtime that oneDNN links (GCC's libgomp). Declared here rather than
// through <omp.h>, which clang finds only with LLVM's runtime installed.
extern "C" void omp_set_num_threads(int threads);

namespace felis::detail {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// Channels per block of the nChw16c layout.
constexpr int64_t kBlock = 16;

// The algorithm tried first for each pass. Direct convolution is the fallback for sizes
// that have no Winograd kernel, such as a stride above 1 or a kernel other than 3 x 3.
// On 16 samples of conv2 on one Zen 4 core, oneDNN 2.6's Winograd F(4x4, 3x3) took
// 0.37 ms for the forward pass and 0.36 ms for the weight gradient, against 0.62 and
// 0.73 ms for its direct kernels. The data gradient took 0.64 ms with either, so it stays
// direct, which rounds less.
constexpr dnnl::algorithm kForwardAlgorithm = dnnl::algorithm::convolution_winograd;
constexpr dnnl::algorithm kDataAlgorithm = dnnl::algorithm::convolution_direct;
constexpr dnnl::algorithm kWeightsAlgorithm = dnnl::algorithm::convolution_winograd;

bool is_blocked(int64_t channels) { return channels % kBlock == 0; }

Tag activation_tag(int64_t channels) { return is_blocked(channels) ? Tag::nChw16c : Tag::nchw; }

// The oneDNN kernels run on the calling thread. oneDNN sizes its OpenMP teams by
// omp_get_max_threads() both when it builds a kernel and when it runs one, so every
// thread that does either sets it to 1 first. felis itself uses no OpenMP.
void use_calling_thread_only() { omp_set_num_threads(1); }

#ifdef __AVX512F__
// Transposes the 16 x 16 matrix whose rows are r[0] to r[15], in place.
inline void transpose_16x16(__m512 r[kBlock]) {
  __m512 t[kBlock];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xDD);
    }
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
  }
}

// v where keep > 0, else 0, as the scalar selects below: NaN and -0 in keep give 0.
inline __m512 select_positive(__m512 keep, __m512 v) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(keep, _mm512_setzero_ps(), _CMP_GT_OQ), v);
}
#endif

// One block of pack(): source (16, P) with rows P apart into target (P, 16), zeroing
// where keep (16, P) is not positive when keep is not null.
void pack_block(const float* source, const float* keep, int64_t pixels, float* target) {
  int64_t first = 0;
#ifdef __AVX512F__
  // 16 x 16 tiles in registers. With scalar loops, conv1's forward pass at batch 64 took
  // 1.19 ms on one Zen 4 core instead of 0.46 ms.
  for (; first + kBlock <= pixels; first += kBlock) {
    __m512 rows[kBlock];
    for (int64_t c = 0; c < kBlock; ++c) {
      rows[c] = _mm512_loadu_ps(source + c * pixels + first);
      if (keep != nullptr) rows[c] = select_positive(_mm512_loadu_ps(keep + c * pixels + first), rows[c]);
    }
    transpose_16x16(rows);
    for (int64_t p = 0; p < kBlock; ++p) _mm512_storeu_ps(target + (first + p) * kBlock, rows[p]);
  }
#endif
  for (int64_t c = 0; c < kBlock; ++c) {
    for (int64_t p = first; p < pixels; ++p) {
      const int64_t i = c * pixels + p;
      const bool kept = keep == nullptr || keep[i] > 0;
      target[p * kBlock + c] = kept ? source[i] : 0.0f;
    }
  }
}

// One block of unpack(): source (P, 16) into target (16, P) with rows P apart.
void unpack_block(const float* source, int64_t pixels, bool relu, float* target) {
  int64_t first = 0;
#ifdef __AVX512F__
  for (; first + kBlock <= pixels; first += kBlock) {
    __m512 rows[kBlock];
    for (int64_t p = 0; p < kBlock; ++p) rows[p] = _mm512_loadu_ps(source + (first + p) * kBlock);
    transpose_16x16(rows);
    for (int64_t c = 0; c < kBlock; ++c) {
      const __m512 row = relu ? select_positive(rows[c], rows[c]) : rows[c];
      _mm512_storeu_ps(target + c * pixels + first, row);
    }
  }
#endif
  for (int64_t c = 0; c < kBlock; ++c) {
    for (int64_t p = first; p < pixels; ++p) {
      const float value = source[p * kBlock + c];
      const bool zeroed = relu && !(value > 0);
      target[c * pixels + p] = zeroed ? 0.0f : value;
    }
  }
}

// Copies `in` (n, C, P) NCHW with P pixels per plane into `out` in the layout that
// is_blocked(C) selects, zeroing every value whose `mask` entry is not positive when mask
// is not null. In both layouts the 16 channels of block b of sample s start at the same
// offset, so each block is one (16, P) to (P, 16) transpose.
void pack(const float* in, const float* mask, int64_t n, int64_t channels, int64_t pixels,
          float* out) {
  if (!is_blocked(channels)) {
    const int64_t count = n * channels * pixels;
    if (mask == nullptr) {
      std::copy(in, in + count, out);
      return;
    }
    for (int64_t i = 0; i < count; ++i) out[i] = mask[i] > 0 ? in[i] : 0.0f;
    return;
  }
  for (int64_t block = 0; block < n * channels / kBlock; ++block) {
    const int64_t offset = block * kBlock * pixels;
    pack_block(in + offset, mask == nullptr ? nullptr : mask + offset, pixels, out + offset);
  }
}

// The inverse of pack(): `in` (n, C, P) in the layout that is_blocked(C) selects into
// `out` NCHW, replacing every value that is not positive with 0 when relu is set. A select,
// as ReLU::forward does, because max(v, 0) would keep -0 and NaN.
void unpack(const float* in, int64_t n, int64_t channels, int64_t pixels, bool relu,
            float* out) {
  if (!is_blocked(channels)) {
    const int64_t count = n * channels * pixels;
    if (!relu) {
      std::copy(in, in + count, out);
      return;
    }
    for (int64_t i = 0; i < count; ++i) out[i] = in[i] > 0 ? in[i] : 0.0f;
    return;
  }
  for (int64_t block = 0; block < n * channels / kBlock; ++block) {
    const int64_t offset = block * kBlock * pixels;
    unpack_block(in + offset, pixels, relu, out + offset);
  }
}

// The ReLU of one value: a select, as ReLU::forward, so -0 and NaN give 0.
inline float relu_of(float value) { return value > 0 ? value : 0.0f; }

// Pools one block of 16 channels: pooled (Hp, Wp, 16) = the maximum of each 2 x 2 window,
// of stride 2, of relu(conv) for conv (Ho, Wo, 16), with Hp = Ho / 2 and Wp = Wo / 2.
void pool_block(const float* conv, int64_t out_height, int64_t out_width, float* pooled) {
  const int64_t row = out_width * kBlock;
  for (int64_t i = 0; i < out_height / 2; ++i) {
    for (int64_t j = 0; j < out_width / 2; ++j) {
      const float* top = conv + 2 * i * row + 2 * j * kBlock;
      const float* bottom = top + row;
      for (int64_t c = 0; c < kBlock; ++c) {
        const float upper = std::max(relu_of(top[c]), relu_of(top[kBlock + c]));
        const float lower = std::max(relu_of(bottom[c]), relu_of(bottom[kBlock + c]));
        *pooled++ = std::max(upper, lower);
      }
    }
  }
}

// The backward pass of pool_block, in place: conv (Ho, Wo, 16) becomes the gradient at
// the conv's output. Each value of grad (Hp, Wp, 16) goes to the first maximum of
// relu(conv) in its window in row-major order, the one MaxPool2d picks, unless that
// maximum is 0, where the ReLU's gradient is 0. Every other value becomes 0, including
// an odd last row or column that no window covers.
void unpool_block(const float* grad, int64_t out_height, int64_t out_width, float* conv) {
  const int64_t row = out_width * kBlock;
  for (int64_t i = 0; i < out_height / 2; ++i) {
    for (int64_t j = 0; j < out_width / 2; ++j) {
      float* top = conv + 2 * i * row + 2 * j * kBlock;
      float* bottom = top + row;
      for (int64_t c = 0; c < kBlock; ++c) {
        const float a = relu_of(top[c]);
        const float b = relu_of(top[kBlock + c]);
        const float d = relu_of(bottom[c]);
        const float e = relu_of(bottom[kBlock + c]);
        const float maximum = std::max(std::max(a, b), std::max(d, e));
        const float value = maximum > 0 ? grad[c] : 0.0f;
        // Bitwise operators, so that the loop has no branches and vectorizes.
        const bool take_a = a == maximum;
        const bool take_b = !take_a & (b == maximum);
        const bool take_d = !take_a & !take_b & (d == maximum);
        const bool take_e = !take_a & !take_b & !take_d;
        top[c] = take_a ? value : 0.0f;
        top[kBlock + c] = take_b ? value : 0.0f;
        bottom[c] = take_d ? value : 0.0f;
        bottom[kBlock + c] = take_e ? value : 0.0f;
      }
      grad += kBlock;
    }
    if (out_width % 2 == 1) {
      std::fill_n(conv + 2 * i * row + (out_width - 1) * kBlock, kBlock, 0.0f);
      std::fill_n(conv + (2 * i + 1) * row + (out_width - 1) * kBlock, kBlock, 0.0f);
    }
  }
  if (out_height % 2 == 1) std::fill_n(conv + (out_height - 1) * row, row, 0.0f);
}

// A memory object over a buffer that the caller owns, in the layout `desc` describes.
memory view(const memory::desc& desc, const dnnl::engine& engine, const void* data) {
  // oneDNN takes a non-const handle; the kernels that receive an input do not write it.
  return memory(desc, engine, const_cast<void*>(data));
}

// Builds a primitive descriptor with `preferred`, or with direct convolution when oneDNN
// has no kernel for it.
template <typename Build>
auto build_with(dnnl::algorithm preferred, const Build& build) {
  if (preferred != dnnl::algorithm::convolution_direct) {
    try {
      return build(preferred);
    } catch (const dnnl::error&) {
      // no kernel of that algorithm for these sizes; fall through
    }
  }
  return build(dnnl::algorithm::convolution_direct);
}

}  // namespace

// The three kernels for one chunk sample count, and W in the layouts they read.
struct OneDnnConvolution::Kernels {
  dnnl::convolution_forward::primitive_desc forward_desc;
  dnnl::convolution_backward_data::primitive_desc data_desc;
  dnnl::convolution_backward_weights::primitive_desc weights_desc;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights backward_weights;
  memory forward_weights;  // W in forward_desc's layout
  memory data_weights;     // W in data_desc's layout
  // From W (F, C, k, k) to the two layouts above, and from the weight-gradient kernel's
  // layout of dW to (F, C, k, k).
  dnnl::reorder::primitive_desc to_forward_weights_desc;
  dnnl::reorder::primitive_desc to_data_weights_desc;
  dnnl::reorder::primitive_desc weights_grad_to_plain_desc;
  dnnl::reorder to_forward_weights;
  dnnl::reorder to_data_weights;
  dnnl::reorder weights_grad_to_plain;
  size_t scratchpad_bytes = 0;  // the maximum over the kernels and reorders above
};

// One chunk's buffers, allocated by oneDNN (64-byte aligned) for the largest chunk.
struct OneDnnConvolution::Slot {
  dnnl::stream stream;
  memory input;         // x (n, C, H, W) packed, kept from forward for backward
  memory output;        // y (n, F, Ho, Wo) packed in forward, dy in backward
  memory input_grad;    // dx (n, C, H, W) packed
  memory weights_grad;  // dW in the weight-gradient kernel's layout
  memory bias_grad;     // db (F)
  memory scratchpad;
  std::vector<float> grads;  // dW (F, C, k, k) | db (F) of this chunk
  std::vector<float> pooled;  // (Hp, Wp, 16): one channel block of z or dz, packed
};

// The CPU engine, and a stream for the work done on the thread that begins each pass.
// One engine per convolution, because one per process would be global state.
struct OneDnnConvolution::Engine {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  memory scratchpad;  // for the weight reorders on that thread
};

OneDnnConvolution::OneDnnConvolution(const ConvSizes& sizes)
    : sizes_(sizes), engine_(std::make_unique<Engine>()) {}

OneDnnConvolution::~OneDnnConvolution() = default;

std::unique_ptr<OneDnnConvolution> OneDnnConvolution::create(const ConvSizes& sizes,
                                                             int64_t chunk_samples) {
  assert(chunk_samples >= 1);
  std::unique_ptr<OneDnnConvolution> convolution(new OneDnnConvolution(sizes));
  convolution->chunk_samples_ = chunk_samples;
  try {
    convolution->kernels_for(chunk_samples);
  } catch (const dnnl::error&) {
    return nullptr;
  }
  return convolution;
}

OneDnnConvolution::Kernels& OneDnnConvolution::kernels_for(int64_t samples) {
  auto found = kernels_.find(samples);
  if (found != kernels_.end()) return *found->second;

  use_calling_thread_only();
  static_assert(sizeof(memory::dim) == sizeof(int64_t));
  const ConvSizes& s = sizes_;
  const dnnl::engine& engine = engine_->engine;
  const memory::desc input_desc({samples, s.channels, s.height, s.width},
                                memory::data_type::f32, activation_tag(s.channels));
  const memory::desc output_desc({samples, s.filters, s.out_height, s.out_width},
                                 memory::data_type::f32, activation_tag(s.filters));
  const memory::desc weights_any({s.filters, s.channels, s.kernel, s.kernel},
                                 memory::data_type::f32, Tag::any);
  const memory::desc bias_desc({s.filters}, memory::data_type::f32, Tag::x);
  const memory::dims strides{s.stride, s.stride};
  const memory::dims padding_left{s.padding, s.padding};
  // The padding on the bottom and right that makes the output exactly Ho x Wo.
  const memory::dims padding_right{(s.out_height - 1) * s.stride + s.kernel - s.height - s.padding,
                                   (s.out_width - 1) * s.stride + s.kernel - s.width - s.padding};
  dnnl::primitive_attr attributes;
  attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  auto kernels = std::make_unique<Kernels>();
  kernels->forward_desc = build_with(kForwardAlgorithm, [&](dnnl::algorithm algorithm) {
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, algorithm,
                                               input_desc, weights_any, bias_desc, output_desc,
                                               strides, padding_left, padding_right);
    return dnnl::convolution_forward::primitive_desc(desc, attributes, engine);
  });
  kernels->data_desc = build_with(kDataAlgorithm, [&](dnnl::algorithm algorithm) {
    const dnnl::convolution_backward_data::desc desc(algorithm, input_desc, weights_any,
                                                     output_desc, strides, padding_left,
                                                     padding_right);
    return dnnl::convolution_backward_data::primitive_desc(desc, attributes, engine,
                                                           kernels->forward_desc);
  });
  kernels->weights_desc = build_with(kWeightsAlgorithm, [&](dnnl::algorithm algorithm) {
    const dnnl::convolution_backward_weights::desc desc(algorithm, input_desc, weights_any,
                                                        bias_desc, output_desc, strides,
                                                        padding_left, padding_right);
    return dnnl::convolution_backward_weights::primitive_desc(desc, attributes, engine,
                                                              kernels->forward_desc);
  });
  kernels->forward = dnnl::convolution_forward(kernels->forward_desc);
  kernels->backward_data = dnnl::convolution_backward_data(kernels->data_desc);
  kernels->backward_weights = dnnl::convolution_backward_weights(kernels->weights_desc);
  kernels->forward_weights = memory(kernels->forward_desc.weights_desc(), engine);
  kernels->data_weights = memory(kernels->data_desc.weights_desc(), engine);

  const memory::desc plain_weights({s.filters, s.channels, s.kernel, s.kernel},
                                   memory::data_type::f32, Tag::oihw);
  const auto reorder_desc = [&](const memory::desc& from, const memory::desc& to) {
    return dnnl::reorder::primitive_desc(engine, from, engine, to, attributes);
  };
  const auto& forward_reorder = kernels->to_forward_weights_desc =
      reorder_desc(plain_weights, kernels->forward_desc.weights_desc());
  const auto& data_reorder = kernels->to_data_weights_desc =
      reorder_desc(plain_weights, kernels->data_desc.weights_desc());
  const auto& grad_reorder = kernels->weights_grad_to_plain_desc =
      reorder_desc(kernels->weights_desc.diff_weights_desc(), plain_weights);
  kernels->to_forward_weights = dnnl::reorder(forward_reorder);
  kernels->to_data_weights = dnnl::reorder(data_reorder);
  kernels->weights_grad_to_plain = dnnl::reorder(grad_reorder);

  kernels->scratchpad_bytes = std::max({kernels->forward_desc.scratchpad_desc().get_size(),
                                        kernels->data_desc.scratchpad_desc().get_size(),
                                        kernels->weights_desc.scratchpad_desc().get_size(),
                                        forward_reorder.scratchpad_desc().get_size(),
                                        data_reorder.scratchpad_desc().get_size(),
                                        grad_reorder.scratchpad_desc().get_size()});
  return *kernels_.emplace(samples, std::move(kernels)).first->second;
}

int64_t OneDnnConvolution::chunk_size(int64_t chunk) const {
  return std::min(chunk_samples_, samples_ - chunk * chunk_samples_);
}

namespace {

// A buffer of at least `bytes` bytes, allocated by oneDNN, unless `buffer` is one already.
void ensure_bytes(memory& buffer, size_t bytes, const dnnl::engine& engine) {
  if (buffer && buffer.get_desc().get_size() >= bytes) return;
  const auto values = static_cast<memory::dim>((std::max<size_t>(bytes, 1) + 3) / 4);
  buffer = memory(memory::desc({values}, memory::data_type::f32, Tag::x), engine);
}

// Runs `kernel` with `arguments` and a scratchpad over `scratchpad`.
void execute(const dnnl::primitive& kernel, dnnl::stream& stream,
             std::unordered_map<int, memory> arguments, const memory::desc& scratchpad_desc,
             const memory& scratchpad, const dnnl::engine& engine) {
  arguments.emplace(DNNL_ARG_SCRATCHPAD,
                    view(scratchpad_desc, engine, scratchpad.get_data_handle()));
  kernel.execute(stream, arguments);
  stream.wait();
}

}  // namespace

bool OneDnnConvolution::begin_forward(int64_t samples, const float* W) {
  assert(samples >= 1);
  use_calling_thread_only();
  samples_ = samples;
  const int64_t last_chunk = (samples - 1) / chunk_samples_;
  try {
    kernels_for(chunk_size(last_chunk));
  } catch (const dnnl::error&) {
    return false;
  }
  const ConvSizes& s = sizes_;
  Engine& main = *engine_;
  const int64_t chunks = (samples + chunk_samples_ - 1) / chunk_samples_;

  // The kernels for a full chunk and for the shorter last one, when there is one.
  size_t scratchpad_bytes = 0;
  const memory plain =
      view(memory::desc({s.filters, s.channels, s.kernel, s.kernel}, memory::data_type::f32,
                        Tag::oihw),
           main.engine, W);
  for (const int64_t count : {chunk_size(0), chunk_size(chunks - 1)}) {
    Kernels& kernels = kernels_for(count);
    scratchpad_bytes = std::max(scratchpad_bytes, kernels.scratchpad_bytes);
    ensure_bytes(main.scratchpad, kernels.scratchpad_bytes, main.engine);
    execute(kernels.to_forward_weights, main.stream,
            {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, kernels.forward_weights}},
            kernels.to_forward_weights_desc.scratchpad_desc(), main.scratchpad, main.engine);
  }

  const size_t input_bytes = sizeof(float) * chunk_samples_ * s.channels * s.height * s.width;
  const size_t output_bytes =
      sizeof(float) * chunk_samples_ * s.filters * s.out_height * s.out_width;
  if (slots_.size() < static_cast<size_t>(chunks)) slots_.resize(chunks);
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    auto& slot = slots_[static_cast<size_t>(chunk)];
    if (!slot) {
      slot = std::make_unique<Slot>();
      slot->stream = dnnl::stream(main.engine);
    }
    ensure_bytes(slot->input, input_bytes, main.engine);
    ensure_bytes(slot->output, output_bytes, main.engine);
    ensure_bytes(slot->scratchpad, scratchpad_bytes, main.engine);
  }
  return true;
}

void OneDnnConvolution::forward_chunk(int64_t chunk, const float* x, const float* b, float* y,
                                      bool relu) {
  use_calling_thread_only();
  const float* output = run_forward_kernel(chunk, x, b);
  const ConvSizes& s = sizes_;
  unpack(output, chunk_size(chunk), s.filters, s.out_height * s.out_width, relu, y);
}

float* OneDnnConvolution::run_forward_kernel(int64_t chunk, const float* x, const float* b) {
  const ConvSizes& s = sizes_;
  const int64_t n = chunk_size(chunk);
  const Kernels& kernels = *kernels_.at(n);
  Slot& slot = *slots_[static_cast<size_t>(chunk)];
  const dnnl::engine& engine = engine_->engine;
  const auto& desc = kernels.forward_desc;

  auto* input = static_cast<float*>(slot.input.get_data_handle());
  auto* output = static_cast<float*>(slot.output.get_data_handle());
  pack(x, nullptr, n, s.channels, s.height * s.width, input);
  execute(kernels.forward, slot.stream,
          {{DNNL_ARG_SRC, view(desc.src_desc(), engine, input)},
           {DNNL_ARG_WEIGHTS, kernels.forward_weights},
           {DNNL_ARG_BIAS, view(desc.bias_desc(), engine, b)},
           {DNNL_ARG_DST, view(desc.dst_desc(), engine, output)}},
          desc.scratchpad_desc(), slot.scratchpad, engine);
  return output;
}

bool OneDnnConvolution::can_pool() const {
  return is_blocked(sizes_.filters) && sizes_.out_height >= 2 && sizes_.out_width >= 2;
}

void OneDnnConvolution::forward_pool_chunk(int64_t chunk, const float* x, const float* b,
                                           float* z) {
  assert(can_pool());
  use_calling_thread_only();
  const ConvSizes& s = sizes_;
  const float* output = run_forward_kernel(chunk, x, b);
  Slot& slot = *slots_[static_cast<size_t>(chunk)];
  const int64_t pooled_pixels = (s.out_height / 2) * (s.out_width / 2);
  slot.pooled.resize(static_cast<size_t>(pooled_pixels * kBlock));
  for (int64_t block = 0; block < chunk_size(chunk) * s.filters / kBlock; ++block) {
    pool_block(output + block * s.out_height * s.out_width * kBlock, s.out_height, s.out_width,
               slot.pooled.data());
    unpack_block(slot.pooled.data(), pooled_pixels, /*relu=*/false,
                 z + block * kBlock * pooled_pixels);
  }
}

void OneDnnConvolution::relu_output_chunk(int64_t chunk, float* y) {
  const ConvSizes& s = sizes_;
  const auto* output = static_cast<const float*>(slots_[static_cast<size_t>(chunk)]->output.get_data_handle());
  unpack(output, chunk_size(chunk), s.filters, s.out_height * s.out_width, /*relu=*/true, y);
}

void OneDnnConvolution::backward_pool_chunk(int64_t chunk, const float* dz, float* dx) {
  assert(can_pool());
  use_calling_thread_only();
  const ConvSizes& s = sizes_;
  Slot& slot = *slots_[static_cast<size_t>(chunk)];
  auto* output = static_cast<float*>(slot.output.get_data_handle());
  const int64_t pooled_pixels = (s.out_height / 2) * (s.out_width / 2);
  for (int64_t block = 0; block < chunk_size(chunk) * s.filters / kBlock; ++block) {
    pack_block(dz + block * kBlock * pooled_pixels, nullptr, pooled_pixels, slot.pooled.data());
    unpool_block(slot.pooled.data(), s.out_height, s.out_width,
                 output + block * s.out_height * s.out_width * kBlock);
  }
  run_backward_kernels(chunk, dx);
}

void OneDnnConvolution::begin_backward(const float* W) {
  assert(samples_ >= 1);
  use_calling_thread_only();
  const ConvSizes& s = sizes_;
  Engine& main = *engine_;
  const int64_t chunks = (samples_ + chunk_samples_ - 1) / chunk_samples_;

  const memory plain =
      view(memory::desc({s.filters, s.channels, s.kernel, s.kernel}, memory::data_type::f32,
                        Tag::oihw),
           main.engine, W);
  size_t weights_grad_bytes = 0;
  for (const int64_t count : {chunk_size(0), chunk_size(chunks - 1)}) {
    Kernels& kernels = *kernels_.at(count);
    execute(kernels.to_data_weights, main.stream,
            {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, kernels.data_weights}},
            kernels.to_data_weights_desc.scratchpad_desc(), main.scratchpad, main.engine);
    weights_grad_bytes =
        std::max(weights_grad_bytes, kernels.weights_desc.diff_weights_desc().get_size());
  }

  const size_t input_bytes = sizeof(float) * chunk_samples_ * s.channels * s.height * s.width;
  const auto weight_count = static_cast<size_t>(s.filters * s.channels * s.kernel * s.kernel);
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    Slot& slot = *slots_[static_cast<size_t>(chunk)];
    ensure_bytes(slot.input_grad, input_bytes, main.engine);
    ensure_bytes(slot.weights_grad, weights_grad_bytes, main.engine);
    ensure_bytes(slot.bias_grad, sizeof(float) * s.filters, main.engine);
    slot.grads.resize(weight_count + static_cast<size_t>(s.filters));
  }
}

void OneDnnConvolution::backward_chunk(int64_t chunk, const float* dy, const float* relu_output,
                                       float* dx) {
  use_calling_thread_only();
  const ConvSizes& s = sizes_;
  const int64_t n = chunk_size(chunk);
  Slot& slot = *slots_[static_cast<size_t>(chunk)];

  // dy, masked by the ReLU, replaces y in the output buffer.
  auto* output_grad = static_cast<float*>(slot.output.get_data_handle());
  pack(dy, relu_output, n, s.filters, s.out_height * s.out_width, output_grad);
  run_backward_kernels(chunk, dx);
}

void OneDnnConvolution::run_backward_kernels(int64_t chunk, float* dx) {
  const ConvSizes& s = sizes_;
  const int64_t n = chunk_size(chunk);
  const Kernels& kernels = *kernels_.at(n);
  Slot& slot = *slots_[static_cast<size_t>(chunk)];
  const dnnl::engine& engine = engine_->engine;
  auto* output_grad = static_cast<float*>(slot.output.get_data_handle());

  const auto& weights_desc = kernels.weights_desc;
  const memory weights_grad =
      view(weights_desc.diff_weights_desc(), engine, slot.weights_grad.get_data_handle());
  const memory bias_grad =
      view(weights_desc.diff_bias_desc(), engine, slot.bias_grad.get_data_handle());
  execute(kernels.backward_weights, slot.stream,
          {{DNNL_ARG_SRC, view(weights_desc.src_desc(), engine, slot.input.get_data_handle())},
           {DNNL_ARG_DIFF_DST, view(weights_desc.diff_dst_desc(), engine, output_grad)},
           {DNNL_ARG_DIFF_WEIGHTS, weights_grad},
           {DNNL_ARG_DIFF_BIAS, bias_grad}},
          weights_desc.scratchpad_desc(), slot.scratchpad, engine);
  const auto weight_count = s.filters * s.channels * s.kernel * s.kernel;
  execute(kernels.weights_grad_to_plain, slot.stream,
          {{DNNL_ARG_FROM, weights_grad},
           {DNNL_ARG_TO, view(kernels.weights_grad_to_plain_desc.dst_desc(), engine,
                              slot.grads.data())}},
          kernels.weights_grad_to_plain_desc.scratchpad_desc(), slot.scratchpad, engine);
  const auto* bias_values = static_cast<const float*>(slot.bias_grad.get_data_handle());
  std::copy(bias_values, bias_values + s.filters, slot.grads.data() + weight_count);

  if (dx == nullptr) return;
  const auto& data_desc = kernels.data_desc;
  auto* input_grad = static_cast<float*>(slot.input_grad.get_data_handle());
  execute(kernels.backward_data, slot.stream,
          {{DNNL_ARG_DIFF_DST, view(data_desc.diff_dst_desc(), engine, output_grad)},
           {DNNL_ARG_WEIGHTS, kernels.data_weights},
           {DNNL_ARG_DIFF_SRC, view(data_desc.diff_src_desc(), engine, input_grad)}},
          data_desc.scratchpad_desc(), slot.scratchpad, engine);
  unpack(input_grad, n, s.channels, s.height * s.width, /*relu=*/false, dx);
}

void OneDnnConvolution::finish_backward(float* dW, float* db) {
  const ConvSizes& s = sizes_;
  const int64_t chunks = (samples_ + chunk_samples_ - 1) / chunk_samples_;
  const int64_t weight_count = s.filters * s.channels * s.kernel * s.kernel;
  const float* first = slots_[0]->grads.data();
  std::copy(first, first + weight_count, dW);
  std::copy(first + weight_count, first + weight_count + s.filters, db);
  for (int64_t chunk = 1; chunk < chunks; ++chunk) {
    const float* grads = slots_[static_cast<size_t>(chunk)]->grads.data();
    for (int64_t i = 0; i < weight_count; ++i) dW[i] += grads[i];
    for (int64_t f = 0; f < s.filters; ++f) db[f] += grads[weight_count + f];
  }
}

}  // namespace felis::detail
