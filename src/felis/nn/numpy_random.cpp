#include "felis/nn/numpy_random.h"

#include <cassert>
#include <cmath>

// numpy rounds x1 * x1 + x2 * x2 and low + range * u after each operation. A fused
// multiply-add rounds once and changes some draws in the last bit, and GCC contracts
// across statements by default in C++ on FMA hardware (-march=native), so contraction
// is off for this file.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace felis {

void NumpyRandom::seed(uint32_t seed) {
  engine_.seed(seed);
  has_cached_normal_ = false;
  cached_normal_ = 0.0;
}

double NumpyRandom::random_sample() {
  const uint32_t high_bits = next_uint32() >> 5;  // 27 bits
  const uint32_t low_bits = next_uint32() >> 6;   // 26 bits
  return (high_bits * 67108864.0 + low_bits) / 9007199254740992.0;
}

double NumpyRandom::uniform(double low, double high) {
  const double range = high - low;
  return low + range * random_sample();
}

// Draw (x1, x2) uniformly in the square [-1, 1)^2 until it falls inside the unit disc
// without the centre, r2 = x1^2 + x2^2 in (0, 1). Then f = sqrt(-2 ln(r2) / r2) makes
// f * x1 and f * x2 two independent N(0, 1) draws. numpy returns f * x2 first.
double NumpyRandom::standard_normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    const double cached = cached_normal_;
    cached_normal_ = 0.0;
    return cached;
  }

  double x1 = 0.0;
  double x2 = 0.0;
  double r2 = 0.0;
  do {
    x1 = 2.0 * random_sample() - 1.0;
    x2 = 2.0 * random_sample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);

  // NOTE: equality with numpy also needs std::log to round as the libm that numpy calls
  // does. Both are glibc's here (Debian 12); another libm may differ in the last bit.
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  cached_normal_ = f * x1;
  has_cached_normal_ = true;
  return f * x2;
}

std::vector<double> NumpyRandom::randn(int64_t count) {
  assert(count >= 0);
  std::vector<double> values(static_cast<size_t>(count));
  for (double& value : values) value = standard_normal();
  return values;
}

}  // namespace felis
