// felis predict: the class and probability a saved model gives each image file.
#include "commands.h"

#include "felis/data/batch.h"
#include "felis/data/image.h"
#include "felis/error.h"
#include "felis/io/model_file.h"
#include "felis/nn/loss.h"
#include "felis/train/evaluate.h"

#include <spdlog/fmt/fmt.h>

#include <iostream>
#include <memory>

namespace felis::cli {

namespace {

struct PredictArguments {
  std::string model;
  std::vector<std::string> images;
};

// Class probabilities (K) for one (H, W, C) image.
std::vector<double> classify(Model& model, const LoadedImage& image, const ImageShape& shape) {
  ThreadPool pool(1);
  const auto lock = model.lock_passes();
  return model.visit([&](auto& network) {
    using T = typename std::remove_reference_t<decltype(network)>::Scalar;
    Tensor<T> x;
    make_image_batch(image.pixels.data(), shape.height, shape.width, shape.channels, x,
                     model.input_permutation);
    const auto& logits = network.forward(x, {.pool = &pool, .training = false});
    const RowMatrix<double> p = class_probabilities(network.output(), logits);
    return std::vector<double>(p.data(), p.data() + p.size());
  });
}

// Returns 1 when any image could not be classified, after an error line for each.
int run_predict(const PredictArguments& args) {
  Model model = load_model(args.model);
  const Shape& input = model.input_shape();
  const ImageShape shape{.height = input[1], .width = input[2], .channels = input[0]};
  int failures = 0;
  for (const auto& path : args.images) {
    try {
      const LoadedImage image = load_image(path, shape);
      const auto probabilities = classify(model, image, shape);
      const auto best = std::max_element(probabilities.begin(), probabilities.end());
      const auto index = static_cast<size_t>(best - probabilities.begin());
      std::string notes;
      for (const auto& conversion : image.conversions) notes += (notes.empty() ? "" : "; ") + conversion;
      fmt::print("{}\t{}\t{:.6f}{}\n", path, model.class_names()[index], *best,
                 notes.empty() ? "" : "\t(" + notes + ")");
    } catch (const Error& e) {
      std::cerr << "felis: error: " << e.what() << '\n';
      ++failures;
    }
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace

Command add_predict(CLI::App& app) {
  auto args = std::make_shared<PredictArguments>();
  CLI::App* sub = app.add_subcommand(
      "predict", "Classify image files (PNG, JPEG, BMP) of any size and channel count");
  sub->add_option("--model", args->model, "Model file written by felis train --out")->required();
  sub->add_option("images", args->images, "Image files")->required();
  sub->footer(
      "Each line: path, the most probable class, that class's probability, and any\n"
      "conversion made to fit the model. An image that cannot be read gets an error line\n"
      "and makes the exit code 1; the other images are still classified.\n"
      "Images are made to fit the model's input by one rule: 16-bit samples become 8-bit,\n"
      "alpha is composited over white, gray is copied to RGB (or RGB becomes gray by the\n"
      "BT.601 luma weights), and the image is resized to the model's size ignoring its\n"
      "aspect ratio (area interpolation when shrinking, bilinear when growing).");
  return [args] { return run_predict(*args); };
}

}  // namespace felis::cli
