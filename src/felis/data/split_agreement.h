// Making the train and test splits of one data set agree. Private to the data module.
#pragma once

#include "felis/data/dataset.h"

#include <filesystem>

namespace felis::detail {

// Makes the test split, when there is one, agree with the train split, so that a model
// trained on one can be evaluated on the other:
//  - the image shapes (H, W, C) must be equal;
//  - class names that the loaders made up ("0", "1", ...) for both splits become the
//    longer of the two lists, which keeps every label valid;
//  - class names from the files must be equal;
//  - when only one split has names from its file, the other takes them, unless it has a
//    label outside them.
// Throws felis::Error naming `path` (as given to load_data) or the split's file otherwise.
void reconcile_splits(const std::filesystem::path& path, DataSplits& splits);

}  // namespace felis::detail
