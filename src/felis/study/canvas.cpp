#include "felis/study/canvas.h"

#include "felis/data/image.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>

namespace felis {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr int kTextThickness = 1;
constexpr int kCaptionPadding_px = 4;  // space around a caption's text

cv::Size text_size(const std::string& text, double scale, int* baseline) {
  return cv::getTextSize(text, kFont, scale, kTextThickness, baseline);
}

void assert_valid(const Image& image) {
  assert(image.shape.height > 0);
  assert(image.shape.width > 0);
  assert(image.shape.channels == 1 || image.shape.channels == 3);
  assert(image.pixels.size() ==
         static_cast<size_t>(image.shape.height * image.shape.width * image.shape.channels));
  (void)image;
}

// `text` in black on a white image just large enough for it, turned 90 degrees
// counterclockwise when `vertical`, so that it reads from bottom to top.
cv::Mat text_image(const std::string& text, double scale, bool vertical) {
  int baseline = 0;
  const cv::Size size = text_size(text, scale, &baseline);
  cv::Mat image(size.height + baseline + 2, size.width + 2, CV_8UC3, cv::Scalar::all(255));
  cv::putText(image, text, cv::Point(1, size.height + 1), kFont, scale, cv::Scalar::all(0),
              kTextThickness, cv::LINE_AA);
  if (!vertical) return image;
  cv::Mat turned;
  cv::rotate(image, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  return turned;
}

void paste(const cv::Mat& source, cv::Mat& canvas, int left, int top) {
  source.copyTo(canvas(cv::Rect(left, top, source.cols, source.rows)));
}

Image image_from_mat(const cv::Mat& canvas) {
  assert(canvas.type() == CV_8UC3);
  assert(canvas.isContinuous());
  Image out{.shape = {.height = canvas.rows, .width = canvas.cols, .channels = 3}, .pixels = {}};
  out.pixels.assign(canvas.data, canvas.data + canvas.total() * 3);
  return out;
}

}  // namespace

Rgb diverging_color(double value, double max_abs) {
  if (!(max_abs > 0.0)) return {255, 255, 255};
  const double t = std::clamp(value / max_abs, -1.0, 1.0);
  // The other two channels fall linearly from 255 at t = 0 to 0 at |t| = 1.
  const auto fade = static_cast<uint8_t>(std::lround(255.0 * (1.0 - std::abs(t))));
  if (t >= 0.0) return {255, fade, fade};
  return {fade, fade, 255};
}

int64_t enlargement_factor(int64_t width, int64_t min_width) {
  assert(width >= 1);
  return std::max<int64_t>(1, (min_width + width - 1) / width);
}

Image enlarge_nearest(const Image& image, int64_t factor) {
  assert_valid(image);
  assert(factor >= 1);
  const int64_t channels = image.shape.channels;
  Image out{.shape = {.height = image.shape.height * factor,
                      .width = image.shape.width * factor,
                      .channels = channels},
            .pixels = {}};
  out.pixels.resize(static_cast<size_t>(out.shape.height * out.shape.width * channels));
  for (int64_t y = 0; y < out.shape.height; ++y) {
    const uint8_t* source_row = image.pixels.data() + (y / factor) * image.shape.width * channels;
    uint8_t* row = out.pixels.data() + y * out.shape.width * channels;
    for (int64_t x = 0; x < out.shape.width; ++x) {
      std::copy_n(source_row + (x / factor) * channels, channels, row + x * channels);
    }
  }
  return out;
}

Image to_rgb(const Image& image) {
  assert_valid(image);
  if (image.shape.channels == 3) return image;
  Image out{.shape = {.height = image.shape.height, .width = image.shape.width, .channels = 3},
            .pixels = {}};
  out.pixels.reserve(image.pixels.size() * 3);
  for (const uint8_t value : image.pixels) out.pixels.insert(out.pixels.end(), 3, value);
  return out;
}

Image compose_grid(const std::vector<std::vector<CaptionedImage>>& rows, const GridStyle& style) {
  // Cell size: the largest image, widened to the widest caption.
  int64_t cell_width = 0;
  int64_t image_height = 0;
  int caption_height = 0;
  size_t columns = 0;
  for (const auto& row : rows) {
    columns = std::max(columns, row.size());
    for (const auto& cell : row) {
      assert_valid(cell.image);
      cell_width = std::max(cell_width, cell.image.shape.width);
      image_height = std::max(image_height, cell.image.shape.height);
      if (cell.caption.empty()) continue;
      int baseline = 0;
      const cv::Size size = text_size(cell.caption, style.font_scale, &baseline);
      cell_width = std::max<int64_t>(cell_width, size.width + 2 * kCaptionPadding_px);
      caption_height = std::max(caption_height, size.height + baseline + 2 * kCaptionPadding_px);
    }
  }
  assert(columns > 0);
  assert(cell_width > 0);
  const int64_t cell_height = image_height + caption_height;
  const int64_t gap = style.gap_px;
  const auto column_count = static_cast<int64_t>(columns);
  const auto row_count = static_cast<int64_t>(rows.size());
  cv::Mat canvas(static_cast<int>(gap + row_count * (cell_height + gap)),
                 static_cast<int>(gap + column_count * (cell_width + gap)), CV_8UC3,
                 cv::Scalar::all(255));

  for (int64_t r = 0; r < row_count; ++r) {
    for (int64_t c = 0; c < static_cast<int64_t>(rows[r].size()); ++c) {
      const CaptionedImage& cell = rows[r][c];
      const int64_t left = gap + c * (cell_width + gap);
      const int64_t top = gap + r * (cell_height + gap);

      // The image, centred horizontally (and vertically within the image band) if asked.
      Image rgb = to_rgb(cell.image);
      const int64_t dx = style.center_images ? (cell_width - rgb.shape.width) / 2 : 0;
      const int64_t dy = style.center_images ? (image_height - rgb.shape.height) / 2 : 0;
      const cv::Mat source(static_cast<int>(rgb.shape.height), static_cast<int>(rgb.shape.width),
                           CV_8UC3, rgb.pixels.data());
      source.copyTo(canvas(cv::Rect(static_cast<int>(left + dx), static_cast<int>(top + dy),
                                    source.cols, source.rows)));

      // The caption, centred under the image band.
      if (cell.caption.empty()) continue;
      int baseline = 0;
      const cv::Size size = text_size(cell.caption, style.font_scale, &baseline);
      const int x = static_cast<int>(left + (cell_width - size.width) / 2);
      const int y = static_cast<int>(top + image_height + kCaptionPadding_px + size.height);
      cv::putText(canvas, cell.caption, cv::Point(x, y), kFont, style.font_scale,
                  cv::Scalar::all(0), kTextThickness, cv::LINE_AA);
    }
  }

  return image_from_mat(canvas);
}

std::vector<std::vector<CaptionedImage>> split_rows(std::vector<CaptionedImage> cells,
                                                    int64_t columns) {
  assert(columns >= 1);
  std::vector<std::vector<CaptionedImage>> rows;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i % static_cast<size_t>(columns) == 0) rows.emplace_back();
    rows.back().push_back(std::move(cells[i]));
  }
  return rows;
}

Image draw_count_heatmap(const CountHeatmap& heatmap, const GridStyle& style) {
  const auto rows = static_cast<int>(heatmap.counts.size());
  const auto columns = static_cast<int>(heatmap.column_labels.size());
  assert(rows > 0);
  assert(columns > 0);
  assert(heatmap.row_labels.size() == heatmap.counts.size());
  int64_t max_count = 0;
  for (const auto& row : heatmap.counts) {
    assert(static_cast<int>(row.size()) == columns);
    for (const int64_t count : row) {
      assert(count >= 0);
      max_count = std::max(max_count, count);
    }
  }

  // Cell side: at least 36 px, and wide enough for the longest count.
  int cell = 36;
  for (const auto& row : heatmap.counts) {
    for (const int64_t count : row) {
      int baseline = 0;
      cell = std::max(cell, text_size(std::to_string(count), style.font_scale, &baseline).width + 8);
    }
  }

  // Labels as images: row labels and the column title horizontal, the row title and the
  // column labels turned.
  std::vector<cv::Mat> row_labels;
  int row_label_width = 0;
  for (const auto& label : heatmap.row_labels) {
    row_labels.push_back(text_image(label, style.font_scale, /*vertical=*/false));
    row_label_width = std::max(row_label_width, row_labels.back().cols);
  }
  std::vector<cv::Mat> column_labels;
  int column_label_height = 0;
  for (const auto& label : heatmap.column_labels) {
    column_labels.push_back(text_image(label, style.font_scale, /*vertical=*/true));
    column_label_height = std::max(column_label_height, column_labels.back().rows);
  }
  const cv::Mat row_title = text_image(heatmap.row_title, style.font_scale, /*vertical=*/true);
  const cv::Mat column_title =
      text_image(heatmap.column_title, style.font_scale, /*vertical=*/false);

  // Layout, left to right: gap, row title, gap, row labels, gap, cells, gap; top to
  // bottom: gap, cells, gap, column labels, gap, column title, gap.
  const int gap = static_cast<int>(style.gap_px);
  const int cells_left = gap + row_title.cols + gap + row_label_width + gap;
  const int cells_top = gap;
  const int cells_width = columns * cell;
  const int cells_height = rows * cell;
  const int width = std::max(cells_left + cells_width + gap, cells_left + column_title.cols + gap);
  const int height =
      cells_top + std::max(cells_height, row_title.rows) + gap + column_label_height + gap +
      column_title.rows + gap;
  cv::Mat canvas(height, width, CV_8UC3, cv::Scalar::all(255));

  // Cells: white to dark blue (RGB 8, 48, 107), with black text on light cells and white
  // on dark ones.
  const cv::Vec3d white(255, 255, 255);
  const cv::Vec3d dark_blue(8, 48, 107);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < columns; ++c) {
      const int64_t count = heatmap.counts[r][c];
      const double t = max_count > 0 ? static_cast<double>(count) / max_count : 0.0;
      const cv::Vec3d color = white + t * (dark_blue - white);
      const cv::Rect box(cells_left + c * cell, cells_top + r * cell, cell, cell);
      cv::rectangle(canvas, box, cv::Scalar(color[0], color[1], color[2]), cv::FILLED);
      cv::rectangle(canvas, box, cv::Scalar::all(200), 1);
      const std::string text = std::to_string(count);
      int baseline = 0;
      const cv::Size size = text_size(text, style.font_scale, &baseline);
      const cv::Scalar ink = t > 0.5 ? cv::Scalar::all(255) : cv::Scalar::all(0);
      cv::putText(canvas, text,
                  cv::Point(box.x + (cell - size.width) / 2, box.y + (cell + size.height) / 2),
                  kFont, style.font_scale, ink, kTextThickness, cv::LINE_AA);
    }
  }

  // Labels and titles.
  for (int r = 0; r < rows; ++r) {
    const cv::Mat& label = row_labels[r];
    paste(label, canvas, cells_left - gap - label.cols,
          cells_top + r * cell + (cell - label.rows) / 2);
  }
  for (int c = 0; c < columns; ++c) {
    const cv::Mat& label = column_labels[c];
    paste(label, canvas, cells_left + c * cell + (cell - label.cols) / 2,
          cells_top + cells_height + gap);
  }
  paste(row_title, canvas, gap, cells_top + std::max(0, (cells_height - row_title.rows) / 2));
  paste(column_title, canvas, cells_left + (cells_width - column_title.cols) / 2,
        cells_top + std::max(cells_height, row_title.rows) + gap + column_label_height + gap);
  return image_from_mat(canvas);
}

std::vector<char> encode_png(const Image& image) {
  return encode_png(image.pixels.data(), image.shape);
}

}  // namespace felis
