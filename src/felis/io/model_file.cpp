#include "felis/io/model_file.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/bounded_json.h"
#include "felis/io/hdf5_handle.h"
#include "felis/io/read_in_child.h"

#include <spdlog/fmt/fmt.h>

#include <optional>

namespace felis {

namespace fs = std::filesystem;
using hdf5::Handle;

namespace {

constexpr size_t kMaxAttributeBytes = size_t{1} << 20;
constexpr size_t kMaxClasses = 100000;
constexpr const char* kPreprocessing =
    "RGB (or gray) pixels / 255 as float, in (C, H, W) order, pixel positions permuted by "
    "input_permutation when the file has one; images of another size or channel count are "
    "converted as felis predict documents";

template <typename T>
hid_t memory_type() {
  return std::is_same_v<T, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

template <typename T>
hid_t file_type() {
  return std::is_same_v<T, float> ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
}

Handle create_group(hid_t parent, const std::string& name) {
  const Handle properties = hdf5::untimed_creation(H5P_GROUP_CREATE);
  Handle group(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, properties.get(), H5P_DEFAULT),
               H5Gclose);
  if (!group.valid()) throw Error(fmt::format("HDF5 failed to create group '{}'", name));
  return group;
}

// A layer's parameters and buffers, each a named tensor saved as /layers/<i>/<name>.
template <typename T>
std::vector<Buffer<T>> saved_tensors(Layer<T>& layer) {
  std::vector<Buffer<T>> tensors;
  for (const auto& parameter : layer.parameters()) tensors.push_back({parameter.name, parameter.value});
  for (const auto& buffer : layer.buffers()) tensors.push_back(buffer);
  return tensors;
}

template <typename T>
void write_parameters(hid_t file, Network<T>& network) {
  Handle layers = create_group(file, "layers");
  for (size_t i = 0; i < network.layer_count(); ++i) {
    Handle group = create_group(layers.get(), std::to_string(i));
    for (const auto& parameter : saved_tensors(network.layer(i))) {
      const Shape& shape = parameter.value->shape();
      std::vector<hsize_t> dims(shape.begin(), shape.end());
      Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
      const Handle properties = hdf5::untimed_creation(H5P_DATASET_CREATE);
      Handle dataset(H5Dcreate2(group.get(), parameter.name.c_str(), file_type<T>(), space.get(),
                                H5P_DEFAULT, properties.get(), H5P_DEFAULT),
                     H5Dclose);
      if (!dataset.valid() || H5Dwrite(dataset.get(), memory_type<T>(), H5S_ALL, H5S_ALL,
                                       H5P_DEFAULT, parameter.value->data()) < 0) {
        throw Error(fmt::format("HDF5 failed to write layers/{}/{}", i, parameter.name));
      }
    }
  }
}

// Reads /layers/<i>/<name> into each parameter after checking its type and shape.
template <typename T>
void read_parameters(hid_t file, Network<T>& network) {
  for (size_t i = 0; i < network.layer_count(); ++i) {
    for (const auto& parameter : saved_tensors(network.layer(i))) {
      const std::string name = fmt::format("layers/{}/{}", i, parameter.name);
      if (H5Lexists(file, "layers", H5P_DEFAULT) <= 0 ||
          H5Lexists(file, fmt::format("layers/{}", i).c_str(), H5P_DEFAULT) <= 0 ||
          H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) {
        throw Error(fmt::format("dataset {} is missing", name));
      }
      Handle dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
      hdf5::require_internal_storage(dataset.get(), name);
      Handle type(H5Dget_type(dataset.get()), H5Tclose);
      if (!dataset.valid() || H5Tget_class(type.get()) != H5T_FLOAT) {
        throw Error(fmt::format("dataset {} is not floating point", name));
      }
      Handle space(H5Dget_space(dataset.get()), H5Sclose);
      const int rank = H5Sget_simple_extent_ndims(space.get());
      const Shape& expected = parameter.value->shape();
      std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
      if (rank >= 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      const Shape actual(dims.begin(), dims.end());
      if (actual != expected) {
        throw Error(fmt::format("dataset {} has shape ({}) but the architecture needs ({})", name,
                                fmt::join(actual, ", "), fmt::join(expected, ", ")));
      }
      if (H5Dread(dataset.get(), memory_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                  parameter.value->data()) < 0) {
        throw Error(fmt::format("dataset {} cannot be read; the file is truncated or corrupt",
                                name));
      }
      if (!parameter.value->matrix().allFinite()) {
        throw Error(fmt::format("dataset {} contains NaN or infinite values", name));
      }
    }
  }
}

// Writes /input_permutation (H W) as int32.
void write_permutation(hid_t file, const std::vector<int32_t>& permutation) {
  const hsize_t size = permutation.size();
  Handle space(H5Screate_simple(1, &size, nullptr), H5Sclose);
  const Handle properties = hdf5::untimed_creation(H5P_DATASET_CREATE);
  Handle dataset(H5Dcreate2(file, "input_permutation", H5T_STD_I32LE, space.get(), H5P_DEFAULT,
                            properties.get(), H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid() || H5Dwrite(dataset.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                   permutation.data()) < 0) {
    throw Error("HDF5 failed to write input_permutation");
  }
}

// Reads /input_permutation, which must hold each of the H W positions exactly once.
std::vector<int32_t> read_permutation(hid_t file, int64_t positions, uintmax_t file_bytes) {
  if (static_cast<uintmax_t>(positions) > file_bytes / sizeof(int32_t)) {
    throw Error(fmt::format("input_permutation needs {} entries, more than the file can hold",
                            positions));
  }

  Handle dataset(H5Dopen2(file, "input_permutation", H5P_DEFAULT), H5Dclose);
  hdf5::require_internal_storage(dataset.get(), "input_permutation");
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  if (!dataset.valid() || H5Tget_class(type.get()) != H5T_INTEGER) {
    throw Error("dataset input_permutation is not an integer dataset");
  }
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hsize_t size = 0;
  if (!dataset.valid() || H5Sget_simple_extent_ndims(space.get()) != 1 ||
      H5Sget_simple_extent_dims(space.get(), &size, nullptr) < 0 ||
      static_cast<int64_t>(size) != positions) {
    throw Error(fmt::format("dataset input_permutation must be 1-D with {} entries, one per pixel "
                            "position",
                            positions));
  }

  std::vector<int32_t> permutation(static_cast<size_t>(positions));
  if (H5Dread(dataset.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT,
              permutation.data()) < 0) {
    throw Error("dataset input_permutation cannot be read; the file is truncated or corrupt");
  }

  std::vector<bool> seen(static_cast<size_t>(positions), false);
  for (int32_t source : permutation) {
    if (source < 0 || source >= positions || seen[static_cast<size_t>(source)]) {
      throw Error(fmt::format("dataset input_permutation is not a permutation of 0 to {}: it "
                              "holds {}",
                              positions - 1, source));
    }
    seen[static_cast<size_t>(source)] = true;
  }
  return permutation;
}

nlohmann::json parse_json_attribute(hid_t file, const std::string& name) {
  const std::string text = hdf5::read_string_attribute(file, name, kMaxAttributeBytes);
  auto value = parse_bounded_json(text, fmt::format("attribute '{}'", name));
  if (value.is_discarded()) throw Error(fmt::format("attribute '{}' is not valid JSON", name));
  return value;
}

Model read_model_body(hid_t file, uintmax_t file_bytes);

Model read_model(hid_t file, uintmax_t file_bytes) {
  if (!hdf5::has_attribute(file, "felis_format_version")) {
    throw Error("it has no felis_format_version attribute, so it is not a felis model file; "
                "data sets go to --data");
  }
  const auto version = hdf5::read_ints_attribute(file, "felis_format_version", 1);
  if (version.size() != 1 || version[0] < 1) throw Error("felis_format_version is not a positive integer; this is not a felis model file");
  if (version[0] > kModelFormatVersion) {
    throw Error(fmt::format("model format version {} is newer than this felis reads ({}); "
                            "upgrade felis",
                            version[0], kModelFormatVersion));
  }
  try {
    return read_model_body(file, file_bytes);
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}; the model file is damaged, retrain it with felis train --out",
                            e.what()));
  }
}

// Everything after the format version, which a damaged file can break.
Model read_model_body(hid_t file, uintmax_t file_bytes) {
  const std::string name = hdf5::read_string_attribute(file, "model", kMaxAttributeBytes);
  const Precision precision =
      precision_from_string(hdf5::read_string_attribute(file, "precision", 64));
  const auto class_names = hdf5::read_strings_attribute(file, "class_names", kMaxClasses);
  const nlohmann::json architecture = parse_json_attribute(file, "architecture");

  // Every parameter is stored in the file, so the file's size bounds their count.
  const auto bytes_per_value = precision == Precision::float32 ? 4 : 8;
  const auto max_parameters =
      std::min<int64_t>(kMaxModelParameters, static_cast<int64_t>(file_bytes / bytes_per_value));
  auto read = [&](auto network) {
    read_parameters(file, network);
    return Model::Networks(std::move(network));
  };
  Model model(precision == Precision::float32
                  ? read(Network<float>::from_architecture(architecture, max_parameters))
                  : read(Network<double>::from_architecture(architecture, max_parameters)),
              name, class_names);

  const int64_t outputs = model.visit([](auto& n) { return n.output_shape()[0]; });
  const bool binary = architecture.at("output") == "sigmoid";
  if ((binary && (outputs != 1 || class_names.size() != 2)) ||
      (!binary && outputs != static_cast<int64_t>(class_names.size()))) {
    throw Error(fmt::format("{} class names do not fit a {} output of {} units",
                            class_names.size(), std::string(architecture.at("output")), outputs));
  }
  const auto input_shape = hdf5::read_ints_attribute(file, "input_shape", 3);
  if (Shape(input_shape.begin(), input_shape.end()) != model.input_shape()) {
    throw Error(fmt::format("attribute input_shape [{}] disagrees with the architecture's [{}]",
                            fmt::join(input_shape, ", "), fmt::join(model.input_shape(), ", ")));
  }
  if (hdf5::has_attribute(file, "training")) model.training = parse_json_attribute(file, "training");
  // Only a model with a permutation is written as version 2, so a version 2 file without
  // one has lost it, and predicting on unpermuted pixels would be silently wrong.
  const auto version = hdf5::read_ints_attribute(file, "felis_format_version", 1);
  if (H5Lexists(file, "input_permutation", H5P_DEFAULT) > 0) {
    model.input_permutation = read_permutation(file, input_shape[1] * input_shape[2], file_bytes);
  } else if (version.at(0) >= 2) {
    throw Error("format version 2 needs the dataset input_permutation, which is missing");
  }
  return model;
}

}  // namespace

std::vector<char> model_file_bytes(Model& model) { return model_file_bytes(model, {}); }

std::vector<char> model_file_bytes(Model& model, const std::function<void(hid_t file)>& extra) {
  const auto library = hdf5::use_library();
  // The file is built in memory by HDF5's core driver and written to disk by AtomicFile,
  // so a full disk surfaces as one clean error instead of a half-closed HDF5 file.
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (H5Pset_fapl_core(access.get(), size_t{1} << 20, /*backing_store=*/0) < 0) {
    throw Error("HDF5 failed to set up an in-memory file");
  }
  Handle file(H5Fcreate("felis-model-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
              H5Fclose);
  if (!file.valid()) throw Error("HDF5 failed to create an in-memory file");
  const hid_t root = file.get();
  // Version 1 readers ignore input_permutation and would predict wrongly, so only files
  // that have one are marked version 2.
  const int64_t version = model.input_permutation.empty() ? 1 : 2;
  hdf5::write_ints_attribute(root, "felis_format_version", {version});
  hdf5::write_string_attribute(root, "model", model.name());
  hdf5::write_string_attribute(root, "precision", to_string(model.precision()));
  hdf5::write_string_attribute(root, "architecture", model.architecture().dump());
  hdf5::write_ints_attribute(root, "input_shape", model.input_shape());
  hdf5::write_strings_attribute(root, "class_names", model.class_names());
  hdf5::write_string_attribute(root, "preprocessing", kPreprocessing);
  hdf5::write_string_attribute(root, "training", model.training.dump());
  model.visit([&](auto& network) { write_parameters(root, network); });
  if (!model.input_permutation.empty()) write_permutation(root, model.input_permutation);
  if (extra) extra(root);
  if (H5Fflush(root, H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5 failed to flush the model");
  const ssize_t size = H5Fget_file_image(root, nullptr, 0);
  if (size <= 0) throw Error("HDF5 failed to produce the model file's bytes");
  std::vector<char> bytes(static_cast<size_t>(size));
  if (H5Fget_file_image(root, bytes.data(), bytes.size()) != size) {
    throw Error("HDF5 failed to copy the model file's bytes");
  }
  return bytes;
}

void save_model(Model& model, const fs::path& path) {
  AtomicFile file(path);
  file.write(model_file_bytes(model));
  file.commit();
}

Model load_model(const fs::path& path) { return load_model(path, {}); }

Model load_model(const fs::path& path,
                 const std::function<void(hid_t file, uintmax_t file_bytes, Model& model)>& extra) {
  const auto library = hdf5::use_library();
  std::error_code error;
  if (!fs::exists(path, error)) {
    throw Error(fmt::format("{}: no such model file; train one with felis train --out", path.string()));
  }
  // HDF5 would block reading a FIFO and misread a device, so only regular files are opened.
  if (!fs::is_regular_file(path, error)) {
    throw Error(fmt::format("{} is not a regular file, so not a felis model; give the .h5 file "
                            "written by felis train --out",
                            path.string()));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw Error(fmt::format("{} is not an HDF5 file, so not a felis model; train one with "
                            "felis train --out",
                            path.string()));
  }
  auto read = [&] {
    const auto library = hdf5::use_library();
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) {
      throw Error(fmt::format("{} cannot be opened as HDF5; it is truncated or corrupt",
                              path.string()));
    }
    try {
      const uintmax_t file_bytes = fs::file_size(path);
      Model model = read_model(file.get(), file_bytes);
      if (extra) extra(file.get(), file_bytes, model);
      return model;
    } catch (const std::exception& e) {
      throw Error(fmt::format("{}: {}", path.string(), e.what()));
    }
  };
  read_in_child(path, read);
  return read();
}

bool is_model_file(const fs::path& path) {
  const auto library = hdf5::use_library();
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return false;
  if (H5Fis_hdf5(path.c_str()) <= 0) return false;
  auto read = [&] {
    const auto library = hdf5::use_library();
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    return file.valid() && hdf5::has_attribute(file.get(), "felis_format_version");
  };
  try {
    read_in_child(path, read);
  } catch (const Error&) {
    return false;  // the library crashed on it, so it is no model felis can read
  }
  return read();
}

}  // namespace felis
