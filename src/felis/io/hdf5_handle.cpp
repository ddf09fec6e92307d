#include "felis/io/hdf5_handle.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <pthread.h>

#include <memory>
#include <mutex>
#include <new>

namespace felis::hdf5 {

namespace {

std::recursive_mutex library;

// A fork (read_in_child) waits until no thread is inside HDF5, so that the child starts
// with the library and its own lock free. The child's copy of the lock records the
// parent's thread as its owner, so the child starts a fresh one.
void lock_for_fork() { library.lock(); }
void unlock_after_fork() { library.unlock(); }
void renew_in_child() { new (&library) std::recursive_mutex(); }

}  // namespace

std::unique_lock<std::recursive_mutex> use_library() {
  static const bool fork_safe =
      pthread_atfork(lock_for_fork, unlock_after_fork, renew_in_child) == 0;
  (void)fork_safe;
  std::unique_lock lock(library);
  static const bool silenced = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
  (void)silenced;
  return lock;
}

namespace {

Handle vlen_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw Error(fmt::format("HDF5 failed to {}", what));
}

Handle open_attribute(hid_t object, const std::string& name) {
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) throw Error(fmt::format("attribute '{}' is missing", name));
  return attribute;
}

// Element count of a scalar or 1-D attribute, checked against max_count.
size_t attribute_count(hid_t attribute, const std::string& name, size_t max_count) {
  Handle space(H5Aget_space(attribute), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 1) throw Error(fmt::format("attribute '{}' is not 1-D", name));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || static_cast<size_t>(count) > max_count) {
    throw Error(fmt::format("attribute '{}' has {} entries, more than the limit of {}", name,
                            count, max_count));
  }
  return static_cast<size_t>(count);
}

}  // namespace

namespace {

// Writes `values` as variable-length strings into a new attribute of dataspace `space`.
void write_vlen_strings(hid_t object, const std::string& name,
                        const std::vector<std::string>& values, const Handle& space) {
  Handle type = vlen_string_type();
  Handle attribute(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose);
  if (!attribute.valid()) throw Error(fmt::format("HDF5 failed to create attribute '{}'", name));
  std::vector<const char*> pointers;
  for (const auto& value : values) pointers.push_back(value.c_str());
  check(H5Awrite(attribute.get(), type.get(), pointers.data()),
        fmt::format("write attribute '{}'", name));
}

}  // namespace

// A scalar dataspace, so that h5py reads the value as str rather than as an array.
Handle untimed_creation(hid_t property_class) {
  Handle properties(H5Pcreate(property_class), H5Pclose);
  if (!properties.valid() || H5Pset_obj_track_times(properties.get(), 0) < 0) {
    throw Error("HDF5 failed to set up creation properties");
  }
  return properties;
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  write_vlen_strings(object, name, {value}, Handle(H5Screate(H5S_SCALAR), H5Sclose));
}

void write_strings_attribute(hid_t object, const std::string& name,
                             const std::vector<std::string>& values) {
  const hsize_t count = values.size();
  write_vlen_strings(object, name, values, Handle(H5Screate_simple(1, &count, nullptr), H5Sclose));
}

void write_ints_attribute(hid_t object, const std::string& name,
                          const std::vector<int64_t>& values) {
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle attribute(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose);
  if (!attribute.valid()) throw Error(fmt::format("HDF5 failed to create attribute '{}'", name));
  check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, values.data()),
        fmt::format("write attribute '{}'", name));
}

void require_internal_storage(hid_t dataset, const std::string& name) {
  Handle properties(dataset < 0 ? -1 : H5Dget_create_plist(dataset), H5Pclose);
  if (!properties.valid()) return;  // the caller reports the dataset as unreadable
  if (H5Pget_layout(properties.get()) == H5D_VIRTUAL || H5Pget_external_count(properties.get()) != 0) {
    throw Error(fmt::format("dataset '{}' keeps its data in other files, which felis does not "
                            "read; the file was made to read files on this machine, do not use it",
                            name));
  }
}

bool has_attribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

std::vector<std::string> read_strings_attribute(hid_t object, const std::string& name,
                                                size_t max_count) {
  Handle attribute = open_attribute(object, name);
  Handle file_type(H5Aget_type(attribute.get()), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw Error(fmt::format("attribute '{}' is not a string", name));
  }
  const size_t count = attribute_count(attribute.get(), name, max_count);
  std::vector<std::string> values;
  if (H5Tis_variable_str(file_type.get()) > 0) {
    Handle type = vlen_string_type();
    std::vector<char*> pointers(count, nullptr);
    const herr_t status = H5Aread(attribute.get(), type.get(), pointers.data());
    if (status >= 0) {
      for (char* p : pointers) values.emplace_back(p == nullptr ? "" : p);
    }
    // A read that fails part way has allocated some of the strings already. They are
    // freed one by one: H5Dvlen_reclaim would need the attribute's dataspace, which a
    // corrupt file can make unreadable.
    for (char* p : pointers) H5free_memory(p);
    check(status, fmt::format("read attribute '{}'", name));
    return values;
  }
  const size_t width = H5Tget_size(file_type.get());
  if (width == 0 || width > (1u << 20)) {
    throw Error(fmt::format("attribute '{}' has strings of {} bytes", name, width));
  }
  std::vector<char> buffer(count * width);
  Handle type(H5Tcopy(file_type.get()), H5Tclose);
  check(H5Aread(attribute.get(), type.get(), buffer.data()),
        fmt::format("read attribute '{}'", name));
  for (size_t i = 0; i < count; ++i) {
    const char* start = buffer.data() + i * width;
    values.emplace_back(start, strnlen(start, width));
  }
  return values;
}

std::string read_string_attribute(hid_t object, const std::string& name, size_t max_bytes) {
  auto values = read_strings_attribute(object, name, 1);
  if (values.size() != 1) throw Error(fmt::format("attribute '{}' is not one string", name));
  if (values[0].size() > max_bytes) {
    throw Error(fmt::format("attribute '{}' is longer than {} bytes", name, max_bytes));
  }
  return values[0];
}

std::vector<int64_t> read_ints_attribute(hid_t object, const std::string& name,
                                         size_t max_count) {
  Handle attribute = open_attribute(object, name);
  Handle file_type(H5Aget_type(attribute.get()), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_INTEGER) {
    throw Error(fmt::format("attribute '{}' is not an integer array", name));
  }
  std::vector<int64_t> values(attribute_count(attribute.get(), name, max_count));
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()),
        fmt::format("read attribute '{}'", name));
  return values;
}

}  // namespace felis::hdf5
