// In-memory data sets for engine tests: seeded random images whose labels a linear model
// can partly learn.
#pragma once

#include "felis/data/dataset.h"

#include <random>
#include <string>

namespace felis::fixtures {

// `count` images of side x side x channels with labels in [0, classes): each class
// brightens its own band of pixels, plus uniform noise.
inline Dataset synthetic_dataset(int64_t count, int64_t side, int64_t channels, int classes,
                                 uint64_t seed) {
  Dataset data;
  data.count = count;
  data.height = side;
  data.width = side;
  data.channels = channels;
  data.source = "synthetic";
  for (int c = 0; c < classes; ++c) data.class_names.push_back("class" + std::to_string(c));
  std::mt19937_64 rng(seed);
  const int64_t size = data.image_size();
  data.pixels.resize(static_cast<size_t>(count * size));
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int32_t>(rng() % classes);
    data.labels.push_back(label);
    for (int64_t p = 0; p < size; ++p) {
      const bool band = p * classes / size == label;
      data.pixels[i * size + p] = static_cast<uint8_t>(rng() % 160 + (band ? 90 : 0));
    }
  }
  return data;
}

}  // namespace felis::fixtures
