// Pipeline::apply: draws each step's parameters and runs its transform.
#include "felis/augment/pipeline.h"

#include <cmath>
#include <vector>

namespace felis {

namespace {

int64_t round_to_int(double value) { return std::llround(value); }

// Draws the step's parameters from `random` and transforms `image`.
Image apply_step(const AugmentStep& step, const Image& image, SampleRandom& random) {
  const auto& a = step.arguments;
  const ImageShape& shape = image.shape;
  switch (step.kind) {
    case AugmentKind::shift: {
      const auto k = round_to_int(a[0]);
      const auto dx = static_cast<int>(random.integer(-k, k));
      const auto dy = static_cast<int>(random.integer(-k, k));
      return shift(image, dx, dy, step.border);
    }
    case AugmentKind::rotate:
      return rotate(image, random.uniform(-a[0], a[0]), step.border);
    case AugmentKind::scale:
      return scale(image, random.uniform(1 - a[0], 1 + a[0]), step.border);
    case AugmentKind::crop: {
      const double fraction = random.uniform(a[0], 1.0);
      const auto width = std::max<int64_t>(1, round_to_int(fraction * static_cast<double>(shape.width)));
      const auto height = std::max<int64_t>(1, round_to_int(fraction * static_cast<double>(shape.height)));
      const auto x = random.integer(0, shape.width - width);
      const auto y = random.integer(0, shape.height - height);
      return crop_resize(image, static_cast<int>(x), static_cast<int>(y), static_cast<int>(width),
                         static_cast<int>(height));
    }
    case AugmentKind::hflip:
      return flip_horizontal(image);
    case AugmentKind::vflip:
      return flip_vertical(image);
    case AugmentKind::shear:
      return shear(image, random.uniform(-a[0], a[0]), step.border);
    case AugmentKind::elastic:
      return elastic(image, a[0], a[1], random, step.border);
    case AugmentKind::tint: {
      std::vector<double> gains(static_cast<size_t>(shape.channels));
      for (auto& gain : gains) gain = random.uniform(1 - a[0], 1 + a[0]);
      return tint(image, gains);
    }
    case AugmentKind::brightness:
      return brightness(image, random.uniform(-a[0], a[0]));
    case AugmentKind::contrast:
      return contrast(image, random.uniform(1 - a[0], 1 + a[0]));
    case AugmentKind::saturation:
      return saturation(image, random.uniform(1 - a[0], 1 + a[0]));
    case AugmentKind::hue:
      return hue(image, random.uniform(-a[0], a[0]));
    case AugmentKind::gamma: {
      const double log_range = std::log1p(a[0]);
      return gamma(image, std::exp(random.uniform(-log_range, log_range)));
    }
    case AugmentKind::noise:
      return gaussian_noise(image, a[0], random);
    case AugmentKind::blur:
      return blur(image, random.uniform(0, a[0]));
    case AugmentKind::cutout: {
      const auto x = static_cast<int>(random.integer(0, shape.width - 1));
      const auto y = static_cast<int>(random.integer(0, shape.height - 1));
      return cutout(image, x, y, static_cast<int>(round_to_int(a[0])), static_cast<uint8_t>(step.fill));
    }
  }
  return image;
}

}  // namespace

Image Pipeline::apply(const Image& image, uint64_t seed, int64_t epoch, int64_t index) const {
  Image out = image;
  for (size_t i = 0; i < steps_.size(); ++i) {
    SampleRandom random(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index), i);
    if (!random.bernoulli(steps_[i].probability)) continue;
    out = apply_step(steps_[i], out, random);
  }
  return out;
}

}  // namespace felis
