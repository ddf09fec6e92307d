// Single images: decoding with OpenCV and the conversion rule documented in image.h.
#include "felis/data/image.h"

#include "felis/data/codecs.h"
#include "felis/data/file_kind.h"
#include "felis/data/image_header.h"
#include "felis/data/stderr_capture.h"
#include "felis/error.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>  // flags only; codecs.h does the decoding
#include <opencv2/imgproc.hpp>
#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <limits>
#include <utility>

namespace felis {

namespace {

// PNG color types, stored in byte 25 of the file (inside the IHDR chunk).
constexpr uint8_t kPngGray = 0;
constexpr uint8_t kPngGrayAlpha = 4;
// Maximum side in pixels of a requested or saved image; OpenCV sizes are int.
constexpr int64_t kMaxSide = 1 << 16;

// True when `file` is a PNG whose pixels are gray, with or without alpha. OpenCV decodes
// gray+alpha PNGs (and gray ones with a transparent color) as BGRA with equal channels,
// so the channel count alone does not tell.
bool is_gray_png(const std::filesystem::path& file) {
  const std::vector<uint8_t> start = detail::read_file_start(file, 26);
  if (detail::detect_file_kind(file) != detail::FileKind::png || start.size() < 26) return false;
  if (std::string(start.begin() + 12, start.begin() + 16) != "IHDR") return false;
  return start[25] == kPngGray || start[25] == kPngGrayAlpha;
}

void validate_shape(const ImageShape& shape, const std::string& subject) {
  if (shape.height <= 0 || shape.width <= 0 || shape.height > kMaxSide ||
      shape.width > kMaxSide || (shape.channels != 1 && shape.channels != 3)) {
    throw Error(fmt::format("{} shape {}x{}x{} (H x W x C) is invalid; expected 1 to {} pixels "
                            "per side and 1 or 3 channels",
                            subject, shape.height, shape.width, shape.channels, kMaxSide));
  }
}

// Throws unless `target` is a valid load_image target: sides of 1 to kMaxSide pixels or
// both 0 (keep the size), and 1, 3 or 0 (keep) channels.
void validate_target(const ImageShape& target) {
  const bool keep_size = target.height == 0 && target.width == 0;
  const bool sides_valid = target.height > 0 && target.width > 0 &&
                           target.height <= kMaxSide && target.width <= kMaxSide;
  const bool channels_valid = target.channels == 0 || target.channels == 1 ||
                              target.channels == 3;
  if (!(keep_size || sides_valid) || !channels_valid) {
    throw Error(fmt::format("requested image shape {}x{}x{} (H x W x C) is invalid; expected 1 "
                            "to {} pixels per side (or 0x0 to keep the size) and 1 or 3 "
                            "channels (or 0 to keep them)",
                            target.height, target.width, target.channels, kMaxSide));
  }
}

// Composites the color channels of an 8-bit image with alpha in its last channel over a
// white background and drops the alpha channel:
//   out = round((c * a + 255 * (255 - a)) / 255)
// Integer division of the numerator plus 127 rounds exactly, because the numerator over
// 255 never ends in exactly one half.
cv::Mat composite_over_white(const cv::Mat& image) {
  const int channels = image.channels();  // 2 or 4
  const int colors = channels - 1;
  cv::Mat out(image.rows, image.cols, CV_8UC(colors));
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* in_row = image.ptr<uint8_t>(y);
    uint8_t* out_row = out.ptr<uint8_t>(y);
    for (int x = 0; x < image.cols; ++x) {
      const int alpha = in_row[x * channels + colors];
      for (int c = 0; c < colors; ++c) {
        const int numerator = in_row[x * channels + c] * alpha + 255 * (255 - alpha);
        out_row[x * colors + c] = static_cast<uint8_t>((numerator + 127) / 255);
      }
    }
  }
  return out;
}

std::string kind_name(detail::FileKind kind) {
  switch (kind) {
    case detail::FileKind::png:
      return "PNG";
    case detail::FileKind::jpeg:
      return "JPEG";
    case detail::FileKind::bmp:
      return "BMP";
    default:
      return "";
  }
}

// Appends " (decoder output: TEXT)" when the decoders printed something.
std::string with_decoder_output(const std::string& message, const std::string& output) {
  if (output.empty()) return message;
  return fmt::format("{} (decoder output: {})", message, output);
}

void reject_if_too_large(const std::filesystem::path& file, uint64_t width, uint64_t height) {
  // Both sides are below 2^32, so the product cannot overflow.
  if (width * height > static_cast<uint64_t>(kMaxImagePixels)) {
    throw Error(fmt::format("{}: image is {}x{} (W x H), more than felis's limit of {} pixels; "
                            "shrink it first",
                            file.string(), width, height, kMaxImagePixels));
  }
}

// The message for a file that OpenCV could not decode, or decoded with a libpng error.
std::string undecodable_message(const std::filesystem::path& file, detail::FileKind kind,
                                const std::string& output) {
  const std::string name = kind_name(kind);
  if (name.empty()) {
    return with_decoder_output(
        fmt::format("{}: cannot be decoded as an image; felis reads PNG, JPEG and BMP",
                    file.string()),
        output);
  }
  return with_decoder_output(fmt::format("{}: cannot be decoded as a {} image; the file is "
                                         "truncated or corrupt, re-download it",
                                         file.string(), name),
                             output);
}

// Runs cv::imread and returns the image with what the decoders printed to stderr.
std::pair<cv::Mat, std::string> read_with_captured_stderr(const std::filesystem::path& file,
                                                          detail::FileKind kind) {
  // NOTE: libpng and libjpeg print warnings and errors to stderr themselves, and OpenCV
  // 4.6 does not let a caller install their handlers. felis prints only its own one-line
  // errors, so fd 2 is redirected while the decoder runs (see StderrCapture). That is
  // safe only while no other thread writes to stderr, and felis's callers of load_image
  // (predict and info) run on the main thread alone.
  detail::StderrCapture capture;
  try {
    cv::Mat image = read_image_file(file.string(), cv::IMREAD_UNCHANGED);
    return {std::move(image), capture.text()};
  } catch (const cv::Exception& error) {
    // OpenCV 4.6 checks the declared size against CV_IO_MAX_IMAGE_WIDTH, _HEIGHT and
    // _PIXELS (2^20, 2^20 and 2^30 unless set by OPENCV_IO_MAX_IMAGE_* variables). Only
    // formats whose header felis does not read get that far with a huge size.
    if (error.err.find("CV_IO_MAX_IMAGE") != std::string::npos) {
      throw Error(fmt::format("{}: image is too large to decode; felis reads images of at most "
                              "{} pixels, shrink it first",
                              file.string(), kMaxImagePixels));
    }
    throw Error(with_decoder_output(
        fmt::format("{} (OpenCV: {})", undecodable_message(file, kind, ""), error.err),
        capture.text()));
  }
}

cv::Mat decode(const std::filesystem::path& file) {
  detail::require_file_or_directory(file);
  if (std::filesystem::is_directory(file)) {
    throw Error(fmt::format("{}: cannot be decoded as an image; felis reads PNG, JPEG and BMP",
                            file.string()));
  }
  const detail::FileKind kind = detail::detect_file_kind(file);
  // OpenCV would try its other decoders too (TIFF, WebP, OpenEXR, JPEG 2000, DICOM, ...).
  // Each is more code that a crafted file can reach: fuzzing found an input on which
  // Debian's DICOM decoder aborts the process. Only the three formats felis documents pass.
  if (kind_name(kind).empty()) {
    throw Error(fmt::format("{}: cannot be decoded as an image; felis reads PNG, JPEG and BMP, "
                            "and {}; convert it to PNG first",
                            file.string(),
                            detail::describe_file_start(detail::read_file_start(file, 16))));
  }
  // Without the size from the header, the decoder could be made to reserve gigabytes.
  const auto size = detail::read_declared_size(file, kind);
  if (!size) {
    throw Error(fmt::format("{}: cannot be decoded as a {} image; its header gives no image "
                            "size, so the file is truncated or corrupt, re-download it",
                            file.string(), kind_name(kind)));
  }
  reject_if_too_large(file, size->width, size->height);

  auto [decoded, output] = read_with_captured_stderr(file, kind);
  if (decoded.empty()) throw Error(undecodable_message(file, kind, output));
  // libjpeg fills the missing rows of a cut file with gray and only warns, and a libpng
  // error means that the pixels, if any came out, are incomplete.
  if (kind == detail::FileKind::jpeg &&
      output.find("Premature end of JPEG file") != std::string::npos) {
    throw Error(with_decoder_output(fmt::format("{}: the JPEG data ends early, so the file is "
                                                "truncated; re-download it",
                                                file.string()),
                                    output));
  }
  if (output.find("libpng error") != std::string::npos) {
    throw Error(undecodable_message(file, kind, output));
  }
  // A header that felis could not read comes through OpenCV's larger limit.
  reject_if_too_large(file, static_cast<uint64_t>(decoded.cols),
                      static_cast<uint64_t>(decoded.rows));

  if (decoded.depth() != CV_8U && decoded.depth() != CV_16U) {
    throw Error(fmt::format("{}: has samples of OpenCV depth {}; felis reads 8- and 16-bit "
                            "images",
                            file.string(), decoded.depth()));
  }
  if (decoded.channels() > 4) {
    throw Error(fmt::format("{}: has {} channels; felis reads gray, RGB and their alpha "
                            "variants",
                            file.string(), decoded.channels()));
  }
  return decoded;
}

}  // namespace

LoadedImage load_image(const std::filesystem::path& file, const ImageShape& target) {
  validate_target(target);

  // 1. Decode, keeping alpha and 16-bit samples. OpenCV orders color channels BGR(A).
  cv::Mat image = decode(file);
  LoadedImage loaded;
  const bool gray = image.channels() <= 2 || (image.channels() == 4 && is_gray_png(file));
  loaded.source_shape = {.height = image.rows, .width = image.cols, .channels = gray ? 1 : 3};
  loaded.had_alpha = image.channels() == 2 || image.channels() == 4;
  loaded.was_16bit = image.depth() == CV_16U;

  // 2. 16-bit to 8-bit by round(v / 257).
  if (loaded.was_16bit) {
    cv::Mat scaled;
    image.convertTo(scaled, CV_8U, 1.0 / 257.0);
    image = scaled;
    loaded.conversions.push_back("scaled 16-bit to 8-bit");
  }

  // 3. Composite alpha over white and drop it. A gray PNG decoded as BGRA keeps one of its
  // equal channels.
  if (loaded.had_alpha) {
    image = composite_over_white(image);
    loaded.conversions.push_back("dropped alpha channel (composited over white)");
  }
  if (gray && image.channels() == 3) {
    cv::extractChannel(image, image, 0);
  } else if (image.channels() == 3) {
    cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  }

  // 4. Channels: gray copied to RGB, or RGB to BT.601 luma (OpenCV's RGB2GRAY weights).
  if (target.channels == 0) {
    // keep gray or RGB
  } else if (image.channels() == 1 && target.channels == 3) {
    cv::cvtColor(image, image, cv::COLOR_GRAY2RGB);
    loaded.conversions.push_back("converted gray to RGB");
  } else if (image.channels() == 3 && target.channels == 1) {
    cv::cvtColor(image, image, cv::COLOR_RGB2GRAY);
    loaded.conversions.push_back("converted RGB to gray");
  }

  // 5. Resize, ignoring the aspect ratio: area averaging when shrinking, bilinear when
  // either side grows.
  const int target_height = target.height == 0 ? image.rows : static_cast<int>(target.height);
  const int target_width = target.width == 0 ? image.cols : static_cast<int>(target.width);
  if (image.rows != target_height || image.cols != target_width) {
    const bool grows = target_height > image.rows || target_width > image.cols;
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(target_width, target_height), 0, 0,
               grows ? cv::INTER_LINEAR : cv::INTER_AREA);
    loaded.conversions.push_back(fmt::format("resized {}x{} to {}x{} (W x H)", image.cols, image.rows,
                                             target_width, target_height));
    image = resized;
  }

  if (!image.isContinuous()) image = image.clone();
  loaded.pixels.assign(image.datastart, image.dataend);
  return loaded;
}

std::vector<char> encode_png(const uint8_t* pixels, const ImageShape& shape) {
  validate_shape(shape, "image to encode as PNG");

  const int type = shape.channels == 3 ? CV_8UC3 : CV_8UC1;
  const cv::Mat image(static_cast<int>(shape.height), static_cast<int>(shape.width), type,
                      const_cast<uint8_t*>(pixels));
  // `image` wraps the caller's pixels, so the conversion must write to a new buffer.
  cv::Mat bgr;
  if (shape.channels == 3) {
    cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  } else {
    bgr = image;
  }

  std::vector<uchar> encoded;
  bool ok = false;
  try {
    ok = encode_image(".png", bgr, encoded);
  } catch (const cv::Exception& error) {
    throw Error(fmt::format("PNG encoding failed (OpenCV: {})", error.err));
  }
  if (!ok) throw Error("PNG encoding failed");
  return {encoded.begin(), encoded.end()};
}

void save_png(const std::filesystem::path& file, const uint8_t* pixels, const ImageShape& shape) {
  std::vector<char> encoded;
  try {
    encoded = encode_png(pixels, shape);
  } catch (const Error& error) {
    throw Error(fmt::format("{}: {}", file.string(), error.what()));
  }
  std::ofstream out(file, std::ios::binary);
  out.write(encoded.data(), static_cast<std::streamsize>(encoded.size()));
  if (!out) {
    throw Error(fmt::format("{}: cannot be written; check that the directory exists and is "
                            "writable",
                            file.string()));
  }
}

}  // namespace felis
