// Time per image of the augmentation that full-batch training runs on every iteration. Each
// benchmark iteration runs augment_images over the 209 cat/non-cat training images
// (64 x 64 x 3) on one thread, as a new epoch, so that it draws new parameters. The
// per_image_us counter is the process's CPU time per image in microseconds.
//
// NOTE: CMakeLists.txt does not build bench/ yet. Build and run it from the repository root,
// after building the engine into build/release:
//   g++ -std=c++20 -O3 -march=native -DNDEBUG -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL \
//     -DFMT_SHARED -Isrc -I/usr/include/opencv4 -I/usr/include/hdf5/serial \
//     bench/augment_bench.cpp build/release/libfelis_engine.a \
//     -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lopencv_imgcodecs -lopencv_imgproc \
//     -lopencv_core -lspdlog -lfmt -lz -lbenchmark -lpthread -o augment_bench
//   ./augment_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "felis/augment/augment_dataset.h"
#include "felis/augment/pipeline.h"
#include "felis/data/loaders.h"

#include <benchmark/benchmark.h>

#include <numeric>
#include <string>
#include <vector>

namespace {

// The course's cat/non-cat files sit in the shared data directory beside the checkout, and
// the benchmark runs from the repository root.
const felis::Dataset& cat_images() {
  static const felis::Dataset train =
      felis::load_data("../shared/data/catvnoncat/train_catvnoncat.h5").train;
  return train;
}

void augment_cat_images(benchmark::State& state, const std::string& spec) {
  const felis::Dataset& data = cat_images();
  const felis::Pipeline pipeline = felis::Pipeline::parse(spec);
  pipeline.check({.height = data.height, .width = data.width, .channels = data.channels});
  std::vector<int64_t> indices(static_cast<size_t>(data.count));
  std::iota(indices.begin(), indices.end(), 0);
  felis::ThreadPool pool(1);
  felis::Dataset out;

  int64_t epoch = 0;
  for (auto _ : state) {
    felis::augment_images(data, indices, pipeline, /*seed=*/1, epoch++, pool, out);
    benchmark::DoNotOptimize(out.pixels.data());
  }

  const double images = static_cast<double>(state.iterations() * data.count);
  state.SetItemsProcessed(static_cast<int64_t>(images));
  state.counters["per_image_us"] =
      benchmark::Counter(images * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// CPU time of the whole process, so that any work OpenCV hands to its own threads counts
// and other programs on the machine count less than in wall-clock time.
BENCHMARK_CAPTURE(augment_cat_images, all, std::string("shift:4, rotate:15, tint:0.2"))
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(augment_cat_images, shift, std::string("shift:4"))->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(augment_cat_images, rotate, std::string("rotate:15"))->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(augment_cat_images, tint, std::string("tint:0.2"))->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
