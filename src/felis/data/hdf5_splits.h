// The splits of one HDF5 file in the course's layout. Private to the data module.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace felis::detail {

// Returns the prefixes of the `<prefix>_set_x` datasets in the file's root group, sorted,
// e.g. {"test", "train"}. Throws felis::Error when the file is missing, not HDF5,
// truncated or corrupt.
std::vector<std::string> hdf5_split_prefixes(const std::filesystem::path& file);

}  // namespace felis::detail
