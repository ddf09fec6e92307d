// Dataset: labelled images kept as uint8 in their file's layout.
//
// Legend: N images, H x W pixels, C channels (1 gray or 3 RGB), K classes.
// Pixels stay uint8 so that memory stays near the size of the files; a batch converts
// them to floating point (see batch.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace felis {

struct Dataset {
  int64_t count = 0;     // N
  int64_t height = 0;    // H
  int64_t width = 0;     // W
  int64_t channels = 0;  // C, in RGB order when 3
  std::vector<uint8_t> pixels;           // (N, H, W, C), row-major
  std::vector<int32_t> labels;           // (N), each in [0, K)
  std::vector<std::string> class_names;  // (K)
  // True when the file names no classes and the loader made up class_names ("0" up to the
  // largest label, or the digits "0".."9" for IDX), so load_data may extend them.
  bool generated_class_names = false;
  std::string source;                    // the file it came from, for messages

  int64_t image_size() const { return height * width * channels; }
  int64_t class_count() const { return static_cast<int64_t>(class_names.size()); }
  const uint8_t* image(int64_t i) const { return pixels.data() + i * image_size(); }

  // Throws felis::Error unless the sizes agree and every label is a valid class index.
  void validate() const;
};

// The splits found at one path. A single file may hold only a training split.
struct DataSplits {
  Dataset train;
  std::optional<Dataset> test;
};

// Counts of images per class, (K).
std::vector<int64_t> class_counts(const Dataset& data);

}  // namespace felis
