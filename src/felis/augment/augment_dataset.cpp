#include "felis/augment/augment_dataset.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <cstring>
#include <exception>

namespace felis {

void augment_images(const Dataset& data, std::span<const int64_t> indices,
                    const Pipeline& pipeline, uint64_t seed, int64_t epoch, ThreadPool& pool,
                    Dataset& out) {
  const auto count = static_cast<int64_t>(indices.size());
  const int64_t size = data.image_size();
  const ImageShape shape{.height = data.height, .width = data.width, .channels = data.channels};
  out.count = count;
  out.height = data.height;
  out.width = data.width;
  out.channels = data.channels;
  out.class_names = data.class_names;
  out.source = data.source;
  out.pixels.resize(static_cast<size_t>(count * size));
  out.labels.resize(static_cast<size_t>(count));

  // ThreadPool tasks must not throw, so each keeps its first error for the caller.
  std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
  pool.run(count, [&](int64_t b) {
    try {
      const int64_t i = indices[b];
      Image image{shape, std::vector<uint8_t>(data.image(i), data.image(i) + size)};
      const Image augmented = pipeline.apply(image, seed, epoch, i);
      std::memcpy(out.pixels.data() + b * size, augmented.pixels.data(), static_cast<size_t>(size));
      out.labels[b] = data.labels[i];
    } catch (...) {
      errors[b] = std::current_exception();
    }
  });
  for (const auto& error : errors) {
    if (!error) continue;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      throw Error(fmt::format("augmentation '{}' failed: {}", pipeline.spec(), e.what()));
    }
  }
}

Dataset expand_dataset(const Dataset& data, const Pipeline& pipeline, int64_t copies,
                       uint64_t seed, ThreadPool& pool) {
  if (copies < 1) throw UsageError(fmt::format("--copies {} must be at least 1", copies));
  pipeline.check({.height = data.height, .width = data.width, .channels = data.channels});
  const int64_t bytes = data.count * data.image_size();
  if (bytes > 0 && copies >= kMaxExpandedBytes / bytes) {
    throw UsageError(fmt::format("{} copies of {} images of {} bytes exceed the {} GiB limit; use "
                                 "--copies {} or fewer",
                                 copies, data.count, data.image_size(), kMaxExpandedBytes >> 30,
                                 kMaxExpandedBytes / bytes - 1));
  }

  Dataset out = data;
  out.count = data.count * (copies + 1);
  out.pixels.reserve(static_cast<size_t>(out.count * data.image_size()));
  out.labels.reserve(static_cast<size_t>(out.count));
  std::vector<int64_t> all(static_cast<size_t>(data.count));
  for (int64_t i = 0; i < data.count; ++i) all[static_cast<size_t>(i)] = i;
  Dataset copy;
  for (int64_t c = 1; c <= copies; ++c) {
    augment_images(data, all, pipeline, seed, c, pool, copy);
    out.pixels.insert(out.pixels.end(), copy.pixels.begin(), copy.pixels.end());
    out.labels.insert(out.labels.end(), copy.labels.begin(), copy.labels.end());
  }
  return out;
}

}  // namespace felis
