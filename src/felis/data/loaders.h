// Loaders for the data set formats felis reads. Each throws felis::Error with a one-line
// message naming the path, what is wrong and what to do.
#pragma once

#include "felis/data/dataset.h"

#include <filesystem>

namespace felis {

// Loads the splits at `path`, recognising the format by the file's bytes:
//  - a directory holding one train_*.h5 and, optionally, one test_*.h5 (the course's
//    layout). Or a directory with the four IDX files of MNIST or Fashion-MNIST
//    (train-images, train-labels, t10k-images, t10k-labels, each gzipped or raw, or both);
//    a directory with several candidates for one file, or with both formats, is rejected;
//  - one HDF5 file with *_set_x and *_set_y datasets: train is the train_ split, or else
//    the test_ split, or else the only split; test is the test_ split when there is one;
//  - one IDX image file whose label file sits beside it under the usual name (train only);
//  - nothing else: an image, a FIFO or a device is not a data set.
// The two splits must have one image shape and one class list (see split_agreement.h).
DataSplits load_data(const std::filesystem::path& path);

// One HDF5 file in the course's layout: `<prefix>_set_x` (N, H, W, C) with C = 1 or 3, or
// (N, H, W), uint8; `<prefix>_set_y` (N), (1, N) or (N, 1) integers; optional
// `list_classes` (K) strings, else the class names are "0" up to the largest label, and at
// least "0" and "1".
// Returns the split whose prefix is `prefix` ("train" or "test"), or, when `prefix` is
// empty, the only split in the file. Rejects a dataset that would take more than 16 GiB
// in memory or more than the file can store.
Dataset load_hdf5_split(const std::filesystem::path& file, const std::string& prefix);

// An IDX image file (magic 0x00000803, (N, H, W) uint8) and its label file
// (magic 0x00000801, (N) uint8), each gzipped or raw. Class names are Fashion-MNIST's
// when the labels match it, else the digits "0".."9". Rejects a header that promises more
// than 4 GiB of elements or more than the file contains.
Dataset load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels);

// True when `file` is a regular file carrying the HDF5 signature, at offset 0 or after a
// user block (offset 512, 1024, ...). False for anything else, including missing files.
bool is_hdf5_file(const std::filesystem::path& file);

}  // namespace felis
