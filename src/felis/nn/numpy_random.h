// NumpyRandom: numpy's legacy RandomState (np.random.*) reproduced bit for bit, so that
// weights drawn here equal those drawn by a Python notebook with the same seed.
//
// Reproduced, checked against numpy 1.24.2 for seeds 0, 1, 3 and 2^32 - 1:
//   np.random.seed(n) for an integer n in [0, 2^32)   NumpyRandom(n), seed(n)
//   np.random.random_sample(), np.random.rand(...)    random_sample()
//   np.random.randn(...), np.random.standard_normal() standard_normal(), randn(count)
//   np.random.uniform(low, high)                      uniform(low, high)
// A call that takes a shape fills it in row-major order, one draw per element, so
// randn(K * D) equals np.random.randn(K, D).ravel().
//
// Not reproduced: seeding from an array, a tuple or None (numpy then uses
// init_by_array or OS entropy), randint, choice, shuffle and permutation (bounded
// integer draws), every other distribution, get_state and set_state, and the newer
// np.random.default_rng / Generator API (PCG64 and a ziggurat normal sampler).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace felis {

class NumpyRandom {
public:
  // Same state as np.random.seed(seed).
  explicit NumpyRandom(uint32_t seed) { this->seed(seed); }

  // Resets the generator as np.random.seed(seed) does: MT19937's init_genrand(seed)
  // (std::mt19937's own seeding) and an empty cache of normal draws.
  void seed(uint32_t seed);

  // The next 32-bit output of MT19937.
  uint32_t next_uint32() { return static_cast<uint32_t>(engine_()); }

  // A double in [0, 1) from two 32-bit draws a, b with 53 random bits:
  //   ((a >> 5) * 2^26 + (b >> 6)) / 2^53
  double random_sample();

  // low + (high - low) * random_sample(), in [low, high) as numpy's uniform.
  double uniform(double low, double high);

  // A draw from N(0, 1) by the Marsaglia polar method. Each accepted pair of uniform
  // draws yields two normals: this call returns one and caches the other for the next
  // call, as numpy's legacy gauss does. random_sample() does not touch the cache.
  double standard_normal();

  // `count` draws of standard_normal() in order, as np.random.randn(count).
  // Requires count >= 0.
  std::vector<double> randn(int64_t count);

private:
  std::mt19937 engine_;
  bool has_cached_normal_ = false;
  double cached_normal_ = 0.0;
};

}  // namespace felis
