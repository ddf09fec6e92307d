// Raster drawing for report figures: a diverging color map, nearest-neighbour
// enlargement, grids of images with a caption line under each, and a heatmap of counts.
//
// Legend: H x W pixels, C channels (1 gray or 3 RGB, interleaved, row-major).
// Captions are drawn by OpenCV imgproc's cv::putText (Hershey simplex font), in black.
#pragma once

#include "felis/augment/transform.h"

#include <cstdint>
#include <string>
#include <vector>

namespace felis {

struct Rgb {
  uint8_t red = 0;
  uint8_t green = 0;
  uint8_t blue = 0;
};

// The color of `value` on a diverging map symmetric about 0, linear in RGB: white at 0,
// pure red (255, 0, 0) at +max_abs, pure blue (0, 0, 255) at -max_abs. Values beyond
// +-max_abs are clamped. With max_abs <= 0 every value is white.
Rgb diverging_color(double value, double max_abs);

// The smallest integer factor f >= 1 with width * f >= min_width. Requires width >= 1.
int64_t enlargement_factor(int64_t width, int64_t min_width);

// Each pixel repeated factor x factor times. Requires factor >= 1.
Image enlarge_nearest(const Image& image, int64_t factor);

// A gray image as RGB, by copying its channel; an RGB image unchanged.
Image to_rgb(const Image& image);

// An image and the line of text drawn under it (empty: no text).
struct CaptionedImage {
  Image image;
  std::string caption;
};

struct GridStyle {
  int64_t gap_px = 6;            // white space between cells and around the grid
  double font_scale = 0.4;       // cv::putText's scale; 0.4 is about 9 px tall
  bool center_images = true;     // centre each image in its cell, else top-left
};

// Draws `rows` of captioned images on a white RGB canvas, every cell the size of the
// largest image, widened to fit the widest caption, plus a caption band when any caption
// is not empty. Rows may differ in length; shorter rows stay left-aligned. Gray images
// are drawn as RGB. Requires at least one image, and every image valid (channels 1 or 3,
// pixels of H x W x C).
Image compose_grid(const std::vector<std::vector<CaptionedImage>>& rows, const GridStyle& style);

// Splits `cells` into rows of `columns` (>= 1) for compose_grid.
std::vector<std::vector<CaptionedImage>> split_rows(std::vector<CaptionedImage> cells,
                                                    int64_t columns);

// A matrix of counts drawn as a heatmap: one square cell per entry, colored from white
// (0) to dark blue (the largest count), with the count written in it. Row labels sit left
// of the rows and column labels, turned 90 degrees, under the columns; `row_title` and
// `column_title` name the two axes. Requires a non-empty matrix whose rows all have as
// many entries as `column_labels`, one row label per row, and no negative count.
struct CountHeatmap {
  std::vector<std::vector<int64_t>> counts;  // (rows, columns)
  std::vector<std::string> row_labels;
  std::vector<std::string> column_labels;
  std::string row_title;
  std::string column_title;
};
Image draw_count_heatmap(const CountHeatmap& heatmap, const GridStyle& style);

// The PNG file bytes of `image`. Throws felis::Error when encoding fails.
std::vector<char> encode_png(const Image& image);

}  // namespace felis
