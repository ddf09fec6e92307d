#include "felis/study/separability.h"

#include "felis/error.h"
#include "felis/tensor/tensor.h"

#include <Eigen/Core>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

namespace felis {

namespace {

using Clock = std::chrono::steady_clock;

// A corral member whose affine weight is at most this counts as leaving the corral, and
// a convex weight at most this is dropped (lambda sums to 1).
constexpr double kWeightTolerance = 1e-12;

// A new point is affinely dependent on the corral, within rounding, when its squared
// distance to the corral's affine hull (in the lifted space of the rows (1, a_i)) is at
// most this fraction of 1 + |a_j|^2.
constexpr double kDependenceTolerance = 1e-13;

// Draws a uniform integer in [0, bound) for bound >= 1, rejecting the top partial block of
// 2^64 so that the remainder is unbiased.
uint64_t uniform_below(uint64_t bound, std::mt19937_64& rng) {
  assert(bound >= 1);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t draw = rng();
  while (draw >= limit) draw = rng();
  return draw % bound;
}

// The corral of Wolfe's algorithm: affinely independent points S = {a_i}, with the
// Cholesky factor L of M = B B^T, where B's rows are (1, a_i) for i in S, so
// M_st = 1 + a_s . a_t.
//
// The affine minimizer of aff(S) is y = sum_s alpha_s a_s with
//   alpha = M^{-1} 1 / (1^T M^{-1} 1),
// because the optimality condition of min |A_S^T alpha|^2 subject to 1^T alpha = 1 is
// G alpha = mu 1 for the Gram matrix G = A_S A_S^T, and then M alpha = G alpha + 1 (1^T alpha)
// = (mu + 1) 1. M is positive definite exactly when the points are affinely independent,
// also when the origin lies in their affine hull (where G is singular).
// Adding a point extends L by one row; removing one deletes a row and restores the
// triangle with Givens rotations. Both cost O(k^2) for k members, plus k dot products of
// length D + 1 to add.
class Corral {
public:
  explicit Corral(const RowMatrix<double>& points) : points_(points) {}

  int64_t size() const { return static_cast<int64_t>(members_.size()); }
  const std::vector<int64_t>& members() const { return members_; }
  bool contains(int64_t index) const {
    return std::find(members_.begin(), members_.end(), index) != members_.end();
  }

  // Appends point `index`. Returns false, leaving the corral unchanged, when the point is
  // affinely dependent on the members within kDependenceTolerance.
  bool add(int64_t index) {
    const int64_t k = size();
    const auto point = points_.row(index);

    // With L r = m for the new column m of M, the new row of L is (r, sqrt(d - |r|^2)).
    Eigen::VectorXd column(k);
    for (int64_t s = 0; s < k; ++s) column(s) = 1.0 + points_.row(members_[s]).dot(point);
    const double diagonal = 1.0 + point.squaredNorm();
    Eigen::VectorXd row = factor_.topLeftCorner(k, k).triangularView<Eigen::Lower>().solve(column);
    const double pivot_squared = diagonal - row.squaredNorm();
    if (!(pivot_squared > kDependenceTolerance * diagonal)) return false;

    if (factor_.rows() <= k) {
      const int64_t capacity = std::max<int64_t>(16, 2 * k);
      factor_.conservativeResize(capacity, capacity);
    }
    factor_.row(k).head(k) = row.transpose();
    factor_(k, k) = std::sqrt(pivot_squared);
    members_.push_back(index);
    return true;
  }

  // Removes the member at `position` in members().
  void remove(int64_t position) {
    const int64_t k = size();
    assert(position >= 0);
    assert(position < k);

    // Deleting row `position` of L leaves rows position..k-2 with one entry right of the
    // diagonal. A rotation of columns (r, r + 1) from the right keeps L L^T and zeroes the
    // entry (r, r + 1).
    for (int64_t r = position; r + 1 < k; ++r) factor_.row(r).head(k) = factor_.row(r + 1).head(k);
    for (int64_t r = position; r + 1 < k; ++r) {
      const double a = factor_(r, r);
      const double b = factor_(r, r + 1);
      const double h = std::hypot(a, b);
      const double c = a / h;
      const double s = b / h;
      for (int64_t i = r; i + 1 < k; ++i) {
        const double u = factor_(i, r);
        const double v = factor_(i, r + 1);
        factor_(i, r) = c * u + s * v;
        factor_(i, r + 1) = -s * u + c * v;
      }
    }
    members_.erase(members_.begin() + position);
  }

  // The weights alpha (k) of the affine minimizer of aff(S), summing to 1.
  Eigen::VectorXd affine_minimizer_weights() const {
    const int64_t k = size();
    const auto factor = factor_.topLeftCorner(k, k);
    Eigen::VectorXd u = factor.triangularView<Eigen::Lower>().solve(Eigen::VectorXd::Ones(k));
    factor.transpose().triangularView<Eigen::Upper>().solveInPlace(u);
    return u / u.sum();
  }

private:
  const RowMatrix<double>& points_;  // (N, D + 1)
  std::vector<int64_t> members_;     // (k) row indices into points_
  Eigen::MatrixXd factor_;           // L in its top-left (k, k), lower triangular
};

struct WolfeOutcome {
  std::vector<double> lambda;  // (N) convex weights of the final point
  Eigen::VectorXd point;       // (D + 1) x = sum_i lambda_i a_i
  std::string stop_reason;
  int64_t iterations = 0;
  int64_t minor_iterations = 0;
};

// The point sum_s weights_s a_s of the corral's members, (D + 1).
Eigen::VectorXd corral_point(const RowMatrix<double>& points, const Corral& corral,
                             const Eigen::VectorXd& weights) {
  Eigen::VectorXd point = Eigen::VectorXd::Zero(points.cols());
  for (int64_t s = 0; s < corral.size(); ++s) {
    point.noalias() += weights(s) * points.row(corral.members()[s]).transpose();
  }
  return point;
}

// Wolfe's minimum-norm-point algorithm on the rows of `points` (N, D + 1).
//   Major iteration: for the current point x, pick j = argmin_i a_i . x. Stop when
//     |x|^2 - a_j . x <= gap_tolerance |x|^2 (x is nearest within the tolerance), or when
//     |x| <= zero_tolerance max|a_i|. Otherwise add a_j to the corral with weight 0.
//   Minor cycle: let y be the affine minimizer of the corral. If its weights alpha are all
//     positive, x = y. Otherwise move the weights lambda toward alpha until the first one
//     reaches 0, drop the members whose weight is 0, and repeat.
// |x| decreases strictly at every major iteration in exact arithmetic, so a corral never
// repeats and the loop ends. In floating point a major iteration that does not decrease
// |x|, or a point already in the corral or dependent on it, ends the loop as "stalled".
WolfeOutcome minimum_norm_point(const RowMatrix<double>& points, double max_norm,
                                const SeparabilityOptions& options) {
  const int64_t n = points.rows();
  WolfeOutcome outcome;

  // Start from the point of least norm, alone in the corral.
  Eigen::VectorXd squared_norms = points.rowwise().squaredNorm();
  Eigen::Index start = 0;
  squared_norms.minCoeff(&start);
  Corral corral(points);
  const bool added = corral.add(start);
  assert(added);
  (void)added;
  Eigen::VectorXd weights = Eigen::VectorXd::Ones(1);  // (k) lambda of the members
  Eigen::VectorXd x = points.row(start).transpose();   // (D + 1)
  Eigen::VectorXd dots(n);                             // (N) a_i . x

  double previous_squared_norm = std::numeric_limits<double>::infinity();
  while (true) {
    const double squared_norm = x.squaredNorm();
    if (std::sqrt(squared_norm) <= options.zero_tolerance * max_norm) {
      outcome.stop_reason = "zero";
      break;
    }
    if (squared_norm >= previous_squared_norm) {
      outcome.stop_reason = "stalled";
      break;
    }
    previous_squared_norm = squared_norm;

    dots.noalias() = points * x;
    Eigen::Index nearest = 0;
    const double min_dot = dots.minCoeff(&nearest);
    if (squared_norm - min_dot <= options.gap_tolerance * squared_norm) {
      outcome.stop_reason = "optimal";
      break;
    }
    if (outcome.iterations == options.max_iterations) {
      outcome.stop_reason = "iteration cap";
      break;
    }
    ++outcome.iterations;
    if (corral.contains(nearest) || !corral.add(nearest)) {
      outcome.stop_reason = "stalled";
      break;
    }
    weights.conservativeResize(corral.size());
    weights(corral.size() - 1) = 0.0;

    while (true) {
      const Eigen::VectorXd alpha = corral.affine_minimizer_weights();
      if (alpha.minCoeff() > kWeightTolerance) {
        weights = alpha;
        break;
      }

      // theta is the largest step from lambda toward alpha that keeps every weight >= 0.
      double theta = 1.0;
      for (int64_t s = 0; s < corral.size(); ++s) {
        if (alpha(s) <= kWeightTolerance && weights(s) > alpha(s)) {
          theta = std::min(theta, weights(s) / (weights(s) - alpha(s)));
        }
      }
      weights = (1.0 - theta) * weights + theta * alpha;

      // At least the member that set theta (or, with theta = 1, one whose alpha is at most
      // the tolerance) leaves. Weights sum to 1, so the largest stays.
      for (int64_t s = corral.size() - 1; s >= 0; --s) {
        if (weights(s) > kWeightTolerance) continue;
        corral.remove(s);
        const int64_t tail = weights.size() - s - 1;
        weights.segment(s, tail) = weights.tail(tail).eval();
        weights.conservativeResize(weights.size() - 1);
      }
      weights /= weights.sum();
      ++outcome.minor_iterations;
    }
    x = corral_point(points, corral, weights);
  }

  outcome.lambda.assign(static_cast<size_t>(n), 0.0);
  for (int64_t s = 0; s < corral.size(); ++s) {
    outcome.lambda[static_cast<size_t>(corral.members()[s])] = weights(s);
  }
  outcome.point = std::move(x);
  return outcome;
}

void check_options(const Dataset& data, int32_t positive_class,
                   const SeparabilityOptions& options) {
  if (positive_class < 0 || positive_class >= data.class_count()) {
    throw UsageError(fmt::format(
        "invalid positive class {} for the separability test: expected a class index in "
        "[0, {}) of {}",
        positive_class, data.class_count(), data.source));
  }
  if (options.max_images < 0) {
    throw UsageError(fmt::format("invalid max_images {}: expected 0 (all images) or more",
                                 options.max_images));
  }
  if (options.max_iterations < 0) {
    throw UsageError(
        fmt::format("invalid max_iterations {}: expected 0 or more", options.max_iterations));
  }
  const std::array<std::pair<const char*, double>, 2> tolerances = {
      {{"zero_tolerance", options.zero_tolerance}, {"gap_tolerance", options.gap_tolerance}}};
  for (const auto& [name, value] : tolerances) {
    if (!(value > 0.0 && value < 1.0)) {
      throw UsageError(fmt::format("invalid {} {}: expected a value in (0, 1)", name, value));
    }
  }
}

}  // namespace

std::string to_string(SeparabilityVerdict verdict) {
  switch (verdict) {
    case SeparabilityVerdict::separable:
      return "separable";
    case SeparabilityVerdict::not_separable:
      return "not separable";
    case SeparabilityVerdict::undecided:
      return "undecided";
  }
  return "undecided";
}

std::vector<int32_t> shuffled_labels(std::span<const int32_t> labels, std::mt19937_64& rng) {
  std::vector<int32_t> shuffled(labels.begin(), labels.end());
  for (size_t i = shuffled.size(); i > 1; --i) {
    std::swap(shuffled[i - 1], shuffled[uniform_below(i, rng)]);
  }
  return shuffled;
}

std::vector<int32_t> shuffled_labels(std::span<const int32_t> labels, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return shuffled_labels(labels, rng);
}

std::vector<int64_t> subsample_indices(int64_t count, int64_t max_images, std::mt19937_64& rng) {
  assert(count >= 0);
  assert(max_images >= 0);
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), int64_t{0});
  if (max_images == 0 || max_images >= count) return indices;

  // Partial Fisher-Yates: position i takes a uniform pick from positions [i, count).
  for (int64_t i = 0; i < max_images; ++i) {
    const auto pick = i + static_cast<int64_t>(uniform_below(static_cast<uint64_t>(count - i), rng));
    std::swap(indices[static_cast<size_t>(i)], indices[static_cast<size_t>(pick)]);
  }
  indices.resize(static_cast<size_t>(max_images));
  std::sort(indices.begin(), indices.end());
  return indices;
}

SeparabilityResult test_separability(const Dataset& data, int32_t positive_class,
                                     const SeparabilityOptions& options) {
  const auto start_time = Clock::now();
  data.validate();
  if (data.count == 0) {
    throw Error(fmt::format("{} has no images: the separability test needs at least one",
                            data.source));
  }
  check_options(data, positive_class, options);

  // Images and their signs s_i.
  std::mt19937_64 rng(options.seed);
  const std::vector<int64_t> used = subsample_indices(data.count, options.max_images, rng);
  const auto n = static_cast<int64_t>(used.size());
  const int64_t d = data.image_size();
  std::vector<int32_t> labels(used.size());
  for (size_t i = 0; i < used.size(); ++i) labels[i] = data.labels[static_cast<size_t>(used[i])];
  if (options.shuffle_labels) labels = shuffled_labels(labels, rng);
  std::vector<double> signs(used.size());
  for (size_t i = 0; i < used.size(); ++i) signs[i] = labels[i] == positive_class ? 1.0 : -1.0;

  // Points a_i = s_i (x_i, 1), (N, D + 1), with x_i = pixels / 255.
  std::array<double, 256> scaled{};
  for (size_t v = 0; v < scaled.size(); ++v) scaled[v] = static_cast<double>(v) / 255.0;
  RowMatrix<double> points(n, d + 1);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* pixels = data.image(used[static_cast<size_t>(i)]);
    const double sign = signs[static_cast<size_t>(i)];
    for (int64_t k = 0; k < d; ++k) points(i, k) = sign * scaled[pixels[k]];
    points(i, d) = sign;
  }
  const Eigen::VectorXd norms = points.rowwise().norm();  // (N) |a_i|
  const double max_norm = norms.maxCoeff();

  WolfeOutcome outcome = minimum_norm_point(points, max_norm, options);

  // Certificates, recomputed in double from the pixels rather than taken from the loop.
  // margin_i = s_i (w . x_i + b) for p = (w, b); residual r = sum_i lambda_i s_i (x_i, 1).
  const Eigen::VectorXd& p = outcome.point;
  const double p_norm = p.norm();
  const double unit_roundoff = std::numeric_limits<double>::epsilon() / 2;
  Eigen::VectorXd residual = Eigen::VectorXd::Zero(d + 1);
  Eigen::VectorXd x(d + 1);
  double min_margin = std::numeric_limits<double>::infinity();
  bool every_margin_certain = true;
  int64_t support_size = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* pixels = data.image(used[static_cast<size_t>(i)]);
    for (int64_t k = 0; k < d; ++k) x(k) = scaled[pixels[k]];
    x(d) = 1.0;
    const double sign = signs[static_cast<size_t>(i)];
    const double margin = sign * x.dot(p);
    min_margin = std::min(min_margin, margin);
    // A dot product of length D + 1 errs by at most (D + 1) u |a_i| |p| (u the unit
    // roundoff), and pixels / 255 by one more u |a_i| |p|.
    const double rounding_bound = static_cast<double>(d + 2) * unit_roundoff * norms(i) * p_norm;
    if (!(margin > rounding_bound)) every_margin_certain = false;
    const double lambda = outcome.lambda[static_cast<size_t>(i)];
    if (lambda != 0.0) {
      residual.noalias() += (lambda * sign) * x;
      ++support_size;
    }
  }

  SeparabilityResult result;
  result.stop_reason = outcome.stop_reason;
  result.images_used = n;
  result.dimensions = d;
  result.positive_class = positive_class;
  result.positive_count = std::count(signs.begin(), signs.end(), 1.0);
  result.seed = options.seed;
  result.shuffled_labels = options.shuffle_labels;
  result.min_margin = min_margin;
  const double w_norm = p.head(d).norm();
  if (w_norm > 0.0) {
    result.geometric_margin = min_margin / w_norm;
  } else {
    result.geometric_margin =
        min_margin > 0.0 ? std::numeric_limits<double>::infinity() : std::nan("");
  }
  result.residual_norm_relative = residual.norm() / max_norm;
  result.max_point_norm = max_norm;
  result.zero_tolerance = options.zero_tolerance;
  result.support_size = support_size;
  result.iterations = outcome.iterations;
  result.minor_iterations = outcome.minor_iterations;

  // A verified positive margin is the stronger claim, so it wins over a small residual.
  if (every_margin_certain) {
    result.verdict = SeparabilityVerdict::separable;
  } else if (result.residual_norm_relative <= options.zero_tolerance) {
    result.verdict = SeparabilityVerdict::not_separable;
  } else {
    result.verdict = SeparabilityVerdict::undecided;
  }

  if (options.keep_certificate) {
    result.image_indices = used;
    result.weights.assign(p.data(), p.data() + d);
    result.bias = p(d);
    result.lambda = std::move(outcome.lambda);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start_time).count();
  return result;
}

nlohmann::json to_json(const SeparabilityResult& result) {
  // JSON has no infinity or NaN.
  const auto finite_or_null = [](double value) -> nlohmann::json {
    if (std::isfinite(value)) return value;
    return nullptr;
  };
  return {{"verdict", to_string(result.verdict)},
          {"stop_reason", result.stop_reason},
          {"images_used", result.images_used},
          {"dimensions", result.dimensions},
          {"positive_class", result.positive_class},
          {"positive_count", result.positive_count},
          {"seed", result.seed},
          {"shuffled_labels", result.shuffled_labels},
          {"min_margin", finite_or_null(result.min_margin)},
          {"geometric_margin", finite_or_null(result.geometric_margin)},
          {"residual_norm_relative", result.residual_norm_relative},
          {"max_point_norm", result.max_point_norm},
          {"zero_tolerance", result.zero_tolerance},
          {"support_size", result.support_size},
          {"iterations", result.iterations},
          {"minor_iterations", result.minor_iterations},
          {"seconds", result.seconds}};
}

}  // namespace felis
