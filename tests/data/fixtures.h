// Helpers for the data tests: temporary directories, fixture files written with the HDF5
// C API, zlib and by hand, and the paths of the shared real data.
#pragma once

#include "felis/error.h"

#include <hdf5.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace felis::fixtures {

// A fresh directory under the system's temporary directory, removed with its content.
class TempDir {
public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "felis-data-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

// Runs `action` and returns the message of the felis::Error it throws, or a marker
// that no felis::Error was thrown, so that substring checks fail with a clear output.
template <class Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const felis::Error& error) {
    return error.what();
  }
  return "<no felis::Error thrown>";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A path under the shared data directory that sits beside the checkout.
inline std::filesystem::path shared_data(const std::string& relative) {
  return std::filesystem::path(FELIS_SOURCE_DIR) / ".." / "shared" / "data" / relative;
}

inline const std::filesystem::path kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

inline void write_bytes(const std::filesystem::path& file, const std::vector<uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Writes `bytes` as a gzip file with zlib's gz* functions.
inline void write_gzip(const std::filesystem::path& file, const std::vector<uint8_t>& bytes) {
  gzFile out = gzopen(file.c_str(), "wb");
  gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(out);
}

inline void append_big_endian_u32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

// An IDX file: magic, big-endian sizes, then the elements.
inline std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                                      const std::vector<uint8_t>& elements) {
  std::vector<uint8_t> bytes;
  append_big_endian_u32(bytes, magic);
  for (uint32_t dim : dims) append_big_endian_u32(bytes, dim);
  bytes.insert(bytes.end(), elements.begin(), elements.end());
  return bytes;
}

// An HDF5 file created (truncating) for writing fixtures; closed on destruction.
class H5Writer {
public:
  explicit H5Writer(const std::filesystem::path& file)
      : file_(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {
    if (file_ < 0) throw std::runtime_error("H5Fcreate failed for " + file.string());
  }
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;
  ~H5Writer() { H5Fclose(file_); }

  // Writes a dataset of `dims` stored as `file_type` from `data` laid out as `memory_type`.
  void write(const std::string& name, hid_t file_type, hid_t memory_type,
             const std::vector<hsize_t>& dims, const void* data) {
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t dataset =
        H5Dcreate2(file_, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(dataset);
    H5Sclose(space);
  }

  void write_uint8(const std::string& name, const std::vector<hsize_t>& dims,
                   const std::vector<uint8_t>& data) {
    write(name, H5T_STD_U8LE, H5T_NATIVE_UINT8, dims, data.data());
  }

  void write_int64(const std::string& name, const std::vector<hsize_t>& dims,
                   const std::vector<int64_t>& data) {
    write(name, H5T_STD_I64LE, H5T_NATIVE_INT64, dims, data.data());
  }

  // Fixed-length, null-padded byte strings, as h5py writes numpy 'S' arrays.
  void write_fixed_strings(const std::string& name, const std::vector<std::string>& strings,
                           size_t length) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, length);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    std::vector<char> buffer(strings.size() * length, '\0');
    for (size_t i = 0; i < strings.size(); ++i) strings[i].copy(buffer.data() + i * length, length);
    write(name, type, type, {strings.size()}, buffer.data());
    H5Tclose(type);
  }

  void write_variable_strings(const std::string& name, const std::vector<std::string>& strings) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    std::vector<const char*> pointers;
    for (const std::string& text : strings) pointers.push_back(text.c_str());
    write(name, type, type, {strings.size()}, pointers.data());
    H5Tclose(type);
  }

  // A chunked uint8 dataset that declares `dims` but stores no chunk, so the file stays
  // small whatever the shape promises.
  void declare_uint8(const std::string& name, const std::vector<hsize_t>& dims) {
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
    std::vector<hsize_t> chunk(dims.size(), 1);
    H5Pset_chunk(properties, static_cast<int>(chunk.size()), chunk.data());
    const hid_t dataset = H5Dcreate2(file_, name.c_str(), H5T_STD_U8LE, space, H5P_DEFAULT,
                                      properties, H5P_DEFAULT);
    H5Dclose(dataset);
    H5Pclose(properties);
    H5Sclose(space);
  }

private:
  hid_t file_;
};

// Writes a course-style split: (N, H, W, C) pixels 0, 1, 2, ... and the given labels.
inline void write_split(H5Writer& writer, const std::string& prefix, hsize_t count,
                        hsize_t side, hsize_t channels, const std::vector<int64_t>& labels) {
  std::vector<uint8_t> pixels(count * side * side * channels);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i);
  writer.write_uint8(prefix + "_set_x", {count, side, side, channels}, pixels);
  writer.write_int64(prefix + "_set_y", {labels.size()}, labels);
}

}  // namespace felis::fixtures
