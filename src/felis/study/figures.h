// Figures of a study report, as PNG file bytes. Most show what a model learned. They
// cover the weights of logistic or softmax regression as images, how far a brightening or
// a tint moves a logit, the training images that make up those weights, the first
// convolution's filters, misclassified test images and the confusion matrix. One shows
// what the augmentations do to training images.
//
// Legend: N images, C channels, H x W pixels, D = C H W inputs, K rows of the first dense
// layer (classes, or 1 for a binary model), F filters of side k.
// A network's input is pixels / 255 in (C, H, W) order (see docs/model-file.md). For a
// model trained with --permute-pixels, weights are moved back to the image's pixel
// positions first, so its figures compare with those of an unpermuted model.
#pragma once

#include "felis/data/dataset.h"
#include "felis/nn/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace felis {

// Weight images

struct WeightImageOptions {
  int64_t min_map_width_px = 128;  // each channel map is enlarged to at least this width
  int64_t gap_px = 6;              // white space between channel maps
};

// One row w of the first dense layer, drawn two ways.
struct WeightImage {
  std::string label;       // the class whose logit the row computes, or "unit k"
  double max_abs_weight;   // max |w|, the scale of both images: +-max_abs_weight
  // The C channel maps side by side (R, G, B from the left), each pixel colored by
  // diverging_color(w, max_abs_weight): blue negative, white 0, red positive.
  std::vector<char> channel_maps_png;
  // w reshaped to (H, W, C) and scaled linearly from [-max, max] to [0, 255], enlarged
  // like the maps. A weight of 0 is mid-gray (128).
  std::vector<char> as_image_png;
};

// Draws every row of the model's first dense layer that reads the pixels directly (after
// flatten layers only). For a binary model the one row computes the logit of class 1 (for
// the cat data, "cat"). Throws felis::Error when a layer other than flatten comes before
// the first dense layer, or the model has none.
std::vector<WeightImage> render_weight_images(Model& model, const WeightImageOptions& options = {});

// Sensitivity of the logits to brightness and tint

// Changes of a linear logit z = sum_d w_d x_d + b when the pixels change, x = pixels / 255.
struct WeightSensitivity {
  std::string label;  // as in WeightImage
  double weight_sum;  // sum over d of w_d
  // dz when every value rises by one level (1/255): weight_sum / 255.
  double logit_change_per_level;
  std::vector<double> channel_weight_sums;  // (C): sum over the pixels of channel c
  // (C): the mean over `data` of the change of z under a tint of channel c by 1 + gain,
  // exactly gain * sum_p w_cp x_cp, ignoring that pixels saturate at 255. Empty when no
  // data set was given.
  std::vector<double> tint_logit_changes;
};

// The sensitivities of every row that render_weight_images draws; the throws are the same.
std::vector<WeightSensitivity> weight_sensitivity(Model& model);
// The same, with the mean tint effect over `data`, whose images must have the model's
// input shape (throws felis::Error otherwise). Requires data.count >= 1.
std::vector<WeightSensitivity> weight_sensitivity(Model& model, const Dataset& data,
                                                  double tint_gain = 0.1);

// Representer view

// Gradient descent from zero weights keeps every weight row in the span of the training
// images: w = X^T a for X (N, D), the training pixels / 255 in (C, H, W) order. The bias
// is left out of the system. Plain gradient descent also gives b = sum_i a_i, which
// compute_representer reports as a check.
struct RepresenterSolution {
  std::vector<double> coefficients;  // a (N)
  double relative_residual = 0.0;    // |X^T a - w| / |w|, 0 when w = 0
  double ridge = 0.0;                // lambda in (X X^T + lambda I) a = X w; 0 if none needed
};

// Solves (X X^T) a = X w by Eigen's LDLT. When the factorization fails or leaves a
// relative error above 1e-10 in that system, it retries with a ridge lambda. The ridge
// starts at 1e-12 times the mean diagonal of X X^T and grows 100-fold up to 1e-4 times
// it, and the solution of smallest relative_residual is kept. Requires X (N, D) with N >= 1 and w of D entries.
RepresenterSolution solve_representer(const RowMatrix<double>& images, const Eigen::VectorXd& weights);

struct RepresenterOptions {
  int64_t row = 0;                // which row of the first dense layer; 0 for a binary model
  int64_t top = 5;                // images shown per sign
  int64_t min_image_width_px = 96;
};

struct Representer {
  std::string label;
  RepresenterSolution solution;
  double bias = 0.0;              // the row's bias b
  double coefficient_sum = 0.0;   // sum_i a_i, equal to b for plain gradient descent
  std::vector<int64_t> most_positive;  // indices of the largest a_i > 0, largest first
  std::vector<int64_t> most_negative;  // indices of the smallest a_i < 0, smallest first
  // Top row the most_positive images, bottom row the most_negative ones, with a_i under each.
  std::vector<char> strip_png;
};

// Maximum N (N + D) of the matrices solve_representer holds for a data set: 2^26 doubles,
// 512 MiB. The cat data (209 images of 12,288 values) takes 2.6 million.
inline constexpr int64_t kMaxRepresenterValues = int64_t{1} << 26;

// Computes the representer view of one weight row over `train`. Throws felis::Error when
// the model has no dense layer on the pixels (as render_weight_images), the data's images
// do not have the model's input shape or `row` is out of range. It also throws when
// N (N + D) exceeds kMaxRepresenterValues; pass a subset of the training images then.
Representer compute_representer(Model& model, const Dataset& train,
                                const RepresenterOptions& options = {});

// First convolution's filters

struct FilterGridOptions {
  int64_t min_tile_px = 24;  // each k x k filter is enlarged to at least this side
  int64_t columns = 8;
};

struct FilterGrid {
  int64_t filters = 0;   // F
  int64_t channels = 0;  // C
  int64_t kernel = 0;    // k
  // F tiles, row by row: RGB for C = 3, gray for C = 1, each filter scaled on its own by
  // 127.5 + 127.5 w / max|w of the filter|, so 0 is mid-gray.
  std::vector<char> png;
};

// Draws the first conv2d layer's W (F, C, k, k). Throws felis::Error when the model has
// no conv2d layer or its first one does not read 1 or 3 channels.
FilterGrid render_first_filters(Model& model, const FilterGridOptions& options = {});

// Mistakes and the confusion matrix

struct MistakeGridOptions {
  int64_t max_images = 24;
  int64_t columns = 6;
  int64_t min_image_px = 64;  // each image is enlarged to at least this width
};

struct MistakeGrid {
  int64_t mistake_count = 0;     // all misclassified images of the data set
  std::vector<int64_t> indices;  // the ones drawn, most confident mistake first
  std::vector<char> png;         // empty when there is no mistake
};

// Draws up to max_images misclassified images of `data`, the most confident mistakes
// first (ties by index), each captioned "true -> predicted probability", e.g.
// "cat -> non-cat 0.83". `probabilities` (N, K) are as predict_probabilities returns them
// (K = 2 for a binary model); the predicted class is the most probable, the lower index
// on ties. Throws felis::Error when its shape does not match the data set.
MistakeGrid render_mistakes(const Dataset& data, const RowMatrix<double>& probabilities,
                            const MistakeGridOptions& options = {});

// Draws confusion[true class][predicted class] (K, K) as a heatmap from white to dark
// blue with the counts in the cells, true classes down the left, predicted along the
// bottom. Throws felis::Error when the matrix is not K x K for K class names or contains
// a negative count.
std::vector<char> render_confusion_matrix(const std::vector<std::vector<int64_t>>& confusion,
                                          const std::vector<std::string>& class_names);

// Augmentation preview

struct NamedAugmentation {
  std::string name;  // e.g. "shift"
  std::string spec;  // a Pipeline spec, e.g. "shift:4"
};

struct AugmentationPreviewOptions {
  int64_t images = 4;        // training images per block, spread evenly over the data set
  int64_t copies = 5;        // augmented copies beside each original
  int64_t min_image_px = 64; // smaller images are enlarged, nearest neighbour
  int64_t columns = 2;       // blocks side by side
  uint64_t seed = 1;
};

// Draws one block per augmentation, captioned "name: spec": preview_grid of its pipeline,
// a row per image with the original on the left and the copies after a wider gap. Every
// block shows the same images. Throws felis::UsageError when a spec does not parse or
// does not fit the data's images. Requires at least one augmentation and data.count >= 1.
std::vector<char> render_augmentation_preview(const Dataset& data,
                                              const std::vector<NamedAugmentation>& augmentations,
                                              const AugmentationPreviewOptions& options = {});

}  // namespace felis
