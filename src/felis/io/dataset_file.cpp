#include "felis/io/dataset_file.h"

#include "felis/error.h"
#include "felis/io/hdf5_handle.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace felis {

using hdf5::Handle;

namespace {

void write_dataset(hid_t file, const std::string& name, const std::vector<hsize_t>& dims,
                   hid_t file_type, hid_t memory_type, const void* data) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dataset(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid() ||
      H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw Error(fmt::format("HDF5 failed to write dataset {}", name));
  }
}

void write_split(hid_t file, const std::string& prefix, const Dataset& data) {
  const auto n = static_cast<hsize_t>(data.count);
  write_dataset(file, prefix + "_set_x",
                {n, static_cast<hsize_t>(data.height), static_cast<hsize_t>(data.width),
                 static_cast<hsize_t>(data.channels)},
                H5T_STD_U8LE, H5T_NATIVE_UINT8, data.pixels.data());
  const std::vector<int64_t> labels(data.labels.begin(), data.labels.end());
  write_dataset(file, prefix + "_set_y", {n}, H5T_STD_I64LE, H5T_NATIVE_INT64, labels.data());
}

// list_classes as fixed-length byte strings, the type the course's files use.
void write_class_names(hid_t file, const std::vector<std::string>& names) {
  size_t length = 1;
  for (const auto& name : names) length = std::max(length, name.size());
  std::vector<char> packed(names.size() * length, '\0');
  for (size_t i = 0; i < names.size(); ++i) {
    std::memcpy(packed.data() + i * length, names[i].data(), names[i].size());
  }
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!type.valid() || H5Tset_size(type.get(), length) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0) {
    throw Error("HDF5 failed to make the string type of list_classes");
  }
  write_dataset(file, "list_classes", {names.size()}, type.get(), type.get(), packed.data());
}

}  // namespace

std::vector<char> dataset_file_bytes(const Dataset& train, const Dataset* test,
                                     const std::map<std::string, std::string>& attributes,
                                     const std::map<std::string, int64_t>& numbers) {
  assert(test == nullptr || (test->image_size() == train.image_size() &&
                             test->class_names == train.class_names));
  const auto library = hdf5::use_library();
  // Built in memory, like model files, so the caller writes the bytes atomically.
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (H5Pset_fapl_core(access.get(), size_t{1} << 24, /*backing_store=*/0) < 0) {
    throw Error("HDF5 failed to set up an in-memory file");
  }
  Handle file(H5Fcreate("felis-dataset-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
              H5Fclose);
  if (!file.valid()) throw Error("HDF5 failed to create an in-memory file");

  write_split(file.get(), "train", train);
  if (test != nullptr) write_split(file.get(), "test", *test);
  write_class_names(file.get(), train.class_names);
  for (const auto& [name, value] : attributes) hdf5::write_string_attribute(file.get(), name, value);
  for (const auto& [name, value] : numbers) hdf5::write_ints_attribute(file.get(), name, {value});

  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5 failed to flush the data set");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  if (size <= 0) throw Error("HDF5 failed to produce the data set file's bytes");
  std::vector<char> bytes(static_cast<size_t>(size));
  if (H5Fget_file_image(file.get(), bytes.data(), bytes.size()) != size) {
    throw Error("HDF5 failed to copy the data set file's bytes");
  }
  return bytes;
}

}  // namespace felis
