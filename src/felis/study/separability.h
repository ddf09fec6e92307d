// Linear separability of a training set, decided with a certificate either way.
//
// Legend: N images used, D = H W C pixel features, K classes.
// Image i becomes the point a_i = s_i (x_i, 1) in R^(D+1), where x_i is its pixels / 255,
// s_i = +1 for the positive class and -1 for every other class, and the trailing 1 carries
// the bias. Wolfe's minimum-norm-point algorithm (P. Wolfe, "Finding the nearest point in a
// polytope", Mathematical Programming 11, 1976) finds p = sum_i lambda_i a_i, the point of
// conv{a_i} nearest the origin, with lambda >= 0 and sum lambda = 1. Then:
//   p != 0: (w, b) = p separates strictly, because a_i . p >= |p|^2 > 0 for every i.
//           Certificate: (w, b) and the smallest margin s_i (w . x_i + b).
//   p == 0: the two classes' convex hulls intersect, so no hyperplane separates them.
//           Certificate: lambda with sum_i lambda_i a_i = 0 (Farkas' lemma).
// The algorithm is exact and finite in exact arithmetic. In floating point "p == 0" means
// |p| <= zero_tolerance * max_i |a_i|, and a run that meets neither test, or reaches the
// iteration cap, returns `undecided` rather than a claim it cannot back.
//
// The points are held as double, 8 N (D + 1) bytes: 377 MB for all 60,000 Fashion-MNIST
// training images, so large sets are usually tested on a subsample (max_images).
#pragma once

#include "felis/data/dataset.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace felis {

struct SeparabilityOptions {
  // 0 uses every image. Otherwise a uniformly random subsample of min(N, max_images)
  // images, drawn with `seed`, is tested (kept in data set order).
  int64_t max_images = 0;
  // Seeds one std::mt19937_64, which draws the subsample (subsample_indices) and then
  // the label shuffle (shuffled_labels). Without a subsample the shuffle equals
  // shuffled_labels(labels, seed).
  uint64_t seed = 1;
  // Shuffles the labels of the images used (after subsampling): the control that shows
  // how separable random labels are.
  bool shuffle_labels = false;
  // Cap on Wolfe's major iterations, each of which adds one point to the corral and costs
  // one pass of N dot products of length D + 1. Reaching it returns `undecided`.
  int64_t max_iterations = 50000;
  // "p == 0" when |p| <= zero_tolerance * max_i |a_i|. The lambda certificate then bounds
  // every hyperplane (w, b): min_i a_i . (w, b) <= |p| |(w, b)|.
  double zero_tolerance = 1e-9;
  // Wolfe's optimality test: stop when |x|^2 - min_i a_i . x <= gap_tolerance |x|^2 for
  // the current point x, so every margin a_i . x is at least (1 - gap_tolerance) |x|^2.
  double gap_tolerance = 1e-10;
  // Keeps the certificate vectors (weights, lambda, image_indices) in the result.
  bool keep_certificate = true;
};

enum class SeparabilityVerdict { separable, not_separable, undecided };
std::string to_string(SeparabilityVerdict verdict);

struct SeparabilityResult {
  SeparabilityVerdict verdict = SeparabilityVerdict::undecided;
  // Why Wolfe's loop stopped: "optimal" (gap test met), "zero" (|x| under the zero
  // tolerance), "iteration cap", or "stalled": rounding stopped progress, because the
  // nearest point was already in the corral or affinely dependent on it, or |x| did not
  // decrease. The verdict comes from the certificates whatever the reason.
  std::string stop_reason;

  int64_t images_used = 0;     // N
  int64_t dimensions = 0;      // D, without the bias
  int32_t positive_class = 0;
  int64_t positive_count = 0;  // images with s_i = +1
  uint64_t seed = 0;
  bool shuffled_labels = false;

  // Smallest margin s_i (w . x_i + b) of the final point p = (w, b), recomputed in double
  // from the pixels. Positive and above its rounding bound for `separable`.
  double min_margin = 0.0;
  // min_margin / |w|: the distance, in units of pixels / 255, from the hyperplane to the
  // nearest image. Infinite when w = 0 and the margin is positive (one class only).
  double geometric_margin = 0.0;
  // |sum_i lambda_i a_i| / max_i |a_i|, recomputed in double from the pixels: at most
  // zero_tolerance for `not_separable`.
  double residual_norm_relative = 0.0;
  double max_point_norm = 0.0;  // max_i |a_i|
  double zero_tolerance = 0.0;  // the option the verdict used
  int64_t support_size = 0;     // nonzero lambda_i

  int64_t iterations = 0;        // major iterations
  int64_t minor_iterations = 0;  // minor cycles that removed a point from the corral
  double seconds = 0.0;          // wall time of the whole test, conversion included

  // Filled when options.keep_certificate is set.
  std::vector<int64_t> image_indices;  // (N) index in the data set of each image used
  std::vector<double> weights;         // (D) w of p = (w, b), acting on pixels / 255
  double bias = 0.0;                   // b of p
  std::vector<double> lambda;          // (N) convex weights, summing to 1
};

// Tests whether a hyperplane separates the images of class `positive_class` from all
// other images of `data`. With two classes that is the pair, with more it is one class
// against the rest. Throws felis::Error for an invalid data set or one without images.
// Throws felis::UsageError when positive_class is not in [0, K), max_images or
// max_iterations is negative, or a tolerance is not in (0, 1).
SeparabilityResult test_separability(const Dataset& data, int32_t positive_class,
                                     const SeparabilityOptions& options = {});

// Returns `labels` shuffled by an unbiased Fisher-Yates with draws from `rng`. The order
// depends only on the generator's state and the count, on every standard library
// (std::shuffle's does not).
std::vector<int32_t> shuffled_labels(std::span<const int32_t> labels, std::mt19937_64& rng);
// The same with a fresh std::mt19937_64(seed).
std::vector<int32_t> shuffled_labels(std::span<const int32_t> labels, uint64_t seed);

// Returns min(count, max_images) distinct indices in [0, count), drawn uniformly with
// `rng` (a partial Fisher-Yates) and sorted. Returns all of [0, count), drawing nothing,
// when max_images is 0 or at least count.
std::vector<int64_t> subsample_indices(int64_t count, int64_t max_images, std::mt19937_64& rng);

// The result without its certificate vectors: {"verdict", "stop_reason", "images_used",
// "dimensions", "positive_class", "positive_count", "seed", "shuffled_labels",
// "min_margin", "geometric_margin", "residual_norm_relative", "max_point_norm",
// "zero_tolerance", "support_size", "iterations", "minor_iterations", "seconds"}.
// Infinite margins are written as null.
nlohmann::json to_json(const SeparabilityResult& result);

}  // namespace felis
