// Small RAII owners for HDF5 C API identifiers, and helpers for the attributes felis
// writes: variable-length UTF-8 strings and integer arrays, which h5py reads as str and
// numpy arrays.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace felis::hdf5 {

// Owns an hid_t and closes it with the matching H5*close function.
class Handle {
public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      close_ = other.close_;
      other.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = -1;
  }

private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// A hold on the HDF5 library for one call into felis. Model files are built as an
// in-memory HDF5 file under one fixed name, so two threads saving models at once made
// the second creation fail. Every function that calls HDF5 takes this process-wide lock
// first, and so closes its handles before releasing it; Debian's thread-safe HDF5 runs
// one call at a time anyway. It also turns off HDF5's printing of its error stack, so
// that failures reach the user as felis's one-line messages only.
[[nodiscard]] std::unique_lock<std::recursive_mutex> use_library();

// Creation properties for a dataset (H5P_DATASET_CREATE) or a group (H5P_GROUP_CREATE)
// that records no modification times, so that the same model gives the same file bytes.
Handle untimed_creation(hid_t property_class);

// Each throws felis::Error naming `what` on failure.
void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
void write_strings_attribute(hid_t object, const std::string& name,
                             const std::vector<std::string>& values);
void write_ints_attribute(hid_t object, const std::string& name, const std::vector<int64_t>& values);

// Throws felis::Error when `dataset` keeps its data outside its file: HDF5's external
// storage and virtual datasets read other files, so a crafted data or model file could
// feed felis any file on the machine. A dataset id below 0 is left to the caller.
void require_internal_storage(hid_t dataset, const std::string& name);

bool has_attribute(hid_t object, const std::string& name);
// Reads a string attribute, fixed or variable length, of at most max_bytes.
std::string read_string_attribute(hid_t object, const std::string& name, size_t max_bytes);
// Reads a 1-D string attribute of at most max_count entries.
std::vector<std::string> read_strings_attribute(hid_t object, const std::string& name,
                                                size_t max_count);
std::vector<int64_t> read_ints_attribute(hid_t object, const std::string& name, size_t max_count);

}  // namespace felis::hdf5
