// Preview grids: originals beside augmented copies, so a person can see what a spec does.
#pragma once

#include "felis/augment/pipeline.h"
#include "felis/data/dataset.h"

namespace felis {

struct PreviewOptions {
  int64_t rows = 8;      // images shown, spread evenly over the data set
  int64_t copies = 7;    // augmented copies beside each original
  int64_t min_cell = 96; // images smaller than this many pixels are enlarged, nearest neighbour
  uint64_t seed = 1;
};

// One row per image: the original, a wider gap, then copies 1 to `copies` (copy c is
// pipeline.apply(image, seed, c, index)), on a white background with gaps between cells.
// The grid is RGB for RGB data and gray for gray data. Throws felis::UsageError when the
// grid would have more than kMaxImagePixels pixels.
// Requires data.count >= 1 and pipeline.check() to accept the data's shape.
Image preview_grid(const Dataset& data, const Pipeline& pipeline, const PreviewOptions& options);

}  // namespace felis
