// Loader for IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic number
// 0x0000TTDD (TT the element type, 0x08 for unsigned byte; DD the number of dimensions),
// DD big-endian uint32 sizes, then the elements in row-major order. Files may be gzipped;
// zlib's gzread reads gzipped and raw files alike.
#include "felis/data/file_kind.h"
#include "felis/data/idx_file.h"
#include "felis/data/loaders.h"
#include "felis/error.h"

#include <spdlog/fmt/fmt.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <vector>

namespace felis {

namespace {

// Maximum bytes of elements that one IDX file may promise. Fashion-MNIST's training
// images take 47 MB; the limit stops a crafted header from requesting far more.
constexpr uint64_t kMaxIdxBytes = uint64_t{4} << 30;  // 4 GiB
// Bytes read per gzread call while filling the element buffer.
constexpr uint64_t kReadChunkBytes = uint64_t{64} << 20;

// The first ten labels of Fashion-MNIST's training and test files, as published by
// Zalando Research; MNIST's start 5, 0, 4, 1, 9, ... and 7, 2, 1, 0, 4, ...
constexpr std::array<uint8_t, 10> kFashionTrainLabelsStart = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
constexpr std::array<uint8_t, 10> kFashionTestLabelsStart = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
const std::vector<std::string> kFashionClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// A gzip or raw file opened with zlib's gz* functions.
class GzipReader {
public:
  explicit GzipReader(const std::filesystem::path& path) : path_(path.string()) {
    file_ = gzopen(path_.c_str(), "rb");
    if (file_ == nullptr) {
      throw Error(fmt::format("{}: cannot be opened for reading; check its permissions", path_));
    }
    gzbuffer(file_, 1 << 17);
  }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  ~GzipReader() { gzclose(file_); }

  // Reads up to `count` bytes into `out` and returns how many it read, fewer only at the
  // end of the data. Throws felis::Error when the gzip stream is truncated or corrupt.
  uint64_t read(uint8_t* out, uint64_t count) {
    uint64_t done = 0;
    while (done < count) {
      const auto request = static_cast<unsigned>(std::min<uint64_t>(count - done, 1u << 30));
      const int got = gzread(file_, out + done, request);
      if (got > 0) done += static_cast<uint64_t>(got);
      if (got < static_cast<int>(request)) break;
    }
    // zlib reports a stream cut short as Z_BUF_ERROR after a short read, not as -1.
    int error_number = Z_OK;
    const char* message = gzerror(file_, &error_number);
    if (error_number != Z_OK) {
      throw Error(fmt::format("{}: truncated or corrupt gzip stream (zlib: {}); re-download it",
                              path_, message));
    }
    return done;
  }

  // Reads four bytes as a big-endian number; nullopt when the data ends before them.
  std::optional<uint32_t> read_big_endian_u32() {
    std::array<uint8_t, 4> bytes{};
    if (read(bytes.data(), bytes.size()) < bytes.size()) return std::nullopt;
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
           uint32_t{bytes[3]};
  }

private:
  std::string path_;
  gzFile file_ = nullptr;
};

// An IDX file's sizes and elements.
struct IdxArray {
  std::vector<uint32_t> dims;  // (N, H, W) for images, (N) for labels
  std::vector<uint8_t> elements;
};

std::string describe_magic(uint32_t magic) {
  if (magic == detail::kIdxImagesMagic) return "an IDX image file (magic 0x00000803)";
  if (magic == detail::kIdxLabelsMagic) return "an IDX label file (magic 0x00000801)";
  if ((magic >> 16) == 0) {
    return fmt::format("an IDX file of element type 0x{:02x} with {} dimensions (magic "
                       "0x{:08x})",
                       (magic >> 8) & 0xff, magic & 0xff, magic);
  }
  return fmt::format("not an IDX file (magic 0x{:08x})", magic);
}

// Reads an IDX file whose magic must be `expected_magic`: the header first, then exactly
// the elements that the header promises, after bounding their size by kMaxIdxBytes.
IdxArray read_idx(const std::filesystem::path& path, uint32_t expected_magic) {
  detail::require_file_or_directory(path);
  if (std::filesystem::is_directory(path)) {
    throw Error(fmt::format("{}: is a directory; expected an IDX file", path.string()));
  }
  const std::string item_name = expected_magic == detail::kIdxImagesMagic ? "images" : "labels";
  GzipReader reader(path);

  const std::optional<uint32_t> magic = reader.read_big_endian_u32();
  if (!magic) {
    throw Error(fmt::format("{}: ends before the 4-byte IDX magic number; re-download it",
                            path.string()));
  }
  if (*magic != expected_magic) {
    throw Error(fmt::format("{}: is {}, but IDX {} (magic 0x{:08x}) were expected; check that "
                            "the path names the {} file",
                            path.string(), describe_magic(*magic), item_name, expected_magic,
                            item_name));
  }

  IdxArray array;
  const uint32_t rank = expected_magic & 0xff;
  uint64_t element_count = 1;
  for (uint32_t d = 0; d < rank; ++d) {
    const std::optional<uint32_t> dim = reader.read_big_endian_u32();
    if (!dim) {
      throw Error(fmt::format("{}: ends inside the IDX header of {} bytes; re-download it",
                              path.string(), 4 + 4 * rank));
    }
    array.dims.push_back(*dim);
    element_count *= *dim;  // at most 3 factors below 2^32 each, checked one by one below
    if (element_count > kMaxIdxBytes) {
      throw Error(fmt::format("{}: IDX header promises more than the limit of {} bytes of {}; "
                              "the file is corrupt",
                              path.string(), kMaxIdxBytes, item_name));
    }
  }

  // Grow the buffer as the data arrives, so that a header promising far more than the
  // file contains costs no more memory than the file's content.
  uint64_t done = 0;
  while (done < element_count) {
    const uint64_t chunk = std::min(element_count - done, kReadChunkBytes);
    array.elements.resize(done + chunk);
    const uint64_t got = reader.read(array.elements.data() + done, chunk);
    done += got;
    if (got < chunk) break;
  }
  if (done < element_count) {
    const uint64_t item_bytes = element_count / std::max<uint64_t>(array.dims[0], 1);
    throw Error(fmt::format("{}: IDX header promises {} {} but the file contains {}; the file is "
                            "truncated, re-download it",
                            path.string(), array.dims[0], item_name, done / item_bytes));
  }
  return array;
}

bool labels_start_with(const std::vector<int32_t>& labels, const std::array<uint8_t, 10>& start) {
  return labels.size() >= start.size() && std::equal(start.begin(), start.end(), labels.begin());
}

}  // namespace

namespace detail {

std::optional<uint32_t> read_idx_magic(const std::filesystem::path& file) {
  try {
    return GzipReader(file).read_big_endian_u32();
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace detail

Dataset load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels) {
  IdxArray image_array = read_idx(images, detail::kIdxImagesMagic);
  const IdxArray label_array = read_idx(labels, detail::kIdxLabelsMagic);
  if (image_array.dims[0] != label_array.dims[0]) {
    throw Error(fmt::format("{}: contains {} images but {} contains {} labels; give the image and "
                            "label files of the same split",
                            images.string(), image_array.dims[0], labels.string(),
                            label_array.dims[0]));
  }

  Dataset data;
  data.source = images.string();
  data.count = image_array.dims[0];
  data.height = image_array.dims[1];
  data.width = image_array.dims[2];
  data.channels = 1;
  data.pixels = std::move(image_array.elements);
  data.labels.assign(label_array.elements.begin(), label_array.elements.end());

  // Fashion-MNIST and MNIST share the format, so the first labels decide the class names.
  if (labels_start_with(data.labels, kFashionTrainLabelsStart) ||
      labels_start_with(data.labels, kFashionTestLabelsStart)) {
    data.class_names = kFashionClassNames;
  } else {
    for (int digit = 0; digit < 10; ++digit) data.class_names.push_back(std::to_string(digit));
    data.generated_class_names = true;
  }
  // Checked here rather than by validate(), whose message names the image file.
  for (size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] >= data.class_count()) {
      throw Error(fmt::format("{}: label {} of image {} is outside the {} classes [0, {}); check "
                              "that this is the label file of {}",
                              labels.string(), data.labels[i], i, data.class_count(),
                              data.class_count(), images.string()));
    }
  }
  data.validate();
  return data;
}

}  // namespace felis
