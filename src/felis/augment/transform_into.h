// The transforms that Pipeline::apply runs most, writing into a caller's buffer instead of
// returning a new Image: shift, rotate and tint. Each gives the bytes of its counterpart in
// transform.h, which calls it. Internal to src/felis/augment.
//
// Legend: H x W pixels, C channels (1 or 3, interleaved, row-major).
#pragma once

#include "felis/augment/affine_warp.h"
#include "felis/augment/image_view.h"
#include "felis/augment/transform.h"

#include <span>

namespace felis::detail {

// shift(image, dx, dy, border) into `out`. Requires one shape, no overlap.
void shift_into(ConstImageView image, int dx, int dy, Border border, ImageView out);

// rotate(image, degrees, border) into `out`. Requires one shape, no overlap.
void rotate_into(ConstImageView image, double degrees, Border border, ImageView out,
                 WarpBuffers& buffers);

// tint(image, gains) into `out`, which may be `image` itself. Requires one shape and
// gains.size() == C.
void tint_into(ConstImageView image, std::span<const double> gains, ImageView out);

}  // namespace felis::detail
