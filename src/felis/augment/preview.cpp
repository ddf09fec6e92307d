#include "felis/augment/preview.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cassert>

namespace felis {

namespace {

constexpr int64_t kGap = 4;            // pixels between cells
constexpr int64_t kOriginalGap = 16;   // pixels between the original and its copies

// Copies `image`, enlarged `factor` times by repeating pixels, into `grid` at (top, left).
void paste(const Image& image, int64_t factor, int64_t top, int64_t left, Image& grid) {
  const int64_t channels = image.shape.channels;
  for (int64_t y = 0; y < image.shape.height * factor; ++y) {
    for (int64_t x = 0; x < image.shape.width * factor; ++x) {
      const uint8_t* from =
          image.pixels.data() + ((y / factor) * image.shape.width + x / factor) * channels;
      uint8_t* to = grid.pixels.data() + ((top + y) * grid.shape.width + left + x) * channels;
      std::copy(from, from + channels, to);
    }
  }
}

}  // namespace

Image preview_grid(const Dataset& data, const Pipeline& pipeline, const PreviewOptions& options) {
  assert(data.count >= 1);
  assert(options.rows >= 1);
  assert(options.copies >= 1);
  const int64_t rows = std::min(options.rows, data.count);
  const int64_t side = std::max(data.height, data.width);
  const int64_t factor = std::max<int64_t>(1, (options.min_cell + side - 1) / side);
  const int64_t cell_height = data.height * factor;
  const int64_t cell_width = data.width * factor;

  Image grid;
  grid.shape = {.height = rows * cell_height + (rows + 1) * kGap,
                .width = (options.copies + 1) * cell_width + options.copies * kGap + 2 * kGap +
                         kOriginalGap - kGap,
                .channels = data.channels};
  if (grid.shape.height > kMaxImagePixels / grid.shape.width) {
    throw UsageError(fmt::format("a preview of {} rows and {} copies of {}x{} images would be "
                                 "{}x{} pixels, over the limit of {}; ask for fewer --rows or "
                                 "--columns",
                                 rows, options.copies, data.height, data.width, grid.shape.height,
                                 grid.shape.width, kMaxImagePixels));
  }
  grid.pixels.assign(static_cast<size_t>(grid.shape.height * grid.shape.width * data.channels), 255);

  const ImageShape shape{.height = data.height, .width = data.width, .channels = data.channels};
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t index = r * data.count / rows;
    const Image original{shape, std::vector<uint8_t>(data.image(index),
                                                     data.image(index) + data.image_size())};
    const int64_t top = kGap + r * (cell_height + kGap);
    paste(original, factor, top, kGap, grid);
    for (int64_t c = 1; c <= options.copies; ++c) {
      const int64_t left = kGap + cell_width + kOriginalGap + (c - 1) * (cell_width + kGap);
      paste(pipeline.apply(original, options.seed, c, index), factor, top, left, grid);
    }
  }
  return grid;
}

}  // namespace felis
