// Recognising data and image files by their first bytes, not by their names.
// Private to the data module.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace felis::detail {

enum class FileKind {
  hdf5,        // the HDF5 signature at offset 0 or at a user-block offset 512, 1024, ...
  gzip,        // 1f 8b; the content may be an IDX file or anything else
  idx_images,  // raw IDX, magic 0x00000803
  idx_labels,  // raw IDX, magic 0x00000801
  png,
  jpeg,
  bmp,
  unknown,
};

// Reads up to `count` bytes from the start of `file`; fewer when the file is shorter.
// Throws felis::Error when the file cannot be opened.
std::vector<uint8_t> read_file_start(const std::filesystem::path& file, size_t count);

// Classifies `file` by its signature. Throws felis::Error when it cannot be opened.
FileKind detect_file_kind(const std::filesystem::path& file);

// Quotes the first bytes of a file for a message: "'<!DOCTYPE html>'" when they are
// printable text, else hex such as "89 50 4e 47 0d 0a 1a 0a".
std::string describe_file_start(const std::vector<uint8_t>& bytes);

// Throws felis::Error unless `path` exists and is a regular file or a directory, following
// symbolic links. Reading a FIFO, socket or device could block forever or never end.
void require_file_or_directory(const std::filesystem::path& path);

}  // namespace felis::detail
