// Image sizes from the headers, as laid out in the PNG specification (IHDR), Microsoft's
// BITMAPCOREHEADER and BITMAPINFOHEADER, and ITU-T T.81 (JPEG markers).
#include "felis/data/image_header.h"

#include <array>
#include <fstream>
#include <string>
#include <vector>

namespace felis::detail {

namespace {

uint32_t big_endian_u16(const uint8_t* bytes) { return (uint32_t{bytes[0]} << 8) | bytes[1]; }

uint32_t big_endian_u32(const uint8_t* bytes) {
  return (big_endian_u16(bytes) << 16) | big_endian_u16(bytes + 2);
}

uint32_t little_endian_u16(const uint8_t* bytes) { return (uint32_t{bytes[1]} << 8) | bytes[0]; }

uint32_t little_endian_u32(const uint8_t* bytes) {
  return (little_endian_u16(bytes + 2) << 16) | little_endian_u16(bytes);
}

// The signature, then the IHDR chunk: length (4), "IHDR", width and height big-endian at
// bytes 16 and 20.
std::optional<DeclaredSize> read_png_size(const std::filesystem::path& file) {
  const std::vector<uint8_t> start = read_file_start(file, 24);
  if (start.size() < 24 || std::string(start.begin() + 12, start.begin() + 16) != "IHDR") {
    return std::nullopt;
  }
  return DeclaredSize{.width = big_endian_u32(&start[16]), .height = big_endian_u32(&start[20])};
}

// The 14-byte file header, then the info header whose size (bytes 14-17) identifies its version:
// 12 for BITMAPCOREHEADER with 16-bit sides at bytes 18 and 20, else 32-bit signed sides
// at bytes 18 and 22, where a negative height means rows stored top-down.
std::optional<DeclaredSize> read_bmp_size(const std::filesystem::path& file) {
  const std::vector<uint8_t> start = read_file_start(file, 26);
  if (start.size() < 22) return std::nullopt;
  if (little_endian_u32(&start[14]) == 12) {
    return DeclaredSize{.width = little_endian_u16(&start[18]),
                        .height = little_endian_u16(&start[20])};
  }
  if (start.size() < 26) return std::nullopt;
  const auto width = static_cast<int32_t>(little_endian_u32(&start[18]));
  const auto height = static_cast<int32_t>(little_endian_u32(&start[22]));
  auto magnitude = [](int32_t side) {
    return side < 0 ? uint64_t{0} - static_cast<uint64_t>(side) : static_cast<uint64_t>(side);
  };
  return DeclaredSize{.width = magnitude(width), .height = magnitude(height)};
}

// Start-of-frame markers SOF0 to SOF15 share the codes 0xc0-0xcf with DHT (0xc4), JPG
// (0xc8) and DAC (0xcc).
bool is_start_of_frame(int marker) {
  return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

// Walks the marker segments after SOI up to the first SOFn, whose payload is precision (1
// byte), height (2) and width (2), big-endian. Each segment after its marker starts with a
// 2-byte length that counts itself. The scan stops at SOS or EOI, after which no frame
// header can come.
std::optional<DeclaredSize> read_jpeg_size(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(2);
  while (in) {
    // libjpeg skips bytes that are not a marker (it warns of "extraneous bytes"), so this
    // scan does too: stopping there let a frame header behind them go unchecked.
    int byte = in.get();
    while (in && byte != 0xff) byte = in.get();
    if (!in) return std::nullopt;
    int marker = in.get();
    while (marker == 0xff) marker = in.get();  // fill bytes before a marker
    if (marker == std::char_traits<char>::eof()) return std::nullopt;
    if (marker == 0x00) continue;  // a stuffed zero, which libjpeg skips as no marker
    const bool has_no_length =  // SOI, TEM, RST0-RST7
        marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7);
    if (has_no_length) continue;
    if (marker == 0xd9 || marker == 0xda) return std::nullopt;

    std::array<uint8_t, 7> segment{};  // length (2), then an SOFn's precision, height, width
    const size_t read_size = is_start_of_frame(marker) ? 7 : 2;
    in.read(reinterpret_cast<char*>(segment.data()), static_cast<std::streamsize>(read_size));
    if (!in) return std::nullopt;
    const uint32_t length = big_endian_u16(&segment[0]);
    if (length < read_size) return std::nullopt;
    if (is_start_of_frame(marker)) {
      return DeclaredSize{.width = big_endian_u16(&segment[5]),
                          .height = big_endian_u16(&segment[3])};
    }
    in.seekg(length - 2, std::ios::cur);
  }
  return std::nullopt;
}

}  // namespace

std::optional<DeclaredSize> read_declared_size(const std::filesystem::path& file, FileKind kind) {
  switch (kind) {
    case FileKind::png:
      return read_png_size(file);
    case FileKind::bmp:
      return read_bmp_size(file);
    case FileKind::jpeg:
      return read_jpeg_size(file);
    default:
      return std::nullopt;
  }
}

}  // namespace felis::detail
