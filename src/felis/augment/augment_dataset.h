// Augmentation of whole data sets: per batch during training, or offline into copies.
//
// Legend: N images, B images in a batch, H x W pixels, C channels.
#pragma once

#include "felis/augment/pipeline.h"
#include "felis/data/dataset.h"
#include "felis/tensor/thread_pool.h"

#include <span>

namespace felis {

// Largest data set expand_dataset builds, in bytes of pixels: 4 GiB.
inline constexpr int64_t kMaxExpandedBytes = int64_t{1} << 32;

// Fills `out` with the B images of `data` at `indices`, each augmented by
// pipeline.apply(image, seed, epoch, its index in `data`), and their labels. The images
// are spread over the pool's threads; the bytes do not depend on the thread count or on
// the order of `indices`. Requires pipeline.check() to have accepted the data's shape.
// Throws felis::Error if a transform fails.
void augment_images(const Dataset& data, std::span<const int64_t> indices,
                    const Pipeline& pipeline, uint64_t seed, int64_t epoch, ThreadPool& pool,
                    Dataset& out);

// The N originals followed by `copies` augmented copies of all of them: image i of copy c
// (1 to copies) is pipeline.apply(image i, seed, c, i), so (N (copies + 1)) images.
// Throws felis::UsageError when copies < 1, the pipeline does not fit the images, or the
// result would exceed kMaxExpandedBytes.
Dataset expand_dataset(const Dataset& data, const Pipeline& pipeline, int64_t copies,
                       uint64_t seed, ThreadPool& pool);

}  // namespace felis
