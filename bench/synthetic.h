// Seeded synthetic inputs and shared counters for the micro-benchmarks, so that no
// benchmark reads a data file and every run measures the same values.
//
// Legend: N images, C channels, H x W pixels, K classes.
#pragma once

#include "felis/data/dataset.h"
#include "felis/tensor/tensor.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace felis::bench {

// The seed of every synthetic input.
inline constexpr uint64_t kSeed = 20240601;

// Returns the class names "0" up to "K-1".
inline std::vector<std::string> numbered_classes(int64_t classes) {
  std::vector<std::string> names;
  for (int64_t k = 0; k < classes; ++k) names.push_back(std::to_string(k));
  return names;
}

// Makes N images of (H, W, C) uniform random pixels with uniform random labels in [0, K).
// NOTE: a kernel whose speed depends on the values, such as one that branches per pixel,
// may take another time on photos than on this noise.
inline Dataset synthetic_images(int64_t count, int64_t height, int64_t width, int64_t channels,
                                int64_t classes, uint64_t seed = kSeed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pixel(0, 255);
  std::uniform_int_distribution<int32_t> label(0, static_cast<int32_t>(classes - 1));
  Dataset data;
  data.count = count;
  data.height = height;
  data.width = width;
  data.channels = channels;
  data.pixels.resize(static_cast<size_t>(count * height * width * channels));
  for (uint8_t& value : data.pixels) value = static_cast<uint8_t>(pixel(rng));
  data.labels.resize(static_cast<size_t>(count));
  for (int32_t& value : data.labels) value = label(rng);
  data.class_names = numbered_classes(classes);
  data.source = "synthetic";
  data.validate();
  return data;
}

// Returns a tensor of `shape` with values drawn from N(0, stddev^2).
template <typename T>
Tensor<T> normal_tensor(const Shape& shape, double stddev, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, stddev);
  Tensor<T> tensor(shape);
  for (int64_t i = 0; i < tensor.size(); ++i) tensor[i] = static_cast<T>(normal(rng));
  return tensor;
}

// Returns a counter of floating-point operations per second, shown with an SI prefix
// (G/s is GFLOP/s), from the count one benchmark iteration performs.
inline benchmark::Counter flop_rate(double flops_per_iteration) {
  return benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                            benchmark::Counter::OneK::kIs1000);
}

// Returns the floating-point operations of a GEMM C (M, N) = A (M, K) B (K, N), one
// multiply and one add per term.
inline double gemm_flops(int64_t m, int64_t n, int64_t k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

}  // namespace felis::bench
