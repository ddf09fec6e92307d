// Loader for HDF5 files in the course's layout, through the HDF5 C API:
//   <prefix>_set_x  (N, H, W, C) or (N, H, W) uint8, RGB when C = 3
//   <prefix>_set_y  (N), (1, N) or (N, 1), any integer type
//   list_classes    (K) strings, fixed or variable length, optional
// Every size a header declares is bounded before anything is allocated for it.
#include "felis/data/hdf5_splits.h"
#include "felis/data/file_kind.h"
#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/hdf5_handle.h"
#include "felis/io/read_in_child.h"

#include <hdf5.h>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

namespace felis {

namespace {

// Maximum bytes that one dataset may take in memory. The largest course-style files hold
// a few GiB, and the limit stops a crafted header from requesting terabytes.
constexpr uint64_t kMaxDatasetBytes = uint64_t{16} << 30;  // 16 GiB
// Maximum class count, for list_classes and for class names made from the largest label.
constexpr uint64_t kMaxClasses = 65536;
// Maximum length in bytes of one fixed-length class name.
constexpr uint64_t kMaxClassNameBytes = 4096;
// Deflate cannot compress better than about 1032:1, so a filtered dataset larger than
// this multiple of the file size cannot be real.
constexpr uint64_t kMaxCompressionRatio = 1100;
// Number of root-group names that an error message lists.
constexpr size_t kMaxListedNames = 20;

// An HDF5 identifier closed by its own close function on destruction.
class Hdf5Handle {
public:
  using Closer = herr_t (*)(hid_t);

  Hdf5Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;
  Hdf5Handle(Hdf5Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  ~Hdf5Handle() {
    if (id_ >= 0) close_(id_);
  }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

private:
  hid_t id_;
  Closer close_;
};

// The open file with what messages and size checks need.
struct Hdf5File {
  Hdf5Handle handle;
  std::string path;
  uint64_t size_bytes = 0;
  std::vector<std::string> root_names;  // links in the root group, sorted
};

// A dataset opened for reading, with its file type and shape.
struct Hdf5Dataset {
  Hdf5Handle dataset;
  Hdf5Handle type;
  std::vector<hsize_t> dims;
  std::string name;
};

uint64_t saturating_multiply(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<uint64_t>::max();
  return product;
}

std::string format_dims(const std::vector<hsize_t>& dims) {
  return fmt::format("({})", fmt::join(dims, ", "));
}

std::string describe_type(hid_t type) {
  const size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    case H5T_FLOAT:
      return fmt::format("float{}", bits);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    default:
      return "a non-numeric type";
  }
}

std::string list_root_names(const Hdf5File& file) {
  if (file.root_names.empty()) return "nothing";
  const size_t listed_count = std::min(file.root_names.size(), kMaxListedNames);
  std::string listed = fmt::format(
      "{}", fmt::join(file.root_names.begin(), file.root_names.begin() + listed_count, ", "));
  if (listed_count < file.root_names.size()) {
    listed += fmt::format(" and {} more", file.root_names.size() - listed_count);
  }
  return listed;
}

std::vector<std::string> read_root_names(hid_t file, const std::string& path) {
  H5G_info_t info{};
  if (H5Gget_info(file, &info) < 0) {
    throw Error(fmt::format("{}: cannot list the root group; the file is truncated or "
                            "corrupt, re-download it",
                            path));
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length =
        H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) continue;
    std::string name(static_cast<size_t>(length) + 1, '\0');
    H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<size_t>(length));
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Opens `path` read-only after checking that it exists and carries the HDF5 signature, so
// that an HTML page saved as .h5 gets a message instead of an HDF5 error.
Hdf5File open_hdf5_file(const std::filesystem::path& path) {
  detail::require_file_or_directory(path);
  if (std::filesystem::is_directory(path)) {
    throw Error(fmt::format("{}: is a directory; expected an HDF5 file", path.string()));
  }
  if (!is_hdf5_file(path)) {
    throw Error(fmt::format("{}: is not an HDF5 file ({}); re-download it or check the path",
                            path.string(),
                            detail::describe_file_start(detail::read_file_start(path, 16))));
  }
  Hdf5Handle handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!handle.valid()) {
    throw Error(fmt::format("{}: cannot be opened as HDF5; the file is truncated or corrupt, "
                            "re-download it",
                            path.string()));
  }
  Hdf5File file{.handle = std::move(handle),
                .path = path.string(),
                .size_bytes = std::filesystem::file_size(path),
                .root_names = {}};
  file.root_names = read_root_names(file.handle.get(), file.path);
  return file;
}

bool has_name(const Hdf5File& file, const std::string& name) {
  return std::binary_search(file.root_names.begin(), file.root_names.end(), name);
}

Hdf5Dataset open_dataset(const Hdf5File& file, const std::string& name) {
  Hdf5Handle dataset(H5Dopen2(file.handle.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  try {
    hdf5::require_internal_storage(dataset.get(), name);
  } catch (const Error& error) {
    throw Error(fmt::format("{}: {}", file.path, error.what()));
  }
  if (!dataset.valid()) {
    throw Error(fmt::format("{}: '{}' cannot be opened as a dataset; the file is truncated or "
                            "corrupt, re-download it",
                            file.path, name));
  }
  Hdf5Handle type(H5Dget_type(dataset.get()), H5Tclose);
  Hdf5Handle space(H5Dget_space(dataset.get()), H5Sclose);
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (!type.valid() || rank < 0) {
    throw Error(fmt::format("{}: cannot read the type or shape of '{}'; the file is truncated "
                            "or corrupt, re-download it",
                            file.path, name));
  }
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return Hdf5Dataset{.dataset = std::move(dataset),
                     .type = std::move(type),
                     .dims = std::move(dims),
                     .name = name};
}

// Throws unless reading `bytes` of `data` into memory is plausible: within
// kMaxDatasetBytes, and within the file's size (times kMaxCompressionRatio when the
// dataset is compressed), so a crafted header cannot make the loader allocate terabytes.
void check_read_size(const Hdf5File& file, const Hdf5Dataset& data, uint64_t bytes) {
  if (bytes > kMaxDatasetBytes) {
    throw Error(fmt::format("{}: '{}' with shape {} would take {} bytes in memory, more than "
                            "the limit of {} bytes; the file is corrupt or not a course data set",
                            file.path, data.name, format_dims(data.dims), bytes,
                            kMaxDatasetBytes));
  }
  Hdf5Handle properties(H5Dget_create_plist(data.dataset.get()), H5Pclose);
  const int filters = properties.valid() ? H5Pget_nfilters(properties.get()) : 0;
  const uint64_t max_bytes = filters > 0
                                 ? saturating_multiply(file.size_bytes, kMaxCompressionRatio)
                                 : file.size_bytes;
  if (bytes > max_bytes) {
    throw Error(fmt::format("{}: '{}' with shape {} declares {} bytes but the file has only {}; "
                            "the file is truncated or corrupt, re-download it",
                            file.path, data.name, format_dims(data.dims), bytes,
                            file.size_bytes));
  }
}

void read_dataset(const Hdf5File& file, const Hdf5Dataset& data, hid_t memory_type,
                  void* buffer) {
  if (H5Dread(data.dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer) < 0) {
    throw Error(fmt::format("{}: reading '{}' failed; the file is truncated or corrupt, "
                            "re-download it",
                            file.path, data.name));
  }
}

// Fills count, height, width, channels and pixels of `out` from `<prefix>_set_x`.
void read_images(const Hdf5File& file, const std::string& name, Dataset& out) {
  const Hdf5Dataset images = open_dataset(file, name);
  const std::vector<hsize_t>& dims = images.dims;

  const hid_t type = images.type.get();
  if (H5Tget_class(type) != H5T_INTEGER || H5Tget_size(type) != 1 ||
      H5Tget_sign(type) != H5T_SGN_NONE) {
    throw Error(fmt::format("{}: '{}' has pixel type {}; expected uint8", file.path, name,
                            describe_type(type)));
  }
  const bool rank_ok = dims.size() == 3 || (dims.size() == 4 && (dims[3] == 1 || dims[3] == 3));
  if (!rank_ok) {
    throw Error(fmt::format("{}: '{}' has shape {}; expected (N, H, W, C) with C = 1 or 3, or "
                            "(N, H, W) for gray images",
                            file.path, name, format_dims(dims)));
  }
  if (std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end()) {
    throw Error(fmt::format("{}: '{}' has shape {}, which contains no pixels; expected at least "
                            "one image",
                            file.path, name, format_dims(dims)));
  }

  uint64_t bytes = 1;
  for (hsize_t dim : dims) bytes = saturating_multiply(bytes, dim);
  check_read_size(file, images, bytes);

  out.count = static_cast<int64_t>(dims[0]);
  out.height = static_cast<int64_t>(dims[1]);
  out.width = static_cast<int64_t>(dims[2]);
  out.channels = dims.size() == 4 ? static_cast<int64_t>(dims[3]) : 1;
  out.pixels.resize(bytes);
  read_dataset(file, images, H5T_NATIVE_UINT8, out.pixels.data());
}

// Converts stored labels to int32 class indices. A value outside int32 is rejected with the
// value as stored, so `Stored` must be wide enough for the file's type.
template <typename Stored>
std::vector<int32_t> to_class_indices(const Hdf5File& file, const std::string& name,
                                      const std::vector<Stored>& values) {
  std::vector<int32_t> labels;
  labels.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::in_range<int32_t>(values[i])) {
      throw Error(fmt::format("{}: label {} of image {} in '{}' is not a class index; fix the "
                              "labels",
                              file.path, values[i], i, name));
    }
    labels.push_back(static_cast<int32_t>(values[i]));
  }
  return labels;
}

// Reads `<prefix>_set_y`, which must hold one integer label per image.
std::vector<int32_t> read_labels(const Hdf5File& file, const std::string& name,
                                 const std::string& images_name, int64_t image_count) {
  const Hdf5Dataset labels = open_dataset(file, name);
  const std::vector<hsize_t>& dims = labels.dims;

  if (H5Tget_class(labels.type.get()) != H5T_INTEGER) {
    throw Error(fmt::format("{}: '{}' has type {}; expected integer class indices", file.path,
                            name, describe_type(labels.type.get())));
  }
  const bool shape_ok =
      dims.size() == 1 || (dims.size() == 2 && (dims[0] == 1 || dims[1] == 1));
  if (!shape_ok) {
    throw Error(fmt::format("{}: '{}' has shape {}; expected (N), (1, N) or (N, 1) labels",
                            file.path, name, format_dims(dims)));
  }
  uint64_t count = 1;
  for (hsize_t dim : dims) count = saturating_multiply(count, dim);
  if (count != static_cast<uint64_t>(image_count)) {
    throw Error(fmt::format("{}: '{}' contains {} labels for the {} images in '{}'; every image "
                            "needs exactly one label",
                            file.path, name, count, image_count, images_name));
  }
  check_read_size(file, labels, saturating_multiply(count, H5Tget_size(labels.type.get())));

  // HDF5 converts any stored integer type to the memory type while reading, but clips
  // values that do not fit, so unsigned labels are read as uint64 and signed ones as int64.
  if (H5Tget_sign(labels.type.get()) == H5T_SGN_NONE) {
    std::vector<uint64_t> values(count);
    read_dataset(file, labels, H5T_NATIVE_UINT64, values.data());
    return to_class_indices(file, name, values);
  }
  std::vector<int64_t> values(count);
  read_dataset(file, labels, H5T_NATIVE_INT64, values.data());
  return to_class_indices(file, name, values);
}

std::vector<std::string> read_variable_length_strings(const Hdf5File& file,
                                                      const Hdf5Dataset& data, size_t count) {
  Hdf5Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory_type.get(), H5T_VARIABLE);
  // HDF5 converts between ASCII and UTF-8 strings only when both sides agree.
  H5Tset_cset(memory_type.get(), H5Tget_cset(data.type.get()));

  std::vector<char*> pointers(count, nullptr);
  // A read that fails part way has allocated some of the strings already, so they are
  // freed before its error is thrown.
  std::optional<Error> failure;
  try {
    read_dataset(file, data, memory_type.get(), pointers.data());
  } catch (const Error& error) {
    failure = error;
  }
  std::vector<std::string> names;
  for (const char* pointer : pointers) names.emplace_back(pointer ? pointer : "");

  // One by one, since H5Dvlen_reclaim needs a dataspace that a corrupt file can break.
  for (char* pointer : pointers) H5free_memory(pointer);
  if (failure) throw *failure;
  return names;
}

std::vector<std::string> read_fixed_length_strings(const Hdf5File& file,
                                                   const Hdf5Dataset& data, size_t count) {
  const size_t length = H5Tget_size(data.type.get());
  if (length == 0 || length > kMaxClassNameBytes) {
    throw Error(fmt::format("{}: 'list_classes' has strings of {} bytes; expected 1 to {}",
                            file.path, length, kMaxClassNameBytes));
  }
  // The file's own string type as the memory type: the bytes come through unchanged.
  std::vector<char> buffer(count * length);
  read_dataset(file, data, data.type.get(), buffer.data());

  const bool space_padded = H5Tget_strpad(data.type.get()) == H5T_STR_SPACEPAD;
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) {
    std::string name(buffer.data() + i * length, length);
    name.resize(std::min(name.find('\0'), name.size()));
    if (space_padded) name.resize(name.find_last_not_of(' ') + 1);
    names.push_back(std::move(name));
  }
  return names;
}

std::vector<std::string> read_class_names(const Hdf5File& file) {
  const Hdf5Dataset classes = open_dataset(file, "list_classes");
  if (H5Tget_class(classes.type.get()) != H5T_STRING) {
    throw Error(fmt::format("{}: 'list_classes' has type {}; expected strings, one class name "
                            "per label",
                            file.path, describe_type(classes.type.get())));
  }
  uint64_t count = 1;
  for (hsize_t dim : classes.dims) count = saturating_multiply(count, dim);
  if (classes.dims.empty() || count > kMaxClasses) {
    throw Error(fmt::format("{}: 'list_classes' has shape {}; expected (K) with K at most {}",
                            file.path, format_dims(classes.dims), kMaxClasses));
  }
  if (H5Tis_variable_str(classes.type.get()) > 0) {
    return read_variable_length_strings(file, classes, count);
  }
  return read_fixed_length_strings(file, classes, count);
}

// Class names "0", "1", ... up to the largest label, for files without list_classes. The
// list has at least "0" and "1", because a split such as a small test set may hold only
// label 0 and a classifier has two classes or more; load_data rejects a data set whose
// splits hold only label 0.
std::vector<std::string> make_class_names(const Hdf5File& file,
                                          const std::vector<int32_t>& labels) {
  const int64_t max_label = std::max(*std::max_element(labels.begin(), labels.end()), 1);
  if (max_label >= static_cast<int64_t>(kMaxClasses)) {
    throw Error(fmt::format("{}: the largest label is {}, which would mean more than {} "
                            "classes; add a 'list_classes' dataset or fix the labels",
                            file.path, max_label, kMaxClasses));
  }
  std::vector<std::string> names;
  for (int64_t k = 0; k <= max_label; ++k) names.push_back(std::to_string(k));
  return names;
}

std::vector<std::string> split_prefixes(const Hdf5File& file) {
  constexpr std::string_view kSuffix = "_set_x";
  std::vector<std::string> prefixes;
  for (const std::string& name : file.root_names) {
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix)) {
      prefixes.push_back(name.substr(0, name.size() - kSuffix.size()));
    }
  }
  return prefixes;
}

std::string choose_prefix(const Hdf5File& file, const std::string& requested) {
  if (!requested.empty()) return requested;
  const std::vector<std::string> prefixes = split_prefixes(file);
  if (prefixes.empty()) {
    throw Error(fmt::format("{}: no '<split>_set_x' and '<split>_set_y' datasets (such as "
                            "train_set_x); the file contains: {}",
                            file.path, list_root_names(file)));
  }
  if (prefixes.size() > 1) {
    throw Error(fmt::format("{}: contains the splits {}; name the one to load", file.path,
                            fmt::join(prefixes, ", ")));
  }
  return prefixes.front();
}

}  // namespace

namespace detail {

std::vector<std::string> hdf5_split_prefixes(const std::filesystem::path& file) {
  auto read = [&] {
    const auto library = hdf5::use_library();
    return split_prefixes(open_hdf5_file(file));
  };
  read_in_child(file, read);
  return read();
}

}  // namespace detail

bool is_hdf5_file(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) return false;
  try {
    return detail::detect_file_kind(file) == detail::FileKind::hdf5;
  } catch (const Error&) {
    return false;  // unreadable
  }
}

namespace {

Dataset read_hdf5_split(const std::filesystem::path& path, const std::string& prefix) {
  const auto library = hdf5::use_library();
  const Hdf5File file = open_hdf5_file(path);
  const std::string split = choose_prefix(file, prefix);
  const std::string images_name = split + "_set_x";
  const std::string labels_name = split + "_set_y";
  for (const std::string& name : {images_name, labels_name}) {
    if (!has_name(file, name)) {
      throw Error(fmt::format("{}: no dataset '{}'; expected '{}' and '{}' in the course's "
                              "layout, and the file contains: {}",
                              file.path, name, images_name, labels_name,
                              list_root_names(file)));
    }
  }

  Dataset data;
  data.source = file.path;
  read_images(file, images_name, data);
  data.labels = read_labels(file, labels_name, images_name, data.count);
  if (has_name(file, "list_classes")) {
    data.class_names = read_class_names(file);
  } else {
    data.class_names = make_class_names(file, data.labels);
    data.generated_class_names = true;
  }
  data.validate();
  return data;
}

}  // namespace

Dataset load_hdf5_split(const std::filesystem::path& path, const std::string& prefix) {
  read_in_child(path, [&] { read_hdf5_split(path, prefix); });
  return read_hdf5_split(path, prefix);
}

}  // namespace felis
