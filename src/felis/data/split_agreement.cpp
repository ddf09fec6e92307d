#include "felis/data/split_agreement.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <string>
#include <vector>

namespace felis::detail {

namespace {

// Number of class names that an error message lists.
constexpr size_t kMaxListedClasses = 12;

std::string format_shape(const Dataset& data) {
  return fmt::format("{}x{}x{}", data.height, data.width, data.channels);
}

std::string format_class_names(const std::vector<std::string>& names) {
  const size_t listed_count = std::min(names.size(), kMaxListedClasses);
  std::string listed =
      fmt::format("{}", fmt::join(names.begin(), names.begin() + listed_count, ", "));
  if (listed_count < names.size()) {
    listed += fmt::format(" and {} more", names.size() - listed_count);
  }
  return "(" + listed + ")";
}

// Gives `unnamed`, whose class names were made up, the names that `named` read from its
// file. Throws when a label of `unnamed` has no name in that list.
void adopt_class_names(Dataset& unnamed, const std::string& unnamed_split, const Dataset& named,
                       const std::string& named_split) {
  const int64_t class_count = named.class_count();
  for (size_t i = 0; i < unnamed.labels.size(); ++i) {
    if (unnamed.labels[i] >= class_count) {
      throw Error(fmt::format("{}: label {} of image {} in the {} split is outside the {} split's "
                              "{} classes [0, {}) {}; fix the labels or give both splits the "
                              "same class list",
                              unnamed.source, unnamed.labels[i], i, unnamed_split, named_split,
                              class_count, class_count, format_class_names(named.class_names)));
    }
  }
  unnamed.class_names = named.class_names;
  unnamed.generated_class_names = false;
}

void reconcile_class_names(const std::filesystem::path& path, Dataset& train, Dataset& test) {
  if (train.class_names == test.class_names) return;

  if (train.generated_class_names && test.generated_class_names) {
    // Made-up names are "0" up to the largest label, so the longer list contains the other.
    if (train.class_count() < test.class_count()) {
      train.class_names = test.class_names;
    } else {
      test.class_names = train.class_names;
    }
    return;
  }
  if (train.generated_class_names) {
    adopt_class_names(train, "train", test, "test");
    return;
  }
  if (test.generated_class_names) {
    adopt_class_names(test, "test", train, "train");
    return;
  }
  throw Error(fmt::format("{}: the train split's classes {} differ from the test split's {}; "
                          "both splits must list the same classes in the same order",
                          path.string(), format_class_names(train.class_names),
                          format_class_names(test.class_names)));
}

}  // namespace

void reconcile_splits(const std::filesystem::path& path, DataSplits& splits) {
  if (!splits.test) return;
  Dataset& train = splits.train;
  Dataset& test = *splits.test;

  if (train.height != test.height || train.width != test.width ||
      train.channels != test.channels) {
    throw Error(fmt::format("{}: the train split has {} images but the test split {} "
                            "(H x W x C); both splits must have one shape",
                            path.string(), format_shape(train), format_shape(test)));
  }
  reconcile_class_names(path, train, test);
}

}  // namespace felis::detail
