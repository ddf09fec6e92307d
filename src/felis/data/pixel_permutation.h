// Fixed shuffles of pixel positions, the control for models that treat pixels
// independently.
//
// Legend: H x W pixels, C channels, P = H W positions.
// A permutation moves whole pixels: all C channels of a position travel together.
#pragma once

#include "felis/data/image.h"

#include <cstdint>
#include <span>
#include <vector>

namespace felis {

// Source position of every destination position, (P): out[p] = in[permutation[p]].
// With fraction 1, it is a uniformly random permutation of all P positions. With a
// smaller fraction, round(fraction P) positions chosen at random are shuffled among
// themselves, and the rest stay in place. The result depends only on (seed, positions, fraction).
// Requires positions >= 1 and 0 <= fraction <= 1.
std::vector<int32_t> pixel_permutation(uint64_t seed, int64_t positions, double fraction = 1.0);

// Writes `in` (H, W, C) with its positions permuted into `out` (H, W, C). Requires
// permutation.size() == H W and non-overlapping buffers.
void permute_pixels(const uint8_t* in, uint8_t* out, const ImageShape& shape,
                    std::span<const int32_t> permutation);

}  // namespace felis
