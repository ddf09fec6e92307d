// Reading the size that an image file declares, without decoding it. Private to the data
// module.
#pragma once

#include "felis/data/file_kind.h"

#include <cstdint>
#include <filesystem>
#include <optional>

namespace felis::detail {

struct DeclaredSize {
  uint64_t width = 0;
  uint64_t height = 0;
};

// Returns the width and height in the header of a PNG (IHDR), BMP (info header) or JPEG
// (first SOFn segment) file. Returns nullopt for other kinds and for a header that is cut
// short or malformed, which the decoder then reports.
std::optional<DeclaredSize> read_declared_size(const std::filesystem::path& file, FileKind kind);

}  // namespace felis::detail
