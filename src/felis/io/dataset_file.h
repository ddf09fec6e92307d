// Data set files in the course's HDF5 layout, which felis train and h5py read.
//
// Legend: N images, H x W pixels, C channels, K classes.
// Layout: train_set_x (N, H, W, C) uint8, train_set_y (N) int64, the same two for the
// test split when there is one, list_classes (K) fixed-length byte strings as in the
// course's files, and attributes of the root group for provenance.
#pragma once

#include "felis/data/dataset.h"

#include <map>
#include <string>
#include <vector>

namespace felis {

// The bytes of an HDF5 file holding `train` and, when not null, `test`, which must have
// the same image shape and classes, with string and integer attributes on the root group.
// Throws felis::Error if HDF5 fails.
std::vector<char> dataset_file_bytes(const Dataset& train, const Dataset* test,
                                     const std::map<std::string, std::string>& attributes,
                                     const std::map<std::string, int64_t>& numbers = {});

}  // namespace felis
