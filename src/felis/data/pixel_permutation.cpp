#include "felis/data/pixel_permutation.h"

#include "felis/augment/random.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <numeric>

namespace felis {

namespace {

template <typename V>
void shuffle(std::vector<V>& values, SampleRandom& random) {
  for (size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(random.integer(0, static_cast<int64_t>(i) - 1));
    std::swap(values[i - 1], values[j]);
  }
}

}  // namespace

std::vector<int32_t> pixel_permutation(uint64_t seed, int64_t positions, double fraction) {
  assert(positions >= 1);
  assert(positions <= INT32_MAX);
  assert(fraction >= 0);
  assert(fraction <= 1);
  std::vector<int32_t> permutation(static_cast<size_t>(positions));
  std::iota(permutation.begin(), permutation.end(), 0);
  SampleRandom random(seed, 0, 0, 0);
  if (fraction >= 1.0) {
    shuffle(permutation, random);
    return permutation;
  }

  // Choose the moving positions, then shuffle them among themselves.
  std::vector<int32_t> chosen = permutation;
  shuffle(chosen, random);
  chosen.resize(static_cast<size_t>(std::llround(fraction * static_cast<double>(positions))));
  std::vector<int32_t> sources = chosen;
  shuffle(sources, random);
  for (size_t i = 0; i < chosen.size(); ++i) permutation[chosen[i]] = sources[i];
  return permutation;
}

void permute_pixels(const uint8_t* in, uint8_t* out, const ImageShape& shape,
                    std::span<const int32_t> permutation) {
  assert(static_cast<int64_t>(permutation.size()) == shape.height * shape.width);
  const auto channels = static_cast<size_t>(shape.channels);
  for (size_t p = 0; p < permutation.size(); ++p) {
    std::memcpy(out + p * channels, in + static_cast<size_t>(permutation[p]) * channels, channels);
  }
}

}  // namespace felis
