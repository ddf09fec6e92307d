// Loaders for the data set formats felis reads. Each throws felis::Error with a one-line
// message naming the path, what is wrong and what to do.
#pragma once

#include "felis/data/dataset.h"

#include <filesystem>

namespace felis {

// Loads the splits at `path`, recognising the format by the file's bytes:
//  - a directory holding train_*.h5 and test_*.h5 (the course's layout), or the four
//    IDX files of MNIST or Fashion-MNIST (train-images, train-labels, t10k-images,
//    t10k-labels, gzipped or raw);
//  - one HDF5 file with *_set_x and *_set_y datasets (train_, test_ or both);
//  - nothing else: an image is not a data set.
DataSplits load_data(const std::filesystem::path& path);

// One HDF5 file in the course's layout: `<prefix>_set_x` (N, H, W, C) uint8,
// `<prefix>_set_y` (N) or (1, N) integers, optional `list_classes` (K) strings.
// Returns the split whose prefix is `prefix` ("train" or "test"), or, when `prefix` is
// empty, the only split in the file.
Dataset load_hdf5_split(const std::filesystem::path& file, const std::string& prefix);

// An IDX image file (magic 0x00000803, (N, H, W) uint8) and its label file
// (magic 0x00000801, (N) uint8), each gzipped or raw. Class names are Fashion-MNIST's
// when the labels match it, else the digits "0".."9".
Dataset load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels);

// True when the file starts with the HDF5 signature, an IDX magic number or gzip's magic.
bool is_hdf5_file(const std::filesystem::path& file);

}  // namespace felis
