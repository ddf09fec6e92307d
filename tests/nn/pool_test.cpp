// MaxPool2d, AvgPool2d and Flatten: hand-computed outputs and input gradients,
// finite-difference input gradients, shape errors and config round trips.
//
// Legend: N samples, C channels, H x W pixels, k window side, s stride.
#include "felis/nn/flatten.h"
#include "felis/nn/pool2d.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <random>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-7;

Tensor<double> tensor_of(Shape shape, const std::vector<double>& values) {
  Tensor<double> tensor(std::move(shape));
  assert(static_cast<int64_t>(values.size()) == tensor.size());
  std::copy(values.begin(), values.end(), tensor.data());
  return tensor;
}

void expect_values(const Tensor<double>& actual, const Shape& shape,
                   const std::vector<double>& expected) {
  ASSERT_EQ(actual.shape(), shape);
  for (int64_t i = 0; i < actual.size(); ++i) {
    EXPECT_DOUBLE_EQ(actual[i], expected[static_cast<size_t>(i)]) << "at flat index " << i;
  }
}

// Largest |analytic - central difference| of dL/dx for L = sum of y * r with a fixed
// random r, over a random x (N, C, H, W).
double max_input_gradient_error(Layer<double>& layer, const Shape& input_shape) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  ThreadPool pool(2);
  const PassContext context{.pool = &pool, .training = true};
  Tensor<double> x(input_shape);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = uniform(rng);
  Tensor<double> y;
  layer.forward(x, y, context);
  Tensor<double> r(y.shape());
  for (int64_t i = 0; i < r.size(); ++i) r[i] = uniform(rng);
  Tensor<double> dx;
  layer.backward(r, &dx, context);
  EXPECT_EQ(dx.shape(), x.shape());

  auto loss = [&] {
    Tensor<double> out;
    layer.forward(x, out, context);
    return out.matrix().cwiseProduct(r.matrix()).sum();
  };
  double worst = 0.0;
  for (int64_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + kStep;
    const double plus = loss();
    x[i] = saved - kStep;
    const double minus = loss();
    x[i] = saved;
    worst = std::max(worst, std::abs(dx[i] - (plus - minus) / (2 * kStep)));
  }
  return worst;
}

// ---- MaxPool2d ----

TEST(MaxPool, ForwardAndBackwardWithTie) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  MaxPool2d<double> max_pool(/*kernel=*/2, /*stride=*/2);
  // The left window contains 3 twice and the right window 5 twice. The first of each wins.
  const Tensor<double> x = tensor_of({1, 1, 2, 4}, {1, 3, 3, 0,  //
                                                    2, 3, 5, 5});
  Tensor<double> y;
  max_pool.forward(x, y, context);
  expect_values(y, {1, 1, 1, 2}, {3, 5});

  Tensor<double> dx;
  max_pool.backward(tensor_of({1, 1, 1, 2}, {10, 20}), &dx, context);
  expect_values(dx, {1, 1, 2, 4}, {0, 10, 0, 0,  //
                                   0, 0, 20, 0});
}

// Values from a set of three make many ties, including ties between the upper right and
// the lower left pixel of a window. Odd sides leave a last row and column that no window
// covers. The 2x2 kernel must pick the first maximum in row-major order everywhere.
TEST(MaxPool, TwoByTwoTiesMatchRowMajorReference) {
  ThreadPool pool(2);
  const PassContext context{.pool = &pool, .training = true};
  MaxPool2d<float> max_pool(/*kernel=*/2, /*stride=*/2);
  const int64_t samples = 11, channels = 3, height = 7, width = 9;
  Tensor<float> x({samples, channels, height, width});
  std::mt19937_64 rng(4);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng() % 3);
  Tensor<float> y;
  max_pool.forward(x, y, context);
  Tensor<float> dy(y.shape());
  for (int64_t i = 0; i < dy.size(); ++i) dy[i] = static_cast<float>(i + 1);
  Tensor<float> dx;
  max_pool.backward(dy, &dx, context);

  Tensor<float> expected_dx(x.shape());
  expected_dx.set_zero();
  int64_t o = 0;
  for (int64_t plane = 0; plane < samples * channels; ++plane) {
    for (int64_t i = 0; i < height / 2; ++i) {
      for (int64_t j = 0; j < width / 2; ++j, ++o) {
        int64_t best = (plane * height + 2 * i) * width + 2 * j;
        for (const int64_t candidate : {best + 1, best + width, best + width + 1}) {
          if (x[candidate] > x[best]) best = candidate;
        }
        ASSERT_EQ(y[o], x[best]) << "output " << o;
        expected_dx[best] = dy[o];
      }
    }
  }
  for (int64_t i = 0; i < dx.size(); ++i) ASSERT_EQ(dx[i], expected_dx[i]) << "dx at " << i;
}

TEST(MaxPool, OverlappingWindowsShareAMaximum) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  MaxPool2d<double> max_pool(/*kernel=*/2, /*stride=*/1);
  const Tensor<double> x = tensor_of({1, 1, 3, 3}, {1, 2, 1,  //
                                                    2, 9, 2,  //
                                                    1, 2, 1});
  Tensor<double> y;
  max_pool.forward(x, y, context);
  expect_values(y, {1, 1, 2, 2}, {9, 9, 9, 9});

  // The center is every window's maximum, so it collects the whole of dy.
  Tensor<double> dx;
  max_pool.backward(tensor_of({1, 1, 2, 2}, {1, 2, 3, 4}), &dx, context);
  expect_values(dx, {1, 1, 3, 3}, {0, 0, 0, 0, 10, 0, 0, 0, 0});
}

TEST(MaxPool, GradientsMatchFiniteDifferences) {
  for (const auto& [kernel, stride] : {std::pair{2, 2}, {3, 2}, {2, 1}, {3, 3}}) {
    MaxPool2d<double> max_pool(kernel, stride);
    const double worst = max_input_gradient_error(max_pool, {3, 2, 7, 6});
    EXPECT_LT(worst, kTolerance) << "worst error " << worst << " for k=" << kernel
                                 << " s=" << stride;
  }
}

TEST(MaxPool, OutputShapeDropsPartialWindows) {
  const MaxPool2d<float> max_pool(/*kernel=*/3, /*stride=*/2);
  EXPECT_EQ(max_pool.output_shape({4, 4, 9}), (Shape{4, 1, 4}));
}

TEST(MaxPool, KernelLargerThanInput) {
  const MaxPool2d<float> max_pool(/*kernel=*/3, /*stride=*/1);
  const std::string message = error_message([&] { (void)max_pool.output_shape({2, 2, 5}); });
  EXPECT_TRUE(contains(message, "maxpool layer (kernel 3, stride 1)")) << message;
  EXPECT_TRUE(contains(message, "(2, 2, 5)")) << message;
  EXPECT_TRUE(contains(message, "smaller than the kernel")) << message;
}

TEST(MaxPool, ConfigRoundTrip) {
  const nlohmann::json config = MaxPool2d<float>(3, 2).config();
  EXPECT_EQ(config, (nlohmann::json{{"type", "maxpool"}, {"kernel", 3}, {"stride", 2}}));
  EXPECT_EQ(MaxPool2d<double>::from_config(config)->config(), config);
}

TEST(MaxPool, FromConfigRejectsBadFields) {
  const std::string zero = error_message(
      [] { MaxPool2d<float>::from_config({{"type", "maxpool"}, {"kernel", 0}, {"stride", 1}}); });
  EXPECT_TRUE(contains(zero, "maxpool layer")) << zero;
  EXPECT_TRUE(contains(zero, "'kernel' is 0, expected 1 to 64")) << zero;
  const std::string missing =
      error_message([] { MaxPool2d<float>::from_config({{"type", "maxpool"}, {"kernel", 2}}); });
  EXPECT_TRUE(contains(missing, "has no integer 'stride'")) << missing;
}

// ---- AvgPool2d ----

TEST(AvgPool, ForwardAndBackward) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  AvgPool2d<double> avg_pool(/*kernel=*/2, /*stride=*/2);
  Tensor<double> x({1, 1, 4, 4});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);  // 1..16
  Tensor<double> y;
  avg_pool.forward(x, y, context);
  // Means of {1, 2, 5, 6}, {3, 4, 7, 8}, {9, 10, 13, 14} and {11, 12, 15, 16}.
  expect_values(y, {1, 1, 2, 2}, {3.5, 5.5, 11.5, 13.5});

  // Each window's gradient spreads evenly over its four pixels.
  Tensor<double> dx;
  avg_pool.backward(tensor_of({1, 1, 2, 2}, {4, 8, 12, 16}), &dx, context);
  expect_values(dx, {1, 1, 4, 4}, {1, 1, 2, 2,  //
                                   1, 1, 2, 2,  //
                                   3, 3, 4, 4,  //
                                   3, 3, 4, 4});
}

TEST(AvgPool, GradientsMatchFiniteDifferences) {
  for (const auto& [kernel, stride] : {std::pair{2, 2}, {3, 2}, {2, 1}, {3, 3}}) {
    AvgPool2d<double> avg_pool(kernel, stride);
    const double worst = max_input_gradient_error(avg_pool, {3, 2, 7, 6});
    EXPECT_LT(worst, kTolerance) << "worst error " << worst << " for k=" << kernel
                                 << " s=" << stride;
  }
}

TEST(AvgPool, KernelLargerThanInput) {
  const AvgPool2d<float> avg_pool(/*kernel=*/4, /*stride=*/4);
  const std::string message = error_message([&] { (void)avg_pool.output_shape({1, 3, 3}); });
  EXPECT_TRUE(contains(message, "avgpool layer (kernel 4, stride 4)")) << message;
  EXPECT_TRUE(contains(message, "(1, 3, 3)")) << message;
}

TEST(AvgPool, ConfigRoundTrip) {
  const nlohmann::json config = AvgPool2d<float>(2, 2).config();
  EXPECT_EQ(config, (nlohmann::json{{"type", "avgpool"}, {"kernel", 2}, {"stride", 2}}));
  EXPECT_EQ(AvgPool2d<double>::from_config(config)->config(), config);
}

TEST(AvgPool, FromConfigRejectsBadFields) {
  const std::string message = error_message(
      [] { AvgPool2d<float>::from_config({{"type", "avgpool"}, {"kernel", 2}, {"stride", 99}}); });
  EXPECT_TRUE(contains(message, "avgpool layer")) << message;
  EXPECT_TRUE(contains(message, "'stride' is 99, expected 1 to 64")) << message;
}

// ---- Flatten ----

TEST(Flatten, ForwardCopiesAndBackwardRestoresShape) {
  ThreadPool pool(1);
  const PassContext context{.pool = &pool, .training = true};
  Flatten<double> flatten;
  Tensor<double> x({2, 2, 1, 3});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  Tensor<double> y;
  flatten.forward(x, y, context);
  expect_values(y, {2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  EXPECT_NE(y.data(), x.data());

  Tensor<double> dx;
  flatten.backward(tensor_of({2, 6}, {5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6}), &dx, context);
  expect_values(dx, {2, 2, 1, 3}, {5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6});
}

TEST(Flatten, OutputShape) {
  const Flatten<float> flatten;
  EXPECT_EQ(flatten.output_shape({3, 4, 5}), (Shape{60}));
  const std::string message = error_message([&] { (void)flatten.output_shape({3, 0, 5}); });
  EXPECT_TRUE(contains(message, "flatten layer expects a sample of shape (C, H, W) but gets "
                                "(3, 0, 5)"))
      << message;
}

TEST(Flatten, ConfigRoundTrip) {
  const nlohmann::json config = Flatten<float>().config();
  EXPECT_EQ(config, (nlohmann::json{{"type", "flatten"}}));
  EXPECT_EQ(Flatten<double>::from_config(config)->config(), config);
  const std::string message =
      error_message([] { Flatten<float>::from_config({{"type", "flatten"}, {"axis", 1}}); });
  EXPECT_TRUE(contains(message, "flatten layer")) << message;
}

}  // namespace
}  // namespace felis
