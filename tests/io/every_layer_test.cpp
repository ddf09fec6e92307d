// Every layer type through a model file: a model saved and loaded predicts what it
// predicted before, and two predictions of one batch are identical (inference mode).
#include "felis/io/model_file.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include "data/fixtures.h"
#include "support/synthetic.h"

#include <gtest/gtest.h>

namespace felis {
namespace {

constexpr const char* kEveryLayer =
    "conv:4:3:p=1, batchnorm, relu, maxpool:2, conv:4:3:s=2:p=1, leaky_relu:0.1, avgpool:2, "
    "dropout:0.25, flatten, dense:8, tanh, dense:6, sigmoid, dense:3";

TEST(EveryLayer, SaveLoadPredictsTheSame) {
  fixtures::TempDir dir;
  const Dataset data = fixtures::synthetic_dataset(40, 8, 3, 3, 6);
  ThreadPool pool(1);
  for (Precision precision : {Precision::float32, Precision::float64}) {
    SCOPED_TRACE(to_string(precision));
    Model model = build_model({.preset = kEveryLayer, .precision = precision}, {3, 8, 8},
                              data.class_names);
    // Training moves the weights and batch normalization's running statistics.
    train(model, data, nullptr,
          {.epochs = 2, .batch_size = 16, .learning_rate = 0.01, .optimizer = OptimizerKind::adam});
    const RowMatrix<double> first = predict_probabilities(model, data, pool);
    const RowMatrix<double> second = predict_probabilities(model, data, pool);
    EXPECT_EQ((first - second).cwiseAbs().maxCoeff(), 0.0);

    const auto path = dir / ("every-" + to_string(precision) + ".h5");
    save_model(model, path);
    Model loaded = load_model(path);
    EXPECT_EQ(loaded.architecture(), model.architecture());
    const RowMatrix<double> after = predict_probabilities(loaded, data, pool);
    EXPECT_LE((first - after).cwiseAbs().maxCoeff(), 1e-6);
  }
}

}  // namespace
}  // namespace felis
