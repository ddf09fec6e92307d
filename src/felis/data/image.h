// Single images of any size and channel layout, made to fit a model's input.
//
// The rule, applied in this order:
//  1. decode with OpenCV imgcodecs (PNG, JPEG, BMP), keeping alpha and 16-bit depth;
//  2. 16-bit samples become 8-bit by round(v / 257), so 65535 maps to 255;
//  3. an alpha channel is composited over a white background, then dropped;
//  4. gray becomes RGB by copying it to the three channels; RGB becomes gray by the
//     ITU-R BT.601 luma weights 0.299 R + 0.587 G + 0.114 B;
//  5. the image is resized to the model's H x W, ignoring the aspect ratio as the course
//     did: area interpolation when neither side grows, bilinear otherwise.
// Palette PNGs are expanded to RGB by the decoder. Pixels come out in RGB order, so an
// image written from an HDF5 data set reads back as exactly the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace felis {

struct ImageShape {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;  // 1 or 3; in a load_image target, 0 keeps the source's
};

struct LoadedImage {
  std::vector<uint8_t> pixels;  // (H, W, C) of the requested shape, RGB order
  ImageShape source_shape;      // as stored in the file, before any conversion
  bool had_alpha = false;
  bool was_16bit = false;
  std::vector<std::string> conversions;  // what step 2-5 did, for the user, e.g. "dropped alpha"
};

// Decodes `file` and converts it to `target` by the rule above. A target height and width
// of 0 keep the image's size, and target channels 0 keep it gray or RGB, so a target of
// {0, 0, 0} applies only steps 2 and 3. Throws felis::Error when the file is missing or
// cannot be decoded as an image, or when the target shape is invalid.
LoadedImage load_image(const std::filesystem::path& file, const ImageShape& target);

// Writes (H, W, C) RGB or gray pixels as a PNG file. Throws felis::Error on failure.
void save_png(const std::filesystem::path& file, const uint8_t* pixels, const ImageShape& shape);

}  // namespace felis
