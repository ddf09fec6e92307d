#include "felis/study/figures.h"

#include "felis/augment/preview.h"
#include "felis/error.h"
#include "felis/study/canvas.h"
#include "felis/train/evaluate.h"

#include <Eigen/Cholesky>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

namespace felis {

namespace {

// The first dense layer on the pixels, its rows moved to the image's pixel order.
struct PixelWeights {
  int64_t channels = 0;  // C
  int64_t height = 0;    // H
  int64_t width = 0;     // W
  RowMatrix<double> weights;  // (K, D), D in (C, H, W) order of the unpermuted image
  Eigen::VectorXd bias;       // (K)
  std::vector<std::string> labels;  // (K)
};

PixelWeights first_dense_weights(Model& model) {
  PixelWeights result;
  const Shape& input = model.input_shape();
  result.channels = input.at(0);
  result.height = input.at(1);
  result.width = input.at(2);

  bool is_output_layer = false;
  model.visit([&](auto& network) {
    size_t dense_index = network.layer_count();
    for (size_t i = 0; i < network.layer_count(); ++i) {
      const std::string type = network.layer(i).config().at("type");
      if (type == "flatten") continue;
      if (type != "dense") {
        throw Error(fmt::format("weight images need a dense layer on the pixels, but layer {} "
                                "of model '{}' is {}; use a model such as logreg or softmax",
                                i, model.name(), type));
      }
      dense_index = i;
      break;
    }
    if (dense_index == network.layer_count()) {
      throw Error(fmt::format("model '{}' has no dense layer for weight images", model.name()));
    }
    for (const auto& parameter : network.layer(dense_index).parameters()) {
      const auto& value = *parameter.value;
      if (parameter.name == "W") {
        result.weights = value.matrix().template cast<double>();
      } else if (parameter.name == "b") {
        result.bias.resize(value.size());
        for (int64_t j = 0; j < value.size(); ++j) result.bias(j) = value[j];
      }
    }
    is_output_layer = true;
    for (size_t i = dense_index + 1; i < network.layer_count(); ++i) {
      if (!network.layer(i).parameters().empty()) is_output_layer = false;
    }
  });

  // Undo --permute-pixels: input position p comes from image position permutation[p].
  const int64_t positions = result.height * result.width;
  if (!model.input_permutation.empty()) {
    RowMatrix<double> image_order(result.weights.rows(), result.weights.cols());
    for (int64_t c = 0; c < result.channels; ++c) {
      for (int64_t p = 0; p < positions; ++p) {
        image_order.col(c * positions + model.input_permutation[p]) =
            result.weights.col(c * positions + p);
      }
    }
    result.weights = std::move(image_order);
  }

  const auto& names = model.class_names();
  for (int64_t k = 0; k < result.weights.rows(); ++k) {
    if (!is_output_layer) {
      result.labels.push_back(fmt::format("unit {}", k));
    } else if (result.weights.rows() == 1) {
      result.labels.push_back(names.size() == 2 ? names[1] : "class 1");
    } else {
      result.labels.push_back(k < static_cast<int64_t>(names.size()) ? names[k]
                                                                     : fmt::format("class {}", k));
    }
  }
  return result;
}

void check_image_shape(const PixelWeights& weights, const Dataset& data) {
  if (data.channels != weights.channels || data.height != weights.height ||
      data.width != weights.width) {
    throw Error(fmt::format("the images of {} are {}x{}x{} (H x W x C), but the model reads "
                            "{}x{}x{}; use the data set the model was trained for",
                            data.source, data.height, data.width, data.channels, weights.height,
                            weights.width, weights.channels));
  }
}

uint8_t to_level(double value) {
  return static_cast<uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
}

// Image i of `data` as (H, W, C).
Image dataset_image(const Dataset& data, int64_t i) {
  return Image{.shape = {.height = data.height, .width = data.width, .channels = data.channels},
               .pixels = std::vector<uint8_t>(data.image(i), data.image(i) + data.image_size())};
}

}  // namespace

std::vector<WeightImage> render_weight_images(Model& model, const WeightImageOptions& options) {
  const PixelWeights pixel_weights = first_dense_weights(model);
  const int64_t height = pixel_weights.height;
  const int64_t width = pixel_weights.width;
  const int64_t channels = pixel_weights.channels;
  const int64_t positions = height * width;
  const int64_t factor = enlargement_factor(width, options.min_map_width_px);

  std::vector<WeightImage> images;
  for (int64_t k = 0; k < pixel_weights.weights.rows(); ++k) {
    const auto w = pixel_weights.weights.row(k);
    const double max_abs = w.size() > 0 ? w.cwiseAbs().maxCoeff() : 0.0;

    // One diverging map per channel, side by side.
    std::vector<CaptionedImage> maps;
    for (int64_t c = 0; c < channels; ++c) {
      Image map{.shape = {.height = height, .width = width, .channels = 3}, .pixels = {}};
      map.pixels.reserve(static_cast<size_t>(positions * 3));
      for (int64_t p = 0; p < positions; ++p) {
        const Rgb color = diverging_color(w(c * positions + p), max_abs);
        map.pixels.insert(map.pixels.end(), {color.red, color.green, color.blue});
      }
      maps.push_back({.image = enlarge_nearest(map, factor), .caption = ""});
    }
    const Image channel_maps = compose_grid({maps}, {.gap_px = options.gap_px});

    // w as an (H, W, C) image: [-max, max] maps linearly to [0, 255].
    Image as_image{.shape = {.height = height, .width = width, .channels = channels},
                   .pixels = std::vector<uint8_t>(static_cast<size_t>(positions * channels))};
    for (int64_t p = 0; p < positions; ++p) {
      for (int64_t c = 0; c < channels; ++c) {
        const double t = max_abs > 0.0 ? w(c * positions + p) / max_abs : 0.0;
        as_image.pixels[p * channels + c] = to_level(127.5 * (t + 1.0));
      }
    }

    images.push_back({.label = pixel_weights.labels[k],
                      .max_abs_weight = max_abs,
                      .channel_maps_png = encode_png(channel_maps),
                      .as_image_png = encode_png(enlarge_nearest(as_image, factor))});
  }
  return images;
}

namespace {

std::vector<WeightSensitivity> sensitivity(const PixelWeights& pixel_weights) {
  const int64_t positions = pixel_weights.height * pixel_weights.width;
  std::vector<WeightSensitivity> result;
  for (int64_t k = 0; k < pixel_weights.weights.rows(); ++k) {
    const auto w = pixel_weights.weights.row(k);
    WeightSensitivity entry{.label = pixel_weights.labels[k],
                            .weight_sum = w.sum(),
                            .logit_change_per_level = w.sum() / 255.0,
                            .channel_weight_sums = {},
                            .tint_logit_changes = {}};
    for (int64_t c = 0; c < pixel_weights.channels; ++c) {
      entry.channel_weight_sums.push_back(w.segment(c * positions, positions).sum());
    }
    result.push_back(std::move(entry));
  }
  return result;
}

}  // namespace

std::vector<WeightSensitivity> weight_sensitivity(Model& model) {
  return sensitivity(first_dense_weights(model));
}

std::vector<WeightSensitivity> weight_sensitivity(Model& model, const Dataset& data,
                                                  double tint_gain) {
  const PixelWeights pixel_weights = first_dense_weights(model);
  check_image_shape(pixel_weights, data);
  if (data.count < 1) throw Error(fmt::format("the data set {} has no images", data.source));
  std::vector<WeightSensitivity> result = sensitivity(pixel_weights);

  // dz for channel c of image i: gain * sum_p w_cp x_cp with x = pixel / 255, whose
  // pixels are stored (H, W, C).
  const int64_t channels = pixel_weights.channels;
  const int64_t positions = pixel_weights.height * pixel_weights.width;
  for (int64_t k = 0; k < pixel_weights.weights.rows(); ++k) {
    const auto w = pixel_weights.weights.row(k);
    std::vector<double> totals(static_cast<size_t>(channels), 0.0);
    for (int64_t i = 0; i < data.count; ++i) {
      const uint8_t* pixels = data.image(i);
      for (int64_t p = 0; p < positions; ++p) {
        for (int64_t c = 0; c < channels; ++c) {
          totals[c] += w(c * positions + p) * (pixels[p * channels + c] / 255.0);
        }
      }
    }
    for (const double total : totals) {
      result[k].tint_logit_changes.push_back(tint_gain * total / static_cast<double>(data.count));
    }
  }
  return result;
}

RepresenterSolution solve_representer(const RowMatrix<double>& images,
                                      const Eigen::VectorXd& weights) {
  const RowMatrix<double> gram = images * images.transpose();  // X X^T (N, N)
  const Eigen::VectorXd rhs = images * weights;                 // X w (N)
  const double weight_norm = weights.norm();
  const double rhs_norm = rhs.norm();
  const double mean_diagonal = gram.diagonal().mean();

  auto relative = [](double error, double scale) { return scale > 0.0 ? error / scale : error; };
  RepresenterSolution best;
  best.relative_residual = std::numeric_limits<double>::infinity();
  std::vector<double> ridges = {0.0};
  for (double factor = 1e-12; factor <= 1.5e-4; factor *= 100.0) {
    ridges.push_back(factor * mean_diagonal);
  }
  for (const double ridge : ridges) {
    RowMatrix<double> system = gram;
    system.diagonal().array() += ridge;
    const Eigen::LDLT<RowMatrix<double>> ldlt(system);
    if (ldlt.info() != Eigen::Success) continue;
    const Eigen::VectorXd a = ldlt.solve(rhs);
    if (!a.allFinite()) continue;

    const double residual =
        relative((images.transpose() * a - weights).norm(), weight_norm);
    if (residual < best.relative_residual) {
      best = {.coefficients = std::vector<double>(a.data(), a.data() + a.size()),
              .relative_residual = residual,
              .ridge = ridge};
    }
    if (relative((gram * a - rhs).norm(), rhs_norm) <= 1e-10) break;
  }
  if (best.coefficients.empty()) best.coefficients.assign(static_cast<size_t>(images.rows()), 0.0);
  return best;
}

Representer compute_representer(Model& model, const Dataset& train,
                                const RepresenterOptions& options) {
  const PixelWeights pixel_weights = first_dense_weights(model);
  check_image_shape(pixel_weights, train);
  const int64_t rows = pixel_weights.weights.rows();
  if (options.row < 0 || options.row >= rows) {
    throw Error(fmt::format("weight row {} is out of range: the first dense layer has {} rows",
                            options.row, rows));
  }
  const int64_t count = train.count;
  const int64_t features = train.image_size();
  if (count < 1) throw Error(fmt::format("the data set {} has no images", train.source));
  if (count * (count + features) > kMaxRepresenterValues) {
    throw Error(fmt::format("the representer view of {} images of {} values needs {} doubles, "
                            "more than the limit of {}; pass a subset of the training images",
                            count, features, count * (count + features), kMaxRepresenterValues));
  }

  // X (N, D): pixels / 255, from the stored (H, W, C) to (C, H, W) order.
  const int64_t channels = train.channels;
  const int64_t positions = train.height * train.width;
  RowMatrix<double> images(count, features);
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* pixels = train.image(i);
    for (int64_t p = 0; p < positions; ++p) {
      for (int64_t c = 0; c < channels; ++c) {
        images(i, c * positions + p) = pixels[p * channels + c] / 255.0;
      }
    }
  }
  const Eigen::VectorXd w = pixel_weights.weights.row(options.row).transpose();

  Representer result;
  result.label = pixel_weights.labels[options.row];
  result.solution = solve_representer(images, w);
  result.bias = pixel_weights.bias.size() > options.row ? pixel_weights.bias(options.row) : 0.0;
  const auto& a = result.solution.coefficients;
  result.coefficient_sum = std::accumulate(a.begin(), a.end(), 0.0);

  // The largest positive and the most negative coefficients, ties by index.
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return a[x] > a[y]; });
  for (int64_t i : order) {
    if (static_cast<int64_t>(result.most_positive.size()) == options.top || a[i] <= 0.0) break;
    result.most_positive.push_back(i);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (static_cast<int64_t>(result.most_negative.size()) == options.top || a[*it] >= 0.0) break;
    result.most_negative.push_back(*it);
  }

  // Strip: positives on top, negatives below, a_i under each image.
  if (result.most_positive.empty() && result.most_negative.empty()) return result;
  const int64_t factor = enlargement_factor(train.width, options.min_image_width_px);
  std::vector<std::vector<CaptionedImage>> strip(2);
  for (int row = 0; row < 2; ++row) {
    for (const int64_t i : row == 0 ? result.most_positive : result.most_negative) {
      strip[row].push_back({.image = enlarge_nearest(dataset_image(train, i), factor),
                            .caption = fmt::format("#{} a={:+.3g}", i, a[i])});
    }
  }
  result.strip_png = encode_png(compose_grid(strip, {}));
  return result;
}

FilterGrid render_first_filters(Model& model, const FilterGridOptions& options) {
  FilterGrid grid;
  std::vector<double> weights;  // W (F, C, k, k)
  model.visit([&](auto& network) {
    for (size_t i = 0; i < network.layer_count(); ++i) {
      const nlohmann::json config = network.layer(i).config();
      if (config.at("type") != "conv2d") continue;
      grid.filters = config.at("out_channels");
      grid.channels = config.at("in_channels");
      grid.kernel = config.at("kernel");
      for (const auto& parameter : network.layer(i).parameters()) {
        if (parameter.name != "W") continue;
        weights.assign(parameter.value->data(), parameter.value->data() + parameter.value->size());
      }
      return;
    }
  });
  if (grid.filters == 0) {
    throw Error(fmt::format("model '{}' has no conv2d layer whose filters could be drawn",
                            model.name()));
  }
  if (grid.channels != 1 && grid.channels != 3) {
    throw Error(fmt::format("the first conv2d layer of model '{}' reads {} channels; filter "
                            "tiles need 1 (gray) or 3 (RGB)",
                            model.name(), grid.channels));
  }

  // Tile f: W[f, c, u, v] at pixel (u, v), channel c, scaled by the filter's own max |w|.
  const int64_t k = grid.kernel;
  const int64_t channels = grid.channels;
  const int64_t filter_size = channels * k * k;
  const int64_t factor = enlargement_factor(k, options.min_tile_px);
  std::vector<CaptionedImage> tiles;
  for (int64_t f = 0; f < grid.filters; ++f) {
    const auto first = weights.begin() + f * filter_size;
    double max_abs = 0.0;
    for (auto it = first; it != first + filter_size; ++it) max_abs = std::max(max_abs, std::abs(*it));
    Image tile{.shape = {.height = k, .width = k, .channels = channels},
               .pixels = std::vector<uint8_t>(static_cast<size_t>(filter_size))};
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t p = 0; p < k * k; ++p) {
        const double t = max_abs > 0.0 ? first[c * k * k + p] / max_abs : 0.0;
        tile.pixels[p * channels + c] = to_level(127.5 * (t + 1.0));
      }
    }
    tiles.push_back({.image = enlarge_nearest(tile, factor), .caption = ""});
  }
  grid.png = encode_png(
      compose_grid(split_rows(std::move(tiles), std::max<int64_t>(1, options.columns)),
                   {.gap_px = 4}));
  return grid;
}

MistakeGrid render_mistakes(const Dataset& data, const RowMatrix<double>& probabilities,
                            const MistakeGridOptions& options) {
  if (probabilities.rows() != data.count || probabilities.cols() != data.class_count()) {
    throw Error(fmt::format("the probabilities are ({}, {}), but {} has {} images of {} classes",
                            probabilities.rows(), probabilities.cols(), data.source, data.count,
                            data.class_count()));
  }
  const std::vector<int32_t> predicted = predicted_classes(probabilities);

  // Misclassified images, the most confident first.
  MistakeGrid grid;
  std::vector<int64_t> mistakes;
  for (int64_t i = 0; i < data.count; ++i) {
    if (predicted[i] != data.labels[i]) mistakes.push_back(i);
  }
  grid.mistake_count = static_cast<int64_t>(mistakes.size());
  std::stable_sort(mistakes.begin(), mistakes.end(), [&](int64_t x, int64_t y) {
    return probabilities(x, predicted[x]) > probabilities(y, predicted[y]);
  });
  if (static_cast<int64_t>(mistakes.size()) > options.max_images) {
    mistakes.resize(static_cast<size_t>(std::max<int64_t>(0, options.max_images)));
  }
  grid.indices = mistakes;
  if (mistakes.empty()) return grid;

  const int64_t factor = enlargement_factor(data.width, options.min_image_px);
  std::vector<CaptionedImage> cells;
  for (const int64_t i : mistakes) {
    const std::string caption =
        fmt::format("{} -> {} {:.2f}", data.class_names[data.labels[i]],
                    data.class_names[predicted[i]], probabilities(i, predicted[i]));
    cells.push_back({.image = enlarge_nearest(dataset_image(data, i), factor), .caption = caption});
  }
  grid.png = encode_png(
      compose_grid(split_rows(std::move(cells), std::max<int64_t>(1, options.columns)), {}));
  return grid;
}

std::vector<char> render_confusion_matrix(const std::vector<std::vector<int64_t>>& confusion,
                                          const std::vector<std::string>& class_names) {
  const size_t classes = class_names.size();
  if (classes == 0 || confusion.size() != classes) {
    throw Error(fmt::format("the confusion matrix has {} rows for {} class names; it must be "
                            "K x K for K >= 1 classes",
                            confusion.size(), classes));
  }
  for (const auto& row : confusion) {
    if (row.size() != classes) {
      throw Error(fmt::format("a confusion matrix row has {} entries for {} classes", row.size(),
                              classes));
    }
    for (const int64_t count : row) {
      if (count < 0) throw Error(fmt::format("the confusion matrix contains a negative count {}; counts must be >= 0", count));
    }
  }
  return encode_png(draw_count_heatmap({.counts = confusion,
                                        .row_labels = class_names,
                                        .column_labels = class_names,
                                        .row_title = "true",
                                        .column_title = "predicted"},
                                       {}));
}

std::vector<char> render_augmentation_preview(const Dataset& data,
                                              const std::vector<NamedAugmentation>& augmentations,
                                              const AugmentationPreviewOptions& options) {
  assert(!augmentations.empty());
  const ImageShape shape{.height = data.height, .width = data.width, .channels = data.channels};
  std::vector<CaptionedImage> blocks;
  for (const auto& augmentation : augmentations) {
    const Pipeline pipeline = Pipeline::parse(augmentation.spec);
    pipeline.check(shape);
    blocks.push_back({.image = preview_grid(data, pipeline,
                                            {.rows = options.images,
                                             .copies = options.copies,
                                             .min_cell = options.min_image_px,
                                             .seed = options.seed}),
                      .caption = augmentation.name + ": " + augmentation.spec});
  }
  const GridStyle style{.gap_px = 8, .font_scale = 0.45, .center_images = false};
  return encode_png(compose_grid(split_rows(std::move(blocks), options.columns), style));
}

}  // namespace felis
