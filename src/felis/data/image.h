// Single images of any size and channel layout, made to fit a model's input.
//
// The rule, applied in this order:
//  1. decode with OpenCV imgcodecs, keeping alpha and 16-bit depth. Only PNG, JPEG and BMP
//     files, identified by their signature, reach the decoder;
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

// Maximum pixels (width x height) of an image that load_image decodes: 2^26 = 67,108,864,
// about 8192 x 8192. load_image reads the size from a PNG, BMP or JPEG header before
// decoding, so a small file that declares a huge image cannot make the decoder reserve
// gigabytes (a 16-bit RGBA image at this limit already takes 512 MiB).
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

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
// {0, 0, 0} applies only steps 2 and 3. Throws felis::Error when the file is missing, not a
// regular file, truncated, larger than kMaxImagePixels or otherwise not decodable, or when
// the target shape is invalid. Warnings that the decoders print are dropped, and their
// errors become part of the felis::Error message.
// Not thread-safe: while decoding, it redirects the process's stderr (file descriptor 2)
// to capture what libpng and libjpeg print, so call it from one thread only, as felis does.
LoadedImage load_image(const std::filesystem::path& file, const ImageShape& target);

// The PNG file bytes of (H, W, C) RGB or gray pixels. Throws felis::Error for an invalid
// shape or when encoding fails.
std::vector<char> encode_png(const uint8_t* pixels, const ImageShape& shape);

// Writes (H, W, C) RGB or gray pixels as a PNG file. Throws felis::Error on failure.
void save_png(const std::filesystem::path& file, const uint8_t* pixels, const ImageShape& shape);

}  // namespace felis
