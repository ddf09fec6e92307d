// Peeking into IDX files, gzipped or raw. Private to the data module.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace felis::detail {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions (N, H, W)
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension (N)

// Returns the first four bytes of the file as a big-endian number, decompressing them
// when the file is gzipped. Returns nullopt when the data ends before four bytes.
std::optional<uint32_t> read_idx_magic(const std::filesystem::path& file);

}  // namespace felis::detail
