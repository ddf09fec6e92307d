// Invariance probes: a model's test accuracy as a perturbation of the test images grows.
//
// Legend: N test images, C channels.
// Every perturbation is deterministic. A magnitude is measured on several variants and
// the results averaged:
//   shift k pixels      8 variants: (dx, dy) in {-k, 0, k}^2 without (0, 0), reflect border
//   rotate a degrees    2 variants: +a and -a, reflect border
//   tint t              2 C variants: gain 1 + t, then 1 - t, on each channel in turn
//   brightness b        2 variants: +b and -b (fractions of 255)
//   contrast c          2 variants: factor 1 + c and 1 - c (clamped at 0)
//   noise s             1 variant: normal noise of s levels, seeded by (seed, image index)
//   blur s              1 variant: Gaussian blur of s pixels
//   permute f           1 variant: a fraction f of pixel positions shuffled by one fixed
//                       permutation (see pixel_permutation.h), the same for every image
// Magnitude 0 is the clean test set for every perturbation.
#pragma once

#include "felis/data/dataset.h"
#include "felis/data/image.h"
#include "felis/nn/model.h"

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <vector>

namespace felis {

// Largest blur (pixels) and contrast change the probe measures.
inline constexpr double kMaxProbeBlur = 64;
inline constexpr double kMaxProbeContrast = 10;

enum class Perturbation { shift, rotate, tint, brightness, contrast, noise, blur, permute };
std::string to_string(Perturbation perturbation);
// Throws felis::UsageError listing the valid names for any other name.
Perturbation perturbation_from_string(const std::string& name);
// Magnitudes measured when the caller names none, e.g. 0, 1, 2, 4, 8 pixels for shift.
std::vector<double> default_magnitudes(Perturbation perturbation);
// Throws felis::UsageError for a magnitude the perturbation cannot take (negative, not
// finite, a fractional or image-sized shift, a permute fraction above 1, ...).
void check_magnitude(Perturbation perturbation, double magnitude, const ImageShape& shape);

// The number of variants measured at `magnitude` (1 at magnitude 0).
int variant_count(Perturbation perturbation, double magnitude, int64_t channels);
// The test set with variant `variant` in [0, variant_count) of the perturbation applied
// to every image; labels unchanged.
Dataset perturb(const Dataset& data, Perturbation perturbation, double magnitude, int variant,
                uint64_t seed);

struct ProbePoint {
  double magnitude = 0.0;
  int variants = 0;
  double accuracy = 0.0;      // mean over the variants, a fraction
  double accuracy_min = 0.0;  // the worst variant
  double accuracy_max = 0.0;  // the best variant
  double flip_rate = 0.0;     // share of (image, variant) pairs whose predicted class
                              // differs from the clean image's
};

struct ProbeResult {
  Perturbation perturbation = Perturbation::shift;
  std::vector<ProbePoint> points;  // one per magnitude, in the order given
};

// Predicts the clean test set and each perturbed variant with `model`.
// Requires data compatible with the model (see check_compatible) and magnitudes accepted
// by check_magnitude.
ProbeResult probe(Model& model, const Dataset& data, Perturbation perturbation,
                  std::span<const double> magnitudes, uint64_t seed, ThreadPool& pool);

// {"perturbation", "points": [{"magnitude", "variants", "accuracy", "accuracy_min",
//  "accuracy_max", "flip_rate"}]}
nlohmann::json to_json(const ProbeResult& result);

}  // namespace felis
