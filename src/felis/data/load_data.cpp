// load_data: finds the splits at a path, recognising files by their bytes.
#include "felis/data/file_kind.h"
#include "felis/data/hdf5_splits.h"
#include "felis/data/idx_file.h"
#include "felis/data/loaders.h"
#include "felis/data/split_agreement.h"
#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace felis {

namespace {

namespace fs = std::filesystem;

// Number of directory entries that an error message lists.
constexpr size_t kMaxListedEntries = 12;

std::vector<std::string> sorted_file_names(const fs::path& directory) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Returns the names (in sorted order) that start with `prefix` and end with `suffix`.
std::vector<std::string> find_names(const std::vector<std::string>& names,
                                    std::string_view prefix, std::string_view suffix = "") {
  std::vector<std::string> found;
  for (const std::string& name : names) {
    if (name.starts_with(prefix) && name.ends_with(suffix) &&
        name.size() >= prefix.size() + suffix.size()) {
      found.push_back(name);
    }
  }
  return found;
}

std::string list_entries(const std::vector<std::string>& names) {
  if (names.empty()) return "no files";
  const size_t listed_count = std::min(names.size(), kMaxListedEntries);
  std::string listed =
      fmt::format("{}", fmt::join(names.begin(), names.begin() + listed_count, ", "));
  if (listed_count < names.size()) {
    listed += fmt::format(" and {} more", names.size() - listed_count);
  }
  return listed;
}

bool all_labels_zero(const Dataset& data) {
  return std::all_of(data.labels.begin(), data.labels.end(),
                     [](int32_t label) { return label == 0; });
}

// Validates each split, then makes them agree (see reconcile_splits).
void validate_splits(const fs::path& path, DataSplits& splits) {
  splits.train.validate();
  if (splits.test) splits.test->validate();
  // An HDF5 split without list_classes gets the made-up names "0" and "1" even when every
  // label is 0, so that a test split may hold one class, but the data set needs two.
  auto only_label_zero = [](const Dataset& data) {
    return data.generated_class_names && data.class_count() == 2 && all_labels_zero(data);
  };
  const bool one_class = only_label_zero(splits.train) &&
                         (!splits.test || only_label_zero(*splits.test));
  if (one_class) {
    throw Error(fmt::format("{}: every label is 0 and no class list names more classes; a "
                            "classifier needs at least 2, so fix the labels",
                            path.string()));
  }
  detail::reconcile_splits(path, splits);
}

// Returns the one name in `candidates`, nullopt when there is none, and throws when there
// are several, because picking one by its name could load the wrong data set.
std::optional<std::string> single_candidate(const fs::path& directory,
                                            const std::vector<std::string>& candidates,
                                            std::string_view pattern) {
  if (candidates.empty()) return std::nullopt;
  if (candidates.size() > 1) {
    throw Error(fmt::format("{}: contains several {} files ({}); give one file as the path, or "
                            "keep only one of them in the directory",
                            directory.string(), pattern, list_entries(candidates)));
  }
  return candidates.front();
}

// A directory in the course's layout: train_*.h5, with test_*.h5 when there is one.
std::optional<DataSplits> load_hdf5_directory(const fs::path& directory,
                                              const std::vector<std::string>& names) {
  const std::optional<std::string> train =
      single_candidate(directory, find_names(names, "train_", ".h5"), "train_*.h5");
  if (!train) return std::nullopt;
  const std::optional<std::string> test =
      single_candidate(directory, find_names(names, "test_", ".h5"), "test_*.h5");
  DataSplits splits{.train = load_hdf5_split(directory / *train, "train"), .test = {}};
  if (test) splits.test = load_hdf5_split(directory / *test, "test");
  return splits;
}

constexpr std::array<std::string_view, 4> kIdxPrefixes = {"train-images", "train-labels",
                                                          "t10k-images", "t10k-labels"};

// Returns the one IDX file starting with `prefix`, or nullopt. A raw file and its .gz twin,
// as `gunzip -k` leaves them, count as one and the raw file is read.
std::optional<std::string> find_idx_file(const fs::path& directory,
                                         const std::vector<std::string>& names,
                                         std::string_view prefix) {
  const std::vector<std::string> candidates = find_names(names, prefix);
  if (candidates.size() == 2 && candidates[1] == candidates[0] + ".gz") return candidates[0];
  if (candidates.size() > 1) {
    throw Error(fmt::format("{}: contains several files starting with {} ({}); keep only one, "
                            "or one raw file and its .gz twin",
                            directory.string(), prefix, list_entries(candidates)));
  }
  if (candidates.empty()) return std::nullopt;
  return candidates.front();
}

// A directory with the four IDX files of MNIST or Fashion-MNIST, gzipped or raw.
std::optional<DataSplits> load_idx_directory(const fs::path& directory,
                                             const std::vector<std::string>& names) {
  std::array<std::optional<std::string>, 4> found;
  std::vector<std::string_view> missing;
  for (size_t i = 0; i < kIdxPrefixes.size(); ++i) {
    found[i] = find_idx_file(directory, names, kIdxPrefixes[i]);
    if (!found[i]) missing.push_back(kIdxPrefixes[i]);
  }
  if (missing.size() == kIdxPrefixes.size()) return std::nullopt;
  if (!missing.empty()) {
    throw Error(fmt::format("{}: contains some IDX files but none starting with {}; put all four "
                            "(train-images, train-labels, t10k-images, t10k-labels) together",
                            directory.string(), fmt::join(missing, ", ")));
  }
  return DataSplits{.train = load_idx_pair(directory / *found[0], directory / *found[1]),
                    .test = load_idx_pair(directory / *found[2], directory / *found[3])};
}

// Throws when the directory contains both an HDF5 data set and IDX files, because either
// choice could be the wrong one.
void reject_mixed_formats(const fs::path& directory, const std::vector<std::string>& names) {
  const std::vector<std::string> hdf5_names = find_names(names, "train_", ".h5");
  std::vector<std::string> idx_names;
  for (std::string_view prefix : kIdxPrefixes) {
    const std::vector<std::string> found = find_names(names, prefix);
    idx_names.insert(idx_names.end(), found.begin(), found.end());
  }
  if (hdf5_names.empty() || idx_names.empty()) return;
  throw Error(fmt::format("{}: contains both HDF5 files ({}) and IDX files ({}); give one file "
                          "as the path, or keep one data set per directory",
                          directory.string(), list_entries(hdf5_names), list_entries(idx_names)));
}

DataSplits load_directory(const fs::path& directory) {
  const std::vector<std::string> names = sorted_file_names(directory);
  reject_mixed_formats(directory, names);
  if (std::optional<DataSplits> splits = load_hdf5_directory(directory, names)) return *splits;
  if (std::optional<DataSplits> splits = load_idx_directory(directory, names)) return *splits;
  throw Error(fmt::format("{}: no data set found; expected train_*.h5 and test_*.h5 (HDF5) or "
                          "the IDX files train-images, train-labels, t10k-images and "
                          "t10k-labels (optionally .gz), but the directory contains {}",
                          directory.string(), list_entries(names)));
}

DataSplits load_hdf5_file(const fs::path& file) {
  const std::vector<std::string> prefixes = detail::hdf5_split_prefixes(file);
  const bool has_train = std::find(prefixes.begin(), prefixes.end(), "train") != prefixes.end();
  const bool has_test = std::find(prefixes.begin(), prefixes.end(), "test") != prefixes.end();
  // A file without a train_ split gives its test_ split, or else its only split, as
  // train. A test-only file gives the same split as train and test, so that it can be
  // evaluated. load_hdf5_split explains when there is no split or several.
  std::string train_prefix;  // empty: the only split
  if (has_train) {
    train_prefix = "train";
  } else if (has_test) {
    train_prefix = "test";
  }
  DataSplits splits{.train = load_hdf5_split(file, train_prefix), .test = {}};
  if (has_test) splits.test = has_train ? load_hdf5_split(file, "test") : splits.train;
  return splits;
}

// One IDX file: the images of a pair whose label file sits beside it under the usual
// name, e.g. train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz.
DataSplits load_idx_file(const fs::path& file, uint32_t magic) {
  std::string labels_name = file.filename().string();
  const size_t images_at = labels_name.find("images");
  if (magic == detail::kIdxImagesMagic && images_at != std::string::npos) {
    labels_name.replace(images_at, 6, "labels");
    if (const size_t idx3_at = labels_name.find("idx3"); idx3_at != std::string::npos) {
      labels_name.replace(idx3_at, 4, "idx1");
    }
    const fs::path labels = file.parent_path() / labels_name;
    if (fs::exists(labels)) return DataSplits{.train = load_idx_pair(file, labels), .test = {}};
  }
  throw Error(fmt::format("{}: is a single IDX file; felis needs the image and label files "
                          "together, so give the directory that contains train-images, "
                          "train-labels, t10k-images and t10k-labels",
                          file.string()));
}

}  // namespace

DataSplits load_data(const fs::path& path) {
  detail::require_file_or_directory(path);

  DataSplits splits;
  if (fs::is_directory(path)) {
    splits = load_directory(path);
    validate_splits(path, splits);
    return splits;
  }

  const detail::FileKind kind = detail::detect_file_kind(path);
  std::optional<uint32_t> idx_magic;
  if (kind == detail::FileKind::gzip || kind == detail::FileKind::idx_images ||
      kind == detail::FileKind::idx_labels) {
    idx_magic = detail::read_idx_magic(path);
  }
  const bool is_idx = idx_magic && (*idx_magic == detail::kIdxImagesMagic ||
                                    *idx_magic == detail::kIdxLabelsMagic);

  // A file named .h5 that is not HDF5 is often a login or error page that a browser saved
  // in place of the data set, so the message advises downloading it again.
  const std::string extension = path.extension().string();
  const bool named_hdf5 = extension == ".h5" || extension == ".hdf5";
  if (kind == detail::FileKind::hdf5) {
    splits = load_hdf5_file(path);
  } else if (named_hdf5 && !is_idx) {
    throw Error(fmt::format("{}: is not an HDF5 file ({}); re-download it or check the path",
                            path.string(),
                            detail::describe_file_start(detail::read_file_start(path, 16))));
  } else if (is_idx) {
    splits = load_idx_file(path, *idx_magic);
  } else if (kind == detail::FileKind::png || kind == detail::FileKind::jpeg ||
             kind == detail::FileKind::bmp) {
    throw Error(fmt::format("{}: is an image, not a data set; to classify an image, use "
                            "`felis predict`",
                            path.string()));
  } else {
    throw Error(fmt::format("{}: is neither an HDF5 data set nor an IDX file ({}); felis reads "
                            "the course's HDF5 files and IDX files such as MNIST's, gzipped or "
                            "raw",
                            path.string(),
                            detail::describe_file_start(detail::read_file_start(path, 16))));
  }
  validate_splits(path, splits);
  return splits;
}

}  // namespace felis
