#include "felis/data/file_kind.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <system_error>

namespace felis::detail {

namespace {

constexpr std::array<uint8_t, 8> kHdf5Signature = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

bool starts_with(const std::vector<uint8_t>& bytes, std::initializer_list<uint8_t> prefix) {
  return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

// HDF5 looks for its superblock at 0 and then at every power of two from 512 on, which is
// where a file with a user block puts it.
bool has_hdf5_signature(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<uint8_t, kHdf5Signature.size()> buffer{};
  for (uint64_t offset = 0; in; offset = offset == 0 ? 512 : offset * 2) {
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(buffer.data()), buffer.size())) return false;
    if (buffer == kHdf5Signature) return true;
  }
  return false;
}

std::string describe_file_type(std::filesystem::file_type type) {
  switch (type) {
    case std::filesystem::file_type::fifo:
      return "a named pipe (FIFO)";
    case std::filesystem::file_type::socket:
      return "a socket";
    case std::filesystem::file_type::block:
      return "a block device";
    case std::filesystem::file_type::character:
      return "a character device";
    default:
      return "a special file";
  }
}

}  // namespace

std::vector<uint8_t> read_file_start(const std::filesystem::path& file, size_t count) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw Error(fmt::format("{}: cannot be opened for reading; check its permissions",
                            file.string()));
  }
  std::vector<uint8_t> bytes(count);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

FileKind detect_file_kind(const std::filesystem::path& file) {
  const std::vector<uint8_t> start = read_file_start(file, 8);
  if (starts_with(start, {0x1f, 0x8b})) return FileKind::gzip;
  if (starts_with(start, {0x00, 0x00, 0x08, 0x03})) return FileKind::idx_images;
  if (starts_with(start, {0x00, 0x00, 0x08, 0x01})) return FileKind::idx_labels;
  if (starts_with(start, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})) return FileKind::png;
  if (starts_with(start, {0xff, 0xd8, 0xff})) return FileKind::jpeg;
  if (starts_with(start, {'B', 'M'})) return FileKind::bmp;
  if (has_hdf5_signature(file)) return FileKind::hdf5;
  return FileKind::unknown;
}

std::string describe_file_start(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return "it is empty";
  const bool printable = std::all_of(bytes.begin(), bytes.end(), [](uint8_t byte) {
    return (byte >= 0x20 && byte < 0x7f) || byte == '\n' || byte == '\r' || byte == '\t';
  });
  if (printable) {
    std::string text(bytes.begin(), bytes.end());
    std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
    return fmt::format("it starts with '{}'", text);
  }
  std::string hex;
  for (uint8_t byte : bytes) hex += fmt::format("{}{:02x}", hex.empty() ? "" : " ", byte);
  return fmt::format("it starts with bytes {}", hex);
}

void require_file_or_directory(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_type type = fs::status(path, error).type();
  if (type == fs::file_type::regular || type == fs::file_type::directory) return;
  if (type == fs::file_type::not_found) {
    throw Error(fmt::format("{}: no such file or directory", path.string()));
  }
  // file_type::none means that stat failed for another reason than a missing file.
  if (type == fs::file_type::none) {
    throw Error(fmt::format("{}: cannot be examined ({}); check its permissions", path.string(),
                            error.message()));
  }
  throw Error(fmt::format("{}: is {}, not a regular file or directory; give the path of a file "
                          "or directory",
                          path.string(), describe_file_type(type)));
}

}  // namespace felis::detail
