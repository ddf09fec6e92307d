// Tests of load_image and save_png: each step of the conversion rule on images written
// here with hand-computed values, and the shared photos and cat images.
#include "data/fixtures.h"
#include "felis/data/image.h"
#include "felis/data/loaders.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <spdlog/fmt/fmt.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string_view>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;
using fixtures::TempDir;

constexpr ImageShape kGray2x2 = {.height = 2, .width = 2, .channels = 1};
constexpr ImageShape kRgb2x2 = {.height = 2, .width = 2, .channels = 3};

void append_chunk(std::vector<uint8_t>& png, std::string_view type,
                  const std::vector<uint8_t>& data) {
  fixtures::append_big_endian_u32(png, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type.begin(), type.end());
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  fixtures::append_big_endian_u32(png, static_cast<uint32_t>(crc32(0, body.data(),
                                                                   static_cast<uInt>(body.size()))));
}

// Writes an 8-bit PNG by hand, for the color types OpenCV does not write: 3 (palette,
// with `palette` as RGB triples) and 4 (gray + alpha). Each of `rows` is one row's samples
// without the filter byte.
void write_png_by_hand(const std::filesystem::path& file, uint32_t width, uint32_t height,
                       uint8_t color_type, const std::vector<std::vector<uint8_t>>& rows,
                       const std::vector<uint8_t>& palette = {}) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  std::vector<uint8_t> header;
  fixtures::append_big_endian_u32(header, width);
  fixtures::append_big_endian_u32(header, height);
  // bit depth 8, then compression, filter and interlace methods 0
  header.insert(header.end(), {8, color_type, 0, 0, 0});
  append_chunk(png, "IHDR", header);
  if (!palette.empty()) append_chunk(png, "PLTE", palette);

  std::vector<uint8_t> filtered;
  for (const std::vector<uint8_t>& row : rows) {
    filtered.push_back(0);  // filter type None
    filtered.insert(filtered.end(), row.begin(), row.end());
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(filtered.size()));
  std::vector<uint8_t> compressed(compressed_size);
  compress(compressed.data(), &compressed_size, filtered.data(),
           static_cast<uLong>(filtered.size()));
  compressed.resize(compressed_size);
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", {});

  fixtures::write_bytes(file, png);
}

// Redirects file descriptor 2 to a temporary file for its lifetime, so that a test can
// check what a decoder printed to stderr.
class StderrCapture {
public:
  StderrCapture() : file_(std::tmpfile()), saved_(dup(2)) {
    std::fflush(stderr);
    dup2(fileno(file_), 2);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture() {
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    std::fclose(file_);
  }

  std::string text() const {
    std::fflush(stderr);
    std::string text(4096, '\0');
    const ssize_t size = pread(fileno(file_), text.data(), text.size(), 0);
    text.resize(size > 0 ? static_cast<size_t>(size) : 0);
    return text;
  }

private:
  std::FILE* file_;
  int saved_;
};

// Encodes `width` x `height` random RGB pixels with OpenCV as `extension` (".png" or ".jpg"),
// so that compression cannot shrink them much and a cut file loses pixel data.
std::vector<uint8_t> encoded_noise(const std::string& extension, int width, int height) {
  cv::Mat noise(height, width, CV_8UC3);
  cv::randu(noise, 0, 256);
  std::vector<uchar> bytes;
  cv::imencode(extension, noise, bytes);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// out = round((c * a + 255 * (255 - a)) / 255), computed in floating point.
uint8_t over_white(int color, int alpha) {
  return static_cast<uint8_t>(std::lround((color * alpha + 255.0 * (255 - alpha)) / 255.0));
}

TEST(Image, GrayToRgb) {
  TempDir dir;
  const auto file = dir / "gray.png";
  const cv::Mat gray = (cv::Mat_<uint8_t>(2, 2) << 0, 64, 200, 255);
  ASSERT_TRUE(cv::imwrite(file.string(), gray));

  const LoadedImage image = load_image(file, kRgb2x2);

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 0, 0, 64, 64, 64, 200, 200, 200, 255, 255, 255}));
  EXPECT_EQ(image.source_shape.channels, 1);
  EXPECT_EQ(image.source_shape.height, 2);
  EXPECT_FALSE(image.had_alpha);
  EXPECT_EQ(image.conversions, (std::vector<std::string>{"converted gray to RGB"}));
}

TEST(Image, RgbComesOutInRgbOrder) {
  TempDir dir;
  const auto file = dir / "rgb.png";
  // OpenCV stores B, G, R: the pixel is R = 30, G = 20, B = 10.
  ASSERT_TRUE(cv::imwrite(file.string(), cv::Mat(2, 2, CV_8UC3, cv::Scalar(10, 20, 30))));

  const LoadedImage image = load_image(file, kRgb2x2);

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{30, 20, 10, 30, 20, 10, 30, 20, 10, 30, 20, 10}));
  EXPECT_EQ(image.source_shape.channels, 3);
  EXPECT_TRUE(image.conversions.empty());
}

TEST(Image, RedLuma) {
  TempDir dir;
  const auto file = dir / "red.png";
  ASSERT_TRUE(cv::imwrite(file.string(), cv::Mat(2, 2, CV_8UC3, cv::Scalar(0, 0, 255))));

  const LoadedImage image = load_image(file, kGray2x2);

  // round(0.299 * 255) = round(76.245) = 76
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{76, 76, 76, 76}));
  EXPECT_EQ(image.conversions, (std::vector<std::string>{"converted RGB to gray"}));
}

TEST(Image, RgbaOverWhite) {
  TempDir dir;
  const auto file = dir / "rgba.png";
  cv::Mat bgra(1, 4, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = {0, 0, 0, 128};      // black, half transparent
  bgra.at<cv::Vec4b>(0, 1) = {50, 100, 200, 128};  // R = 200, G = 100, B = 50
  bgra.at<cv::Vec4b>(0, 2) = {1, 2, 3, 0};         // fully transparent
  bgra.at<cv::Vec4b>(0, 3) = {1, 2, 3, 255};       // opaque
  ASSERT_TRUE(cv::imwrite(file.string(), bgra));

  const LoadedImage image = load_image(file, {.height = 1, .width = 4, .channels = 3});

  // (0 * 128 + 255 * 127) / 255 = 127; (200 * 128 + 255 * 127) / 255 = 227.39
  EXPECT_EQ(over_white(0, 128), 127);
  EXPECT_EQ(over_white(200, 128), 227);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{127, 127, 127, 227, over_white(100, 128),
                                                over_white(50, 128), 255, 255, 255, 3, 2, 1}));
  EXPECT_TRUE(image.had_alpha);
  EXPECT_EQ(image.source_shape.channels, 3);
  EXPECT_EQ(image.conversions,
            (std::vector<std::string>{"dropped alpha channel (composited over white)"}));
}

TEST(Image, GrayAlphaPng) {
  TempDir dir;
  const auto file = dir / "gray_alpha.png";
  // Pixels as (gray, alpha): (100, 255), (0, 0), (50, 128), (200, 64).
  write_png_by_hand(file, 2, 2, /*color_type=*/4, {{100, 255, 0, 0}, {50, 128, 200, 64}});

  const LoadedImage gray = load_image(file, kGray2x2);
  const LoadedImage rgb = load_image(file, kRgb2x2);

  // (50 * 128 + 255 * 127) / 255 = 152.1; (200 * 64 + 255 * 191) / 255 = 241.2
  EXPECT_EQ(gray.pixels, (std::vector<uint8_t>{100, 255, 152, 241}));
  EXPECT_EQ(gray.source_shape.channels, 1);
  EXPECT_TRUE(gray.had_alpha);
  EXPECT_EQ(gray.conversions,
            (std::vector<std::string>{"dropped alpha channel (composited over white)"}));
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{100, 100, 100, 255, 255, 255, 152, 152, 152, 241,
                                              241, 241}));
  EXPECT_EQ(rgb.conversions.back(), "converted gray to RGB");
}

TEST(Image, PalettePng) {
  TempDir dir;
  const auto file = dir / "palette.png";
  const std::vector<uint8_t> palette = {255, 0, 0, 0, 0, 255, 10, 20, 30};
  write_png_by_hand(file, 2, 2, /*color_type=*/3, {{0, 1}, {2, 0}}, palette);

  const LoadedImage image = load_image(file, kRgb2x2);

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{255, 0, 0, 0, 0, 255, 10, 20, 30, 255, 0, 0}));
  EXPECT_EQ(image.source_shape.channels, 3);
  EXPECT_FALSE(image.had_alpha);
}

TEST(Image, SixteenBitScaled) {
  TempDir dir;
  const auto file = dir / "deep.png";
  // v / 257: 65535 -> 255, 25700 -> 100, 128 -> 0.498 -> 0, 129 -> 0.502 -> 1
  const cv::Mat deep = (cv::Mat_<uint16_t>(2, 2) << 65535, 257 * 100, 128, 129);
  ASSERT_TRUE(cv::imwrite(file.string(), deep));

  const LoadedImage image = load_image(file, kGray2x2);

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{255, 100, 0, 1}));
  EXPECT_TRUE(image.was_16bit);
  EXPECT_EQ(image.conversions, (std::vector<std::string>{"scaled 16-bit to 8-bit"}));
}

TEST(Image, SixteenBitRgba) {
  TempDir dir;
  const auto file = dir / "deep_rgba.png";
  // B = 0, G = 257 * 100, R = 65535, alpha = 257 * 128: after scaling, alpha 128 over white.
  ASSERT_TRUE(cv::imwrite(file.string(),
                          cv::Mat(1, 1, CV_16UC4, cv::Scalar(0, 257 * 100, 65535, 257 * 128))));

  const LoadedImage image = load_image(file, {.height = 1, .width = 1, .channels = 3});

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{over_white(255, 128), over_white(100, 128),
                                                over_white(0, 128)}));
  EXPECT_EQ(image.conversions,
            (std::vector<std::string>{"scaled 16-bit to 8-bit",
                                      "dropped alpha channel (composited over white)"}));
}

TEST(Image, Bmp) {
  TempDir dir;
  const auto file = dir / "picture.bmp";
  cv::Mat bgr(2, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  bgr.at<cv::Vec3b>(0, 1) = {255, 128, 7};  // R = 7, G = 128, B = 255
  ASSERT_TRUE(cv::imwrite(file.string(), bgr));

  const LoadedImage image = load_image(file, kRgb2x2);

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 0, 0, 7, 128, 255, 0, 0, 0, 0, 0, 0}));
}

TEST(Image, JpegWithinCompressionError) {
  TempDir dir;
  const auto file = dir / "flat.jpg";
  // A flat 16x16 block: JPEG keeps its color within a few levels at quality 95.
  ASSERT_TRUE(cv::imwrite(file.string(), cv::Mat(16, 16, CV_8UC3, cv::Scalar(50, 100, 200)),
                          {cv::IMWRITE_JPEG_QUALITY, 95}));

  const LoadedImage image = load_image(file, {.height = 16, .width = 16, .channels = 3});

  ASSERT_EQ(image.pixels.size(), 16u * 16 * 3);
  const int expected[3] = {200, 100, 50};
  int max_difference = 0;
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    max_difference = std::max(max_difference, std::abs(image.pixels[i] - expected[i % 3]));
  }
  EXPECT_LE(max_difference, 3) << "largest difference from R=200 G=100 B=50";
}

TEST(Image, ShrinkUsesAreaAverage) {
  TempDir dir;
  const auto file = dir / "blocks.png";
  const cv::Mat gray = (cv::Mat_<uint8_t>(4, 4) << 0, 0, 10, 20,    //
                        0, 0, 30, 40,                                //
                        100, 100, 255, 255,                          //
                        100, 100, 255, 255);
  ASSERT_TRUE(cv::imwrite(file.string(), gray));

  const LoadedImage image = load_image(file, kGray2x2);

  // Each output pixel is the mean of one 2x2 block: (10 + 20 + 30 + 40) / 4 = 25.
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 25, 100, 255}));
  EXPECT_EQ(image.conversions, (std::vector<std::string>{"resized 4x4 to 2x2 (W x H)"}));
}

TEST(Image, GrowUsesBilinear) {
  TempDir dir;
  const auto file = dir / "pair.png";
  const cv::Mat pair = (cv::Mat_<uint8_t>(1, 2) << 0, 200);
  ASSERT_TRUE(cv::imwrite(file.string(), pair));

  const LoadedImage image = load_image(file, {.height = 1, .width = 4, .channels = 1});

  // Bilinear with half-pixel centers: source x = (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75,
  // 1.25, clamped at the edges: 0, 50, 150, 200.
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 50, 150, 200}));
  EXPECT_EQ(image.conversions, (std::vector<std::string>{"resized 2x1 to 4x1 (W x H)"}));
}

TEST(Image, MissingFile) {
  TempDir dir;
  const auto file = dir / "absent.png";
  const std::string message = error_message([&] { load_image(file, kRgb2x2); });
  EXPECT_EQ(message, file.string() + ": no such file or directory");
}

TEST(Image, UndecodableFile) {
  TempDir dir;
  const auto file = dir / "fake.png";
  fixtures::write_text(file, "<!DOCTYPE html><html></html>");

  const std::string message = error_message([&] { load_image(file, kRgb2x2); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "cannot be decoded as an image")) << message;
  EXPECT_TRUE(contains(message, "PNG, JPEG and BMP")) << message;
}

TEST(Image, InvalidTargetShape) {
  TempDir dir;
  const auto file = dir / "gray.png";
  ASSERT_TRUE(cv::imwrite(file.string(), cv::Mat(2, 2, CV_8UC1, cv::Scalar(5))));

  const std::string message =
      error_message([&] { load_image(file, {.height = 2, .width = 2, .channels = 4}); });

  EXPECT_TRUE(contains(message, "2x2x4")) << message;
  EXPECT_TRUE(contains(message, "1 or 3 channels")) << message;
  const std::string one_side =
      error_message([&] { load_image(file, {.height = 0, .width = 2, .channels = 1}); });
  EXPECT_TRUE(contains(one_side, "0x2x1")) << one_side;
}

TEST(Image, ZeroTargetKeepsSource) {
  TempDir dir;
  const auto file = dir / "rgba.png";
  cv::Mat bgra(1, 3, CV_8UC4, cv::Scalar(10, 20, 30, 255));
  bgra.at<cv::Vec4b>(0, 2) = {0, 0, 0, 0};
  ASSERT_TRUE(cv::imwrite(file.string(), bgra));

  const LoadedImage image = load_image(file, {.height = 0, .width = 0, .channels = 0});

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{30, 20, 10, 30, 20, 10, 255, 255, 255}));
  EXPECT_EQ(image.source_shape.height, 1);
  EXPECT_EQ(image.source_shape.width, 3);
  EXPECT_EQ(image.conversions,
            (std::vector<std::string>{"dropped alpha channel (composited over white)"}));
}

TEST(Image, SavePngRoundTrip) {
  TempDir dir;
  const std::vector<uint8_t> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3};
  const std::vector<uint8_t> gray = {9, 8, 7, 6};
  // The extension does not decide the format: save_png always writes PNG.
  save_png(dir / "rgb.png", rgb.data(), kRgb2x2);
  save_png(dir / "gray.data", gray.data(), kGray2x2);

  const LoadedImage rgb_back = load_image(dir / "rgb.png", kRgb2x2);
  const LoadedImage gray_back = load_image(dir / "gray.data", kGray2x2);

  EXPECT_EQ(rgb, (std::vector<uint8_t>{255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3}))
      << "save_png changed its input";
  EXPECT_EQ(rgb_back.pixels, rgb);
  EXPECT_EQ(gray_back.pixels, gray);
  EXPECT_EQ(fixtures::read_bytes(dir / "gray.data").at(1), 'P');
}

TEST(Image, SavePngToMissingDirectory) {
  TempDir dir;
  const auto file = dir / "no" / "such" / "dir.png";
  const std::vector<uint8_t> gray = {1, 2, 3, 4};

  const std::string message = error_message([&] { save_png(file, gray.data(), kGray2x2); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "cannot be written")) << message;
}

TEST(Image, CatTestSetRoundTrip) {
  const auto file = fixtures::shared_data("catvnoncat/test_catvnoncat.h5");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "course data not found at " << file;
  const Dataset test = load_hdf5_split(file, "test");
  ASSERT_EQ(test.count, 50);

  TempDir dir;
  const ImageShape shape = {.height = 64, .width = 64, .channels = 3};
  for (int64_t i = 0; i < test.count; ++i) {
    const auto png = dir / ("cat_" + std::to_string(i) + ".png");
    save_png(png, test.image(i), shape);

    const LoadedImage image = load_image(png, shape);

    const std::vector<uint8_t> expected(test.image(i), test.image(i) + test.image_size());
    EXPECT_EQ(image.pixels, expected) << "image " << i;
    EXPECT_TRUE(image.conversions.empty()) << "image " << i;
  }
}

TEST(Image, SharedPhotos) {
  const auto dir = fixtures::shared_data("photos");
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "photos not found at " << dir;

  struct Expected {
    std::string name;
    ImageShape source;
    bool had_alpha;
  };
  const std::vector<Expected> photos = {
      {"camera.png", {.height = 512, .width = 512, .channels = 1}, false},
      {"chelsea.png", {.height = 300, .width = 451, .channels = 3}, false},
      {"coffee.png", {.height = 400, .width = 600, .channels = 3}, false},
      {"logo.png", {.height = 500, .width = 500, .channels = 3}, true},
      {"rocket.jpg", {.height = 427, .width = 640, .channels = 3}, false},
  };
  for (const Expected& photo : photos) {
    for (const ImageShape target : {ImageShape{.height = 64, .width = 64, .channels = 3},
                                    ImageShape{.height = 28, .width = 28, .channels = 1}}) {
      const LoadedImage image = load_image(dir / photo.name, target);

      EXPECT_EQ(image.pixels.size(),
                static_cast<size_t>(target.height * target.width * target.channels))
          << photo.name;
      EXPECT_EQ(image.source_shape.height, photo.source.height) << photo.name;
      EXPECT_EQ(image.source_shape.width, photo.source.width) << photo.name;
      EXPECT_EQ(image.source_shape.channels, photo.source.channels) << photo.name;
      EXPECT_EQ(image.had_alpha, photo.had_alpha) << photo.name;
      EXPECT_EQ(image.conversions.back(),
                fmt::format("resized {}x{} to {}x{} (W x H)", photo.source.width, photo.source.height,
                            target.width, target.height))
          << photo.name;
    }
  }
}

TEST(Image, DecoderWarningsStayOffStderr) {
  TempDir dir;
  const auto file = dir / "bad_crc.png";
  // A 2x2 gray PNG whose tEXt chunk has a wrong CRC: libpng prints "libpng warning: tEXt: CRC
  // error" and decodes the pixels.
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> header;
  fixtures::append_big_endian_u32(header, 2);
  fixtures::append_big_endian_u32(header, 2);
  header.insert(header.end(), {8, 0, 0, 0, 0});
  append_chunk(png, "IHDR", header);
  append_chunk(png, "tEXt", {'C', 'o', 'm', 'm', 'e', 'n', 't', 0, 'h', 'i'});
  png[png.size() - 1] ^= 1;
  std::vector<uint8_t> rows = {0, 1, 2, 0, 3, 4};
  uLongf compressed_size = compressBound(static_cast<uLong>(rows.size()));
  std::vector<uint8_t> compressed(compressed_size);
  compress(compressed.data(), &compressed_size, rows.data(), static_cast<uLong>(rows.size()));
  compressed.resize(compressed_size);
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", {});
  fixtures::write_bytes(file, png);

  StderrCapture capture;
  const LoadedImage image = load_image(file, kGray2x2);

  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(capture.text(), "");
}

TEST(Image, SharedPhotoWarningsStayOffStderr) {
  const auto file = fixtures::shared_data("photos/chelsea.png");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "photo not found at " << file;

  StderrCapture capture;
  const LoadedImage image = load_image(file, kRgb2x2);

  EXPECT_EQ(image.source_shape.width, 451);
  EXPECT_EQ(capture.text(), "") << "libpng warns about chelsea.png's iCCP profile";
}

TEST(Image, TruncatedPngNamesDecoderError) {
  TempDir dir;
  const auto file = dir / "cut.png";
  std::vector<uint8_t> bytes = encoded_noise(".png", 64, 64);
  bytes.resize(bytes.size() / 2);
  fixtures::write_bytes(file, bytes);

  StderrCapture capture;
  const std::string message = error_message([&] { load_image(file, kRgb2x2); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "truncated or corrupt")) << message;
  EXPECT_TRUE(contains(message, "libpng error: Read Error")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(capture.text(), "");
}

TEST(Image, TruncatedJpegRejected) {
  TempDir dir;
  const auto file = dir / "cut.jpg";
  std::vector<uint8_t> bytes = encoded_noise(".jpg", 64, 64);
  bytes.resize(bytes.size() / 2);
  fixtures::write_bytes(file, bytes);

  StderrCapture capture;
  const std::string message = error_message([&] { load_image(file, kRgb2x2); });

  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "the JPEG data ends early")) << message;
  EXPECT_TRUE(contains(message, "re-download")) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(capture.text(), "");
}

TEST(Image, TruncatedSharedJpegRejected) {
  const auto photo = fixtures::shared_data("photos/rocket.jpg");
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "photo not found at " << photo;
  TempDir dir;
  const auto file = dir / "rocket.jpg";
  std::vector<uint8_t> bytes = fixtures::read_bytes(photo);
  bytes.resize(5000);
  fixtures::write_bytes(file, bytes);

  StderrCapture capture;
  const std::string message = error_message([&] { load_image(file, kRgb2x2); });

  EXPECT_TRUE(contains(message, "the JPEG data ends early")) << message;
  EXPECT_EQ(capture.text(), "");
}

// Expects load_image to reject `file` for declaring 32000x32000 pixels, before decoding.
void expect_rejected_as_huge(const std::filesystem::path& file) {
  StderrCapture capture;
  const std::string message = error_message([&] { load_image(file, kRgb2x2); });

  EXPECT_EQ(message, file.string() + ": image is 32000x32000 (W x H), more than felis's limit "
                                     "of 67108864 pixels; shrink it first");
  EXPECT_EQ(capture.text(), "");
}

TEST(Image, HugePngRejectedBeforeDecoding) {
  TempDir dir;
  const auto file = dir / "huge.png";
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> header;
  fixtures::append_big_endian_u32(header, 32000);
  fixtures::append_big_endian_u32(header, 32000);
  header.insert(header.end(), {16, 6, 0, 0, 0});  // 16-bit RGBA
  append_chunk(png, "IHDR", header);
  const std::vector<uint8_t> row_start = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
  append_chunk(png, "IDAT", row_start);
  append_chunk(png, "IEND", {});
  fixtures::write_bytes(file, png);

  expect_rejected_as_huge(file);
  EXPECT_EQ(kMaxImagePixels, 67108864);
}

TEST(Image, HugeBmpRejectedBeforeDecoding) {
  TempDir dir;
  const auto file = dir / "huge.bmp";
  std::vector<uint8_t> bmp(54, 0);
  auto put_u32 = [&](size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) bmp[at + i] = static_cast<uint8_t>(value >> (8 * i));
  };
  bmp[0] = 'B';
  bmp[1] = 'M';
  put_u32(2, 54);
  put_u32(10, 54);  // pixel data offset
  put_u32(14, 40);  // BITMAPINFOHEADER
  put_u32(18, 32000);
  put_u32(22, static_cast<uint32_t>(-32000));  // negative: rows stored top-down
  bmp[26] = 1;   // planes
  bmp[28] = 24;  // bits per pixel
  fixtures::write_bytes(file, bmp);

  expect_rejected_as_huge(file);
}

TEST(Image, HugeJpegRejectedBeforeDecoding) {
  TempDir dir;
  const auto file = dir / "huge.jpg";
  const std::vector<uint8_t> jpeg = {
      0xff, 0xd8,                                            // SOI
      0xff, 0xe0, 0x00, 0x06, 'J', 'F', 'I', 'F',            // APP0 of 4 payload bytes
      0xff, 0xc4, 0x00, 0x03, 0x00,                          // DHT, skipped
      0xff, 0xc2, 0x00, 0x0b, 0x08, 0x7d, 0x00, 0x7d, 0x00,  // SOF2: 8-bit, 32000x32000
      0x01, 0x01, 0x11, 0x00,                                // one component
      0xff, 0xd9};                                           // EOI
  fixtures::write_bytes(file, jpeg);

  expect_rejected_as_huge(file);
}

// libjpeg skips bytes that are not a marker, so the size check must look past them too.
// The file is the one on which fuzzing found 8 such bytes hiding a 31363 x 30976 frame.
TEST(Image, HugeJpegBehindExtraneousBytesRejected) {
  const auto file = std::filesystem::path(FELIS_SOURCE_DIR) / "fuzz" / "regressions" / "image" /
                    "jpeg-frame-behind-extraneous-bytes.jpg";
  StderrCapture capture;
  const std::string message = error_message([&] { load_image(file, kRgb2x2); });
  EXPECT_TRUE(contains(message, "image is 31363x30976 (W x H), more than felis's limit")) << message;
  EXPECT_EQ(capture.text(), "");
}

// libjpeg also skips FF 00, a stuffed zero, where a marker would be: the frame behind it
// is the one it decodes.
TEST(Image, HugeJpegBehindStuffedZeroRejected) {
  TempDir dir;
  const auto file = dir / "stuffed.jpg";
  const std::vector<uint8_t> jpeg = {
      0xff, 0xd8, 0xff, 0x00, 0x00, 0x19,                    // SOI, then FF 00 and 2 bytes
      0xff, 0xc0, 0x00, 0x0b, 0x08, 0x7d, 0x00, 0x7d, 0x00,  // SOF0: 8-bit, 32000x32000
      0x01, 0x01, 0x11, 0x00,                                // one component
      0xff, 0xd9};                                           // EOI
  fixtures::write_bytes(file, jpeg);

  expect_rejected_as_huge(file);
}

// A PNG, JPEG or BMP whose header gives no size is not decoded at all.
TEST(Image, HeaderWithoutSizeRejected) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> cases = {
      {"cut.png", {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13}},
      {"no-frame.jpg", {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 'J', 'F', 0xff, 0xd9}},
      {"cut.bmp", {'B', 'M', 0, 0, 0, 0}},
  };
  for (const auto& [name, bytes] : cases) {
    const auto file = dir / name;
    fixtures::write_bytes(file, bytes);
    const std::string message = error_message([&] { load_image(file, kRgb2x2); });
    EXPECT_TRUE(contains(message, file.string() + ": cannot be decoded as a ")) << message;
    EXPECT_TRUE(contains(message, "its header gives no image size")) << message;
  }
}

// Formats other than PNG, JPEG and BMP never reach OpenCV: a PGM header promising 40000 x
// 40000 pixels, and the input on which fuzzing found Debian's DICOM decoder aborting.
TEST(Image, OtherFormatsRejectedBeforeDecoding) {
  TempDir dir;
  const auto pgm = dir / "huge.pgm";
  fixtures::write_text(pgm, "P5\n40000 40000\n255\n");
  const auto dicom = std::filesystem::path(FELIS_SOURCE_DIR) / "fuzz" / "regressions" / "image" /
                     "dicom-decoder-aborts.dcm";
  for (const auto& file : {pgm, dicom}) {
    StderrCapture capture;
    const std::string message = error_message([&] { load_image(file, kRgb2x2); });
    EXPECT_TRUE(contains(message, file.string() + ": cannot be decoded as an image; felis reads "
                                                  "PNG, JPEG and BMP, and it "))
        << message;
    EXPECT_TRUE(contains(message, "convert it to PNG first")) << message;
    EXPECT_EQ(capture.text(), "");
  }
  EXPECT_TRUE(contains(error_message([&] { load_image(pgm, kRgb2x2); }), "it starts with 'P5 40000"));
}

TEST(Image, FifoRejected) {
  TempDir dir;
  const auto file = dir / "pipe.png";
  ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);

  const std::string message = error_message([&] { load_image(file, kRgb2x2); });

  EXPECT_TRUE(contains(message, file.string() + ": is a named pipe (FIFO), not a regular file "
                                                "or directory"))
      << message;
}

}  // namespace
}  // namespace felis
