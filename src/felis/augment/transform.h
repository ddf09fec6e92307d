// Transforms of one uint8 image: geometric, color, noise and occlusion.
//
// Legend: H x W pixels, C channels (1 gray or 3 RGB, interleaved, row-major).
// Every transform returns a new image of the same shape, so labels never change. Pixel
// values are computed in floating point, rounded to the nearest integer and saturated to
// [0, 255]: a gain of 1.5 on 200 gives 255, never a wrapped 44. Warps, resizing, blur and
// color conversions are OpenCV imgproc's. Random transforms draw from a SampleRandom, so
// their result depends only on its seed.
#pragma once

#include "felis/augment/random.h"
#include "felis/data/image.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace felis {

struct Image {
  ImageShape shape;             // channels 1 or 3
  std::vector<uint8_t> pixels;  // (H, W, C)
};

// Border modes, which fill the pixels a warp takes from outside the image. `reflect`
// mirrors about the edge without repeating it (OpenCV's BORDER_REFLECT_101:
// ...dcb|abcd|cba...), `constant` fills with 0, `replicate` repeats the edge pixel.
enum class Border { reflect, constant, replicate };
std::string to_string(Border border);
// Throws felis::UsageError naming the valid modes for any other name.
Border border_from_string(const std::string& name);

// Geometric transforms. Angles are in degrees, counterclockwise as seen on screen, about
// the image centre ((W - 1) / 2, (H - 1) / 2). Warps interpolate bilinearly.

// Moves the content dx pixels right and dy pixels down (negative: left, up). Exact: a
// shift by (dx, dy) then (-dx, -dy) restores every pixel at least |dx|, |dy| from the edge.
Image shift(const Image& image, int dx, int dy, Border border);
// Rotation. Multiples of 90 degrees are exact pixel moves (0 and 360 return the input;
// 90 and 270 on a non-square image are warped like any other angle).
Image rotate(const Image& image, double degrees, Border border);
// Zoom about the centre: factor 2 shows the central half, 0.5 shrinks the whole image
// into the central half and fills the rest by `border`. Requires factor > 0.
Image scale(const Image& image, double factor, Border border);
// The rectangle (x, y, width, height), resized back to H x W bilinearly. Requires the
// rectangle to lie inside the image and to be at least 1 x 1.
Image crop_resize(const Image& image, int x, int y, int width, int height);
Image flip_horizontal(const Image& image);  // mirror left to right
Image flip_vertical(const Image& image);    // mirror top to bottom
// Horizontal shear by `degrees` (x' = x + tan(degrees) (y - centre)). Requires |degrees| < 90.
Image shear(const Image& image, double degrees, Border border);
// Elastic distortion (Simard, Steinkraus and Platt 2003): a displacement field of uniform
// draws in [-1, 1] per pixel and axis, smoothed by a Gaussian of standard deviation
// `sigma` pixels and scaled by `alpha` pixels, then remapped bilinearly.
// Requires alpha >= 0 and sigma > 0.
Image elastic(const Image& image, double alpha, double sigma, SampleRandom& random,
              Border border);

// Color transforms.

// Multiplies channel c by gains[c]. Requires gains.size() == C and every gain >= 0.
Image tint(const Image& image, std::span<const double> gains);
// Adds delta * 255 to every value: delta 0.1 brightens by 25.5 levels, -0.1 darkens.
Image brightness(const Image& image, double delta);
// Moves every value away from the image's mean (over all pixels and channels) by
// `factor`: v' = mean + factor (v - mean). Factor 0 gives a flat image, 1 the input.
// Requires factor >= 0.
Image contrast(const Image& image, double factor);
// Blends with the image's gray version (BT.601 luma): factor 0 is gray, 1 the input, 2
// doubles the distance from gray. Gray images, and RGB pixels with R = G = B, do not change.
// Requires factor >= 0.
Image saturation(const Image& image, double factor);
// Rotates the hue by `degrees` in HSV space. Gray images and gray pixels do not change.
Image hue(const Image& image, double degrees);
// v' = 255 (v / 255)^g. Requires g > 0.
Image gamma(const Image& image, double g);

// Noise and occlusion.

// Adds independent normal noise of mean 0 and standard deviation `sigma` levels (of 255)
// to every value. Rounding to nearest keeps the mean of values away from 0 and 255 in
// place. Requires sigma >= 0.
Image gaussian_noise(const Image& image, double sigma, SampleRandom& random);
// Gaussian blur of standard deviation `sigma` pixels, reflecting at the edges; sigma 0
// returns the input. Requires sigma >= 0.
Image blur(const Image& image, double sigma);
// Fills the square of side `size` centred on (x, y), clipped to the image, with `fill`.
// Requires size >= 0.
Image cutout(const Image& image, int x, int y, int size, uint8_t fill);

}  // namespace felis
