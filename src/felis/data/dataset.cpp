#include "felis/data/dataset.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

namespace felis {

void Dataset::validate() const {
  if (count <= 0 || height <= 0 || width <= 0 || (channels != 1 && channels != 3)) {
    throw Error(fmt::format("{}: invalid image shape ({}, {}, {}, {}); expected N images of "
                            "H x W pixels with 1 or 3 channels",
                            source, count, height, width, channels));
  }
  if (static_cast<int64_t>(pixels.size()) != count * image_size()) {
    throw Error(fmt::format("{}: {} pixel bytes for {} images of {} bytes each", source,
                            pixels.size(), count, image_size()));
  }
  if (static_cast<int64_t>(labels.size()) != count) {
    throw Error(fmt::format("{}: {} labels for {} images; every image needs one label",
                            source, labels.size(), count));
  }
  if (class_names.size() < 2) {
    throw Error(fmt::format("{}: {} classes; a classifier needs at least 2", source,
                            class_names.size()));
  }
  for (int64_t i = 0; i < count; ++i) {
    if (labels[i] < 0 || labels[i] >= class_count()) {
      throw Error(fmt::format("{}: label {} of image {} is outside the {} classes [0, {}); "
                              "fix the labels or the class list",
                              source, labels[i], i, class_count(), class_count()));
    }
  }
}

std::vector<int64_t> class_counts(const Dataset& data) {
  std::vector<int64_t> counts(data.class_names.size(), 0);
  for (int32_t label : data.labels) ++counts[label];
  return counts;
}

}  // namespace felis
