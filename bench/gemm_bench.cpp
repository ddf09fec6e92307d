// Eigen float32 matrix products at the shapes that felis's layers multiply when they
// train the Fashion-MNIST CNN
//   conv 3x3x32 (no padding), ReLU, max pool 2, conv 3x3x64, ReLU, max pool 2, flatten,
//   dense 128, ReLU, dense 10
// on batches of 64 images of 28 x 28, and at 2048^3 as the machine's reference peak.
//
// Legend: M x N the product, K the inner dimension; F filters, C input channels, k kernel
// side, P = Ho*Wo output pixels; D inputs and U units of a dense layer, R rows of a chunk.
// Each product is written as the layer writes it, on row-major maps, with the same
// transposes, so Eigen picks the same kernel:
//   conv forward    Y (F, P) = W (F, C*k*k) cols (C*k*k, P)        once per image
//   conv dW         dW (F, C*k*k) += dY (F, P) cols^T (P, C*k*k)   once per image, into
//                   the left columns of the layer's (F, C*k*k + 1) dW | db scratch
//   conv dcols      dcols (C*k*k, P) = W^T (C*k*k, F) dY (F, P)    once per image
//   dense forward   Y (R, U) = X (R, D) W^T (D, U)                 once per chunk of R rows
//   dense dW        dW (U, D) = dY^T (U, R) X (R, D)               once per chunk
//   dense dx        dX (R, D) = dY (R, U) W (U, D)                 once per chunk
// Conv2d runs one image per product. Dense splits a batch of 64 into chunks of
// R = dense_chunk_rows(64) rows (16 today), and this file reads R from that function.
// The first conv computes no dcols, because the network needs no gradient for its input.
// Every product runs on one thread, as in the layers, which spread images or chunks over
// threads instead.
//
// A product of (M, K) by (K, N) costs 2 M N K floating-point operations (one multiply and
// one add per term), the count behind the flops counter. items_per_second counts the
// images whose work one product covers: 1 for a conv product, R for a dense chunk.
#include "synthetic.h"

#include "felis/nn/dense.h"
#include "felis/tensor/thread_pool.h"

#include <benchmark/benchmark.h>

#include <string>

namespace felis::bench {
namespace {

// The operand layout and the update of a product.
enum class Form {
  ab,              // C = A B
  a_bt,            // C = A B^T, B stored as (N, K)
  at_b,            // C = A^T B, A stored as (K, M)
  a_bt_accumulate, // C += A B^T into the left N columns of an (M, N + 1) matrix
};

struct GemmCase {
  int64_t m;
  int64_t n;
  int64_t k;
  Form form;
  int64_t images;  // images whose work one product covers
};

// Shapes of one sample in the CNN: conv1 maps 1 x 28 x 28 to 32 x 26 x 26, and conv2 maps
// the pooled 32 x 13 x 13 to 64 x 11 x 11. The pooled 64 x 5 x 5 = 1600 features enter dense1.
constexpr int64_t kConv1Pixels = 26 * 26;  // P of conv1
constexpr int64_t kConv1Fan = 1 * 3 * 3;   // C*k*k of conv1
constexpr int64_t kConv2Pixels = 11 * 11;
constexpr int64_t kConv2Fan = 32 * 3 * 3;
constexpr int64_t kDense1Inputs = 64 * 5 * 5;
// R: the rows per chunk that Dense takes from a batch of 64.
const int64_t kChunkRows = dense_chunk_rows(64);

void gemm(benchmark::State& state, GemmCase shape) {
  const auto [m, n, k, form, images] = shape;
  const bool a_transposed = form == Form::at_b;
  const bool b_transposed = form == Form::a_bt || form == Form::a_bt_accumulate;
  const int64_t c_columns = form == Form::a_bt_accumulate ? n + 1 : n;

  std::mt19937_64 rng(kSeed);
  const Tensor<float> a = normal_tensor<float>(a_transposed ? Shape{k, m} : Shape{m, k}, 1.0, rng);
  const Tensor<float> b = normal_tensor<float>(b_transposed ? Shape{n, k} : Shape{k, n}, 1.0, rng);
  Tensor<float> c({m, c_columns});
  const ConstMatrixMap<float> A = a.matrix();
  const ConstMatrixMap<float> B = b.matrix();
  MatrixMap<float> C = c.matrix();

  for (auto _ : state) {
    switch (form) {
      case Form::ab: C.noalias() = A * B; break;
      case Form::a_bt: C.noalias() = A * B.transpose(); break;
      case Form::at_b: C.noalias() = A.transpose() * B; break;
      case Form::a_bt_accumulate: C.leftCols(n).noalias() += A * B.transpose(); break;
    }
    benchmark::ClobberMemory();
  }

  state.SetLabel("M=" + std::to_string(m) + " N=" + std::to_string(n) +
                 " K=" + std::to_string(k));
  state.SetItemsProcessed(state.iterations() * images);
  state.counters["flops"] = flop_rate(gemm_flops(m, n, k));
}

BENCHMARK_CAPTURE(gemm, conv1_forward, GemmCase{32, kConv1Pixels, kConv1Fan, Form::ab, 1});
BENCHMARK_CAPTURE(gemm, conv1_dW,
                  GemmCase{32, kConv1Fan, kConv1Pixels, Form::a_bt_accumulate, 1});
BENCHMARK_CAPTURE(gemm, conv2_forward, GemmCase{64, kConv2Pixels, kConv2Fan, Form::ab, 1});
BENCHMARK_CAPTURE(gemm, conv2_dW,
                  GemmCase{64, kConv2Fan, kConv2Pixels, Form::a_bt_accumulate, 1});
BENCHMARK_CAPTURE(gemm, conv2_dcols, GemmCase{kConv2Fan, kConv2Pixels, 64, Form::at_b, 1});
BENCHMARK_CAPTURE(gemm, dense1_forward,
                  GemmCase{kChunkRows, 128, kDense1Inputs, Form::a_bt, kChunkRows});
BENCHMARK_CAPTURE(gemm, dense1_dW,
                  GemmCase{128, kDense1Inputs, kChunkRows, Form::at_b, kChunkRows});
BENCHMARK_CAPTURE(gemm, dense1_dx,
                  GemmCase{kChunkRows, kDense1Inputs, 128, Form::ab, kChunkRows});
BENCHMARK_CAPTURE(gemm, dense2_forward, GemmCase{kChunkRows, 10, 128, Form::a_bt, kChunkRows});
BENCHMARK_CAPTURE(gemm, dense2_dW, GemmCase{10, 128, kChunkRows, Form::at_b, kChunkRows});
BENCHMARK_CAPTURE(gemm, dense2_dx, GemmCase{kChunkRows, 128, 10, Form::ab, kChunkRows});

// C (2048, 2048) = A B, the reference for what Eigen reaches on a large square product.
// With 2 threads each computes one half of C's rows, as two independent products, because
// Eigen here is built without OpenMP and so multiplies on the calling thread only.
void gemm_2048(benchmark::State& state) {
  constexpr int64_t kSide = 2048;
  const int threads = static_cast<int>(state.range(0));
  std::mt19937_64 rng(kSeed);
  const Tensor<float> a = normal_tensor<float>({kSide, kSide}, 1.0, rng);
  const Tensor<float> b = normal_tensor<float>({kSide, kSide}, 1.0, rng);
  Tensor<float> c({kSide, kSide});
  ThreadPool pool(threads);
  const int64_t rows_per_task = kSide / threads;

  for (auto _ : state) {
    pool.run(threads, [&](int64_t task) {
      c.row_block(task * rows_per_task, rows_per_task).noalias() =
          a.row_block(task * rows_per_task, rows_per_task) * b.matrix();
    });
    benchmark::ClobberMemory();
  }

  state.counters["flops"] = flop_rate(gemm_flops(kSide, kSide, kSide));
}

BENCHMARK(gemm_2048)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(
    benchmark::kMillisecond);

}  // namespace
}  // namespace felis::bench
