// Pipeline::apply: draws each step's parameters and runs its transform.
#include "felis/augment/opencv_image.h"
#include "felis/augment/pipeline.h"
#include "felis/augment/transform_into.h"

#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

namespace felis {

namespace {

int64_t round_to_int(double value) { return std::llround(value); }

// Draws the step's parameters from `random` and transforms `image`, for the transforms
// that return a new Image. apply_step runs shift, rotate and tint itself.
Image transformed(const AugmentStep& step, const Image& image, SampleRandom& random) {
  const auto& a = step.arguments;
  const ImageShape& shape = image.shape;
  switch (step.kind) {
    case AugmentKind::shift:
    case AugmentKind::rotate:
    case AugmentKind::tint:
      // apply_step writes these three into its buffer and never calls here.
      assert(false);
      break;
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

// Draws the step's parameters from `random` and writes the transformed `image` into `out`.
// Shift, rotate and tint, which most training runs use, write there directly. The other
// transforms work on a copy of `image`, and their result is copied in.
void apply_step(const AugmentStep& step, ConstImageView image, SampleRandom& random,
                ImageView out, detail::WarpBuffers& warp) {
  const auto& a = step.arguments;
  switch (step.kind) {
    case AugmentKind::shift: {
      const auto k = round_to_int(a[0]);
      const auto dx = static_cast<int>(random.integer(-k, k));
      const auto dy = static_cast<int>(random.integer(-k, k));
      detail::shift_into(image, dx, dy, step.border, out);
      return;
    }
    case AugmentKind::rotate:
      detail::rotate_into(image, random.uniform(-a[0], a[0]), step.border, out, warp);
      return;
    case AugmentKind::tint: {
      const auto channels = static_cast<size_t>(image.shape.channels);
      std::array<double, 3> gains{};
      for (size_t c = 0; c < channels; ++c) gains[c] = random.uniform(1 - a[0], 1 + a[0]);
      detail::tint_into(image, std::span(gains).first(channels), out);
      return;
    }
    default:
      break;
  }
  const size_t bytes = byte_count(image.shape);
  const Image input{.shape = image.shape, .pixels = std::vector<uint8_t>(image.pixels, image.pixels + bytes)};
  const Image result = transformed(step, input, random);
  std::memcpy(out.pixels, result.pixels.data(), bytes);
}

}  // namespace

Image Pipeline::apply(const Image& image, uint64_t seed, int64_t epoch, int64_t index) const {
  Image out = detail::blank_like(image);
  AugmentBuffers buffers;
  apply(detail::view(image), seed, epoch, index, detail::view(out), buffers);
  return out;
}

void Pipeline::apply(ConstImageView image, uint64_t seed, int64_t epoch, int64_t index,
                     ImageView out, AugmentBuffers& buffers) const {
  const auto stream = [&](size_t step) {
    return SampleRandom(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index), step);
  };
  // Whether a step applies is the first draw of its stream. The last step that applies
  // writes into `out`, and the steps before it into whichever buffer the previous step
  // did not write.
  std::optional<size_t> last;
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (stream(i).bernoulli(steps_[i].probability)) last = i;
  }
  if (!last) {
    std::memcpy(out.pixels, image.pixels, byte_count(image.shape));
    return;
  }

  ConstImageView current = image;
  for (size_t i = 0; i <= *last; ++i) {
    SampleRandom random = stream(i);
    if (!random.bernoulli(steps_[i].probability)) continue;
    std::vector<uint8_t>& free_buffer = current.pixels == buffers.front.data() ? buffers.back : buffers.front;
    const ImageView target = i == *last ? out : view_of_buffer(free_buffer, image.shape);
    apply_step(steps_[i], current, random, target, buffers.warp);
    current = {.shape = target.shape, .pixels = target.pixels};
  }
}

}  // namespace felis
