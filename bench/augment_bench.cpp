// Time per image of the augmentation that full-batch training runs on every iteration,
// for each transform the pipeline offers and for the three that the probes measure
// together. Each benchmark iteration runs augment_images over 209 images of
// 64 x 64 x 3, the shape of the course's cat / non-cat training set, on one thread, as a
// new epoch, so that every image draws new parameters. The images are synthetic uniform
// random pixels from a fixed seed.
//
// Every transform runs at its default magnitude (see docs/augment.md) except shift, which
// moves by up to 4 pixels as in the combined spec "shift:4, rotate:15, tint:0.2". The
// flips, which default to a probability of 0.5, run with p=1 so that every image is
// flipped. The per_image_us counter is the process's CPU time per image, in microseconds.
#include "synthetic.h"

#include "felis/augment/augment_dataset.h"
#include "felis/augment/pipeline.h"

#include <benchmark/benchmark.h>

#include <numeric>
#include <string>
#include <vector>

namespace felis::bench {
namespace {

constexpr int64_t kImages = 209;
constexpr int64_t kSide = 64;
constexpr int64_t kChannels = 3;

void augment_cat_sized(benchmark::State& state, const std::string& spec) {
  const Dataset data = synthetic_images(kImages, kSide, kSide, kChannels, /*classes=*/2);
  const Pipeline pipeline = Pipeline::parse(spec);
  pipeline.check({.height = data.height, .width = data.width, .channels = data.channels});
  std::vector<int64_t> indices(static_cast<size_t>(data.count));
  std::iota(indices.begin(), indices.end(), 0);
  ThreadPool pool(1);
  Dataset out;

  int64_t epoch = 0;
  for (auto _ : state) {
    augment_images(data, indices, pipeline, kSeed, epoch++, pool, out);
    benchmark::DoNotOptimize(out.pixels.data());
  }

  const double images = static_cast<double>(state.iterations() * data.count);
  state.SetItemsProcessed(static_cast<int64_t>(images));
  state.counters["per_image_us"] =
      benchmark::Counter(images * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The name of each benchmark after "augment/", and its pipeline spec.
struct AugmentCase {
  const char* name;
  const char* spec;
};

const AugmentCase kCases[] = {
    {"shift_rotate_tint", "shift:4, rotate:15, tint:0.2"},
    {"shift", "shift:4"},
    {"rotate", "rotate:15"},
    {"tint", "tint:0.2"},
    {"scale", "scale"},
    {"crop", "crop"},
    {"hflip", "hflip:p=1"},
    {"vflip", "vflip:p=1"},
    {"shear", "shear"},
    {"elastic", "elastic"},
    {"brightness", "brightness"},
    {"contrast", "contrast"},
    {"saturation", "saturation"},
    {"hue", "hue"},
    {"gamma", "gamma"},
    {"noise", "noise"},
    {"blur", "blur"},
    {"cutout", "cutout"},
};

// Registered with process CPU time, so that any work OpenCV hands to its own threads
// counts, and other programs on the machine count less than they would in wall-clock time.
const bool kRegistered = [] {
  for (const AugmentCase& augment : kCases) {
    const std::string name = std::string("augment/") + augment.name;
    benchmark::RegisterBenchmark(name.c_str(), augment_cat_sized, std::string(augment.spec))
        ->MeasureProcessCPUTime();
  }
  return true;
}();

}  // namespace
}  // namespace felis::bench
