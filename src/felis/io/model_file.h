// Model files: HDF5 that h5py can open.
//
// Layout (format versions 1 and 2), documented for users in docs/model-file.md:
//   attributes of "/": felis_format_version (int), model (str), precision (str),
//     architecture (JSON str), input_shape ([C, H, W] int64), class_names (str array),
//     preprocessing (str), training (JSON str)
//   datasets: /layers/<i>/<name>, one per parameter, e.g. /layers/0/W (K, D), /layers/0/b (K),
//     float32 or float64 as the model's precision
//   version 2 adds /input_permutation (H W) int32, the model's pixel shuffle
#pragma once

#include "felis/nn/model.h"

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

namespace felis {

// The newest format this felis reads and writes. Version 2 adds /input_permutation; a
// file without one is written as version 1.
inline constexpr int64_t kModelFormatVersion = 2;
// Upper bound on the parameters a model file may declare, checked before allocating.
inline constexpr int64_t kMaxModelParameters = int64_t{1} << 30;

// Writes the model atomically: a crash leaves any earlier file at `path` intact.
// Throws felis::Error when the file cannot be written.
void save_model(Model& model, const std::filesystem::path& path);

// The bytes of the model's file, built in memory. Throws felis::Error if HDF5 fails.
std::vector<char> model_file_bytes(Model& model);

// As model_file_bytes(model), with `extra` called on the open file to add groups of its
// own, as checkpoints do.
std::vector<char> model_file_bytes(Model& model, const std::function<void(hid_t file)>& extra);

// Reads a model, checking every size against the architecture before allocating.
// Throws felis::Error for a missing file, a file that is not a felis model, a newer
// format version, or any dataset whose shape or type does not match or whose values are
// not finite. The model is returned only once complete, so no partly loaded model escapes.
Model load_model(const std::filesystem::path& path);

// As load_model(path), with `extra` called on the open file, the file's size in bytes
// and the model once it is read. What `extra` throws is reported like a damaged model.
Model load_model(const std::filesystem::path& path,
                 const std::function<void(hid_t file, uintmax_t file_bytes, Model& model)>& extra);

// True when the file is HDF5 with a felis_format_version attribute.
bool is_model_file(const std::filesystem::path& path);

}  // namespace felis
