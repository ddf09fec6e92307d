#include "felis/augment/augment_dataset.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <exception>

namespace felis {

namespace {

// Images per pool task. A task keeps one AugmentBuffers for its images, so that the
// buffers are allocated once per task instead of once per image.
constexpr int64_t kImagesPerTask = 8;

// Writes the B images of `data` at `indices`, augmented, into `pixels` (B, H, W, C) and
// their labels into `labels` (B).
void augment_into(const Dataset& data, std::span<const int64_t> indices,
                  const Pipeline& pipeline, uint64_t seed, int64_t epoch, ThreadPool& pool,
                  std::span<uint8_t> pixels, std::span<int32_t> labels) {
  const auto count = static_cast<int64_t>(indices.size());
  const int64_t size = data.image_size();
  const ImageShape shape{.height = data.height, .width = data.width, .channels = data.channels};

  // ThreadPool tasks must not throw, so each image keeps its first error for the caller.
  std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
  pool.run(chunk_count(count, kImagesPerTask), [&](int64_t task) {
    AugmentBuffers buffers;
    const int64_t end = std::min(count, (task + 1) * kImagesPerTask);
    for (int64_t b = task * kImagesPerTask; b < end; ++b) {
      try {
        const int64_t i = indices[b];
        const ConstImageView image{.shape = shape, .pixels = data.image(i)};
        const ImageView out{.shape = shape, .pixels = pixels.data() + b * size};
        pipeline.apply(image, seed, epoch, i, out, buffers);
        labels[b] = data.labels[i];
      } catch (...) {
        errors[b] = std::current_exception();
      }
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

}  // namespace

void augment_images(const Dataset& data, std::span<const int64_t> indices,
                    const Pipeline& pipeline, uint64_t seed, int64_t epoch, ThreadPool& pool,
                    Dataset& out) {
  const auto count = static_cast<int64_t>(indices.size());
  out.count = count;
  out.height = data.height;
  out.width = data.width;
  out.channels = data.channels;
  out.class_names = data.class_names;
  out.source = data.source;
  // Resizing to the size of the previous call, as every training step does, keeps the
  // allocation.
  out.pixels.resize(static_cast<size_t>(count * data.image_size()));
  out.labels.resize(static_cast<size_t>(count));
  augment_into(data, indices, pipeline, seed, epoch, pool, out.pixels, out.labels);
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

  // The originals, then each copy augmented in place after them.
  Dataset out = data;
  out.count = data.count * (copies + 1);
  out.pixels.resize(static_cast<size_t>(out.count * data.image_size()));
  out.labels.resize(static_cast<size_t>(out.count));
  std::vector<int64_t> all(static_cast<size_t>(data.count));
  for (int64_t i = 0; i < data.count; ++i) all[static_cast<size_t>(i)] = i;
  for (int64_t c = 1; c <= copies; ++c) {
    const auto first_image = static_cast<size_t>(c * data.count);
    augment_into(data, all, pipeline, seed, c, pool,
                 std::span(out.pixels).subspan(first_image * static_cast<size_t>(data.image_size()),
                                               static_cast<size_t>(bytes)),
                 std::span(out.labels).subspan(first_image, static_cast<size_t>(data.count)));
  }
  return out;
}

}  // namespace felis
