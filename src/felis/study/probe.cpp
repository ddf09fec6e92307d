#include "felis/study/probe.h"

#include "felis/augment/pipeline.h"
#include "felis/augment/random.h"
#include "felis/augment/transform.h"
#include "felis/data/pixel_permutation.h"
#include "felis/error.h"
#include "felis/train/evaluate.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>

namespace felis {

namespace {

constexpr std::array<Perturbation, 8> kPerturbations = {
    Perturbation::shift,    Perturbation::rotate, Perturbation::tint, Perturbation::brightness,
    Perturbation::contrast, Perturbation::noise,  Perturbation::blur, Perturbation::permute};

// Images per ThreadPool task. The split does not depend on the thread count, and every
// image's result depends only on the image and its index, so any thread count gives the
// same pixels.
constexpr int64_t kImagesPerTask = 16;

// Maps a clean image and its index in the data set to the perturbed image.
using ImageTransform = std::function<Image(const Image& image, int64_t index)>;

// Variant v of a shift by k: the 3 x 3 grid of (dx, dy) in {-k, 0, k}^2, row by row from
// (-k, -k) to (k, k), without its centre (0, 0).
std::array<int, 2> shift_offsets(int k, int variant) {
  const int cell = variant < 4 ? variant : variant + 1;
  return {(cell % 3 - 1) * k, (cell / 3 - 1) * k};
}

ImageTransform variant_transform(Perturbation perturbation, double magnitude, int variant,
                                 uint64_t seed, const ImageShape& shape) {
  const double sign = variant % 2 == 0 ? 1.0 : -1.0;
  switch (perturbation) {
    case Perturbation::shift: {
      const auto offsets = shift_offsets(static_cast<int>(magnitude), variant);
      return [offsets](const Image& image, int64_t) {
        return shift(image, offsets[0], offsets[1], Border::reflect);
      };
    }
    case Perturbation::rotate:
      return [degrees = sign * magnitude](const Image& image, int64_t) {
        return rotate(image, degrees, Border::reflect);
      };
    case Perturbation::tint: {
      // Variants 2c and 2c + 1 scale channel c by 1 + t and 1 - t. Other channels keep gain 1.
      std::vector<double> gains(static_cast<size_t>(shape.channels), 1.0);
      gains[static_cast<size_t>(variant / 2)] = 1.0 + sign * magnitude;
      return [gains](const Image& image, int64_t) { return tint(image, gains); };
    }
    case Perturbation::brightness:
      return [delta = sign * magnitude](const Image& image, int64_t) {
        return brightness(image, delta);
      };
    case Perturbation::contrast:
      return [factor = std::max(0.0, 1.0 + sign * magnitude)](const Image& image, int64_t) {
        return contrast(image, factor);
      };
    case Perturbation::noise:
      return [magnitude, seed](const Image& image, int64_t index) {
        SampleRandom random(seed, 0, static_cast<uint64_t>(index), 0);
        return gaussian_noise(image, magnitude, random);
      };
    case Perturbation::blur:
      return [magnitude](const Image& image, int64_t) { return blur(image, magnitude); };
    case Perturbation::permute: {
      // One permutation for the whole data set, so every image is scrambled the same way.
      auto permutation = std::make_shared<const std::vector<int32_t>>(
          pixel_permutation(seed, shape.height * shape.width, magnitude));
      return [permutation](const Image& image, int64_t) {
        Image out{image.shape, std::vector<uint8_t>(image.pixels.size())};
        permute_pixels(image.pixels.data(), out.pixels.data(), image.shape, *permutation);
        return out;
      };
    }
  }
  assert(false && "unhandled perturbation");
  return {};
}

// Writes variant `variant` of the perturbation of every image of `data` into `out`, which
// gets the data's shape, labels and classes. `out` may hold an earlier variant, so its
// pixel buffer is reused.
void perturb_into(const Dataset& data, Perturbation perturbation, double magnitude, int variant,
                  uint64_t seed, ThreadPool& pool, Dataset& out) {
  assert(variant >= 0);
  assert(variant < variant_count(perturbation, magnitude, data.channels));
  const ImageShape shape{data.height, data.width, data.channels};
  check_magnitude(perturbation, magnitude, shape);
  out.count = data.count;
  out.height = data.height;
  out.width = data.width;
  out.channels = data.channels;
  out.labels = data.labels;
  out.class_names = data.class_names;
  out.generated_class_names = data.generated_class_names;
  out.source = data.source;
  if (magnitude == 0.0) {
    out.pixels = data.pixels;
    return;
  }

  const ImageTransform transform = variant_transform(perturbation, magnitude, variant, seed, shape);
  const auto image_size = static_cast<size_t>(data.image_size());
  out.pixels.resize(data.pixels.size());
  // ThreadPool tasks must not throw, so each task keeps its exception for the caller.
  const int64_t tasks = chunk_count(data.count, kImagesPerTask);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(tasks));
  pool.run(tasks, [&](int64_t task) {
    try {
      const int64_t end = std::min(data.count, (task + 1) * kImagesPerTask);
      Image image{shape, std::vector<uint8_t>(image_size)};
      for (int64_t i = task * kImagesPerTask; i < end; ++i) {
        std::memcpy(image.pixels.data(), data.image(i), image_size);
        const Image result = transform(image, i);
        assert(result.pixels.size() == image_size);
        std::memcpy(out.pixels.data() + static_cast<size_t>(i) * image_size, result.pixels.data(),
                    image_size);
      }
    } catch (...) {
      errors[static_cast<size_t>(task)] = std::current_exception();
    }
  });
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

double accuracy_of(std::span<const int32_t> predicted, std::span<const int32_t> labels) {
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predicted[i] == labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

}  // namespace

std::string to_string(Perturbation perturbation) {
  switch (perturbation) {
    case Perturbation::shift: return "shift";
    case Perturbation::rotate: return "rotate";
    case Perturbation::tint: return "tint";
    case Perturbation::brightness: return "brightness";
    case Perturbation::contrast: return "contrast";
    case Perturbation::noise: return "noise";
    case Perturbation::blur: return "blur";
    case Perturbation::permute: return "permute";
  }
  return "unknown";
}

Perturbation perturbation_from_string(const std::string& name) {
  std::vector<std::string> names;
  for (const Perturbation perturbation : kPerturbations) {
    if (to_string(perturbation) == name) return perturbation;
    names.push_back(to_string(perturbation));
  }
  throw UsageError(fmt::format("perturbation '{}' is unknown; use one of {}", name,
                               fmt::join(names, ", ")));
}

std::vector<double> default_magnitudes(Perturbation perturbation) {
  switch (perturbation) {
    case Perturbation::shift: return {0, 1, 2, 4, 8};                // pixels
    case Perturbation::rotate: return {0, 5, 10, 20, 30, 45};        // degrees
    case Perturbation::tint: return {0, 0.1, 0.2, 0.4, 0.6};         // gain change
    case Perturbation::brightness: return {0, 0.05, 0.1, 0.2, 0.3};  // fractions of 255
    case Perturbation::contrast: return {0, 0.1, 0.2, 0.4, 0.6};     // factor change
    case Perturbation::noise: return {0, 4, 8, 16, 32};              // levels of 255
    case Perturbation::blur: return {0, 0.5, 1, 2, 4};               // pixels
    case Perturbation::permute: return {0, 0.1, 0.25, 0.5, 1};       // share of positions
  }
  return {0};
}

void check_magnitude(Perturbation perturbation, double magnitude, const ImageShape& shape) {
  const std::string name = to_string(perturbation);
  if (!std::isfinite(magnitude) || magnitude < 0) {
    throw UsageError(fmt::format("{} magnitude {} is invalid; use a finite number of at least 0",
                                 name, magnitude));
  }
  const int64_t smaller_side = std::min(shape.height, shape.width);
  const int64_t larger_side = std::max(shape.height, shape.width);
  switch (perturbation) {
    case Perturbation::shift:
      if (magnitude != std::floor(magnitude)) {
        throw UsageError(fmt::format("shift magnitude {} is not a whole number of pixels; use "
                                     "0, 1, 2, ...",
                                     magnitude));
      }
      if (magnitude >= static_cast<double>(smaller_side)) {
        throw UsageError(fmt::format("shift magnitude {} pixels does not fit {}x{} images; use "
                                     "at most {}",
                                     magnitude, shape.height, shape.width, smaller_side - 1));
      }
      return;
    case Perturbation::rotate:
      if (magnitude > 0 && larger_side > kMaxWarpSide) {
        throw UsageError(fmt::format("rotate cannot warp {}x{} images: OpenCV's warps take sides "
                                     "up to {} pixels",
                                     shape.height, shape.width, kMaxWarpSide));
      }
      if (magnitude > 180) {
        throw UsageError(fmt::format("rotate magnitude {} degrees is above 180; +a and -a "
                                     "already cover every angle up to 180",
                                     magnitude));
      }
      return;
    case Perturbation::tint:
    case Perturbation::brightness:
    case Perturbation::permute:
      if (magnitude > 1) {
        const char* reason = perturbation == Perturbation::tint ? "the gain 1 - t would be negative"
                             : perturbation == Perturbation::brightness
                                 ? "it is a fraction of 255"
                                 : "it is the fraction of pixel positions shuffled";
        throw UsageError(fmt::format("{} magnitude {} is above 1, but {}; use 0 to 1", name,
                                     magnitude, reason));
      }
      return;
    case Perturbation::blur: {
      // A wider Gaussian flattens the image all the same, and its kernel, about 6 sigma
      // wide, makes the cost grow with sigma.
      const double limit = std::min<double>(static_cast<double>(larger_side), kMaxProbeBlur);
      if (magnitude > limit) {
        throw UsageError(fmt::format("blur magnitude {} pixels is too wide for {}x{} images; use "
                                     "at most {}",
                                     magnitude, shape.height, shape.width, limit));
      }
      return;
    }
    case Perturbation::contrast:
      if (magnitude > kMaxProbeContrast) {
        throw UsageError(fmt::format("contrast magnitude {} is above {}; a factor of 1 + {} "
                                     "already saturates almost every pixel",
                                     magnitude, kMaxProbeContrast, kMaxProbeContrast));
      }
      return;
    case Perturbation::noise:
      if (magnitude > 255) {
        throw UsageError(fmt::format("noise magnitude {} is above 255 levels, the whole pixel "
                                     "range; use 0 to 255",
                                     magnitude));
      }
      return;
  }
}

int variant_count(Perturbation perturbation, double magnitude, int64_t channels) {
  if (magnitude == 0.0) return 1;
  switch (perturbation) {
    case Perturbation::shift: return 8;
    case Perturbation::tint: return static_cast<int>(2 * channels);
    case Perturbation::rotate:
    case Perturbation::brightness:
    case Perturbation::contrast: return 2;
    case Perturbation::noise:
    case Perturbation::blur:
    case Perturbation::permute: return 1;
  }
  return 1;
}

Dataset perturb(const Dataset& data, Perturbation perturbation, double magnitude, int variant,
                uint64_t seed) {
  ThreadPool inline_pool(1);
  Dataset out;
  perturb_into(data, perturbation, magnitude, variant, seed, inline_pool, out);
  return out;
}

ProbeResult probe(Model& model, const Dataset& data, Perturbation perturbation,
                  std::span<const double> magnitudes, uint64_t seed, ThreadPool& pool) {
  const ImageShape shape{data.height, data.width, data.channels};
  for (const double magnitude : magnitudes) check_magnitude(perturbation, magnitude, shape);
  check_compatible(model, data);
  if (data.count == 0) {
    throw Error(fmt::format("{} has no images to probe; use a data set with a non-empty test "
                            "split",
                            data.source));
  }

  const std::vector<int32_t> clean = predicted_classes(predict_probabilities(model, data, pool));
  const double clean_accuracy = accuracy_of(clean, data.labels);

  // One perturbed copy at a time, its buffer reused, so the probe keeps two copies of the
  // test set besides predict_probabilities' float batch.
  ProbeResult result{.perturbation = perturbation, .points = {}};
  Dataset perturbed;
  for (const double magnitude : magnitudes) {
    ProbePoint point{.magnitude = magnitude == 0.0 ? 0.0 : magnitude,  // -0 becomes 0
                     .variants = variant_count(perturbation, magnitude, data.channels)};
    if (magnitude == 0.0) {
      point.accuracy = point.accuracy_min = point.accuracy_max = clean_accuracy;
      result.points.push_back(point);
      continue;
    }

    double accuracy_sum = 0.0;
    point.accuracy_min = 1.0;
    point.accuracy_max = 0.0;
    int64_t flips = 0;
    for (int variant = 0; variant < point.variants; ++variant) {
      perturb_into(data, perturbation, magnitude, variant, seed, pool, perturbed);
      const auto predicted = predicted_classes(predict_probabilities(model, perturbed, pool));
      const double accuracy = accuracy_of(predicted, data.labels);
      accuracy_sum += accuracy;
      point.accuracy_min = std::min(point.accuracy_min, accuracy);
      point.accuracy_max = std::max(point.accuracy_max, accuracy);
      for (size_t i = 0; i < clean.size(); ++i) flips += predicted[i] != clean[i] ? 1 : 0;
    }
    point.accuracy = accuracy_sum / point.variants;
    point.flip_rate = static_cast<double>(flips) /
                      (static_cast<double>(data.count) * static_cast<double>(point.variants));
    result.points.push_back(point);
  }
  return result;
}

nlohmann::json to_json(const ProbeResult& result) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& point : result.points) {
    points.push_back({{"magnitude", point.magnitude},
                      {"variants", point.variants},
                      {"accuracy", point.accuracy},
                      {"accuracy_min", point.accuracy_min},
                      {"accuracy_max", point.accuracy_max},
                      {"flip_rate", point.flip_rate}});
  }
  return {{"perturbation", to_string(result.perturbation)}, {"points", points}};
}

}  // namespace felis
