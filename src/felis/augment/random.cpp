#include "felis/augment/random.h"

#include <cassert>
#include <cmath>
#include <numbers>

namespace felis {

namespace {

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

// SplitMix64's output function (Steele, Lea and Flood 2014): a bijective 64-bit mix.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

SampleRandom::SampleRandom(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t step) {
  // Chained mixing, so (1, 2) and (2, 1) give unrelated states.
  uint64_t h = mix(seed + kGoldenGamma);
  h = mix(h ^ (epoch + kGoldenGamma));
  h = mix(h ^ (index + 2 * kGoldenGamma));
  state_ = mix(h ^ (step + 3 * kGoldenGamma));
}

uint64_t SampleRandom::next() {
  state_ += kGoldenGamma;
  return mix(state_);
}

double SampleRandom::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double SampleRandom::uniform(double low, double high) { return low + (high - low) * uniform(); }

int64_t SampleRandom::integer(int64_t low, int64_t high) {
  assert(low <= high);
  const uint64_t span = static_cast<uint64_t>(high - low) + 1;
  if (span == 0) return static_cast<int64_t>(next());  // the whole 64-bit range
  // Rejection keeps the draw unbiased for spans that do not divide 2^64.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t draw = next();
  while (draw >= limit) draw = next();
  return low + static_cast<int64_t>(draw % span);
}

bool SampleRandom::bernoulli(double probability) { return uniform() < probability; }

double SampleRandom::normal() {
  // Box-Muller: u1 in (0, 1] keeps the logarithm finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace felis
