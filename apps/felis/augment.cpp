// felis augment: expand a data set offline with augmented copies, or preview a spec.
#include "commands.h"
#include "paths.h"

#include "felis/augment/augment_dataset.h"
#include "felis/augment/preview.h"
#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/dataset_file.h"

#include <spdlog/fmt/fmt.h>

#include <filesystem>
#include <memory>
#include <optional>

namespace felis::cli {

namespace {

struct AugmentArguments {
  std::string data;
  std::string augment;
  std::optional<int64_t> copies;
  std::optional<std::string> out;
  std::optional<std::string> preview;
  int64_t rows = 8;
  int64_t columns = 7;
  int64_t seed = 1;
  int threads = default_threads();
};

void check_arguments(const AugmentArguments& args) {
  if (args.copies && !args.out) throw UsageError("--copies needs --out FILE.h5 to write them to");
  if (!args.out && !args.preview) {
    throw UsageError("give --out FILE.h5 with --copies K to write a data set, or --preview "
                     "FILE.png to draw a grid, or both");
  }
  if (args.out && !args.copies) throw UsageError("--out needs --copies K, the copies of each image");
  if (args.copies && *args.copies < 1) {
    throw UsageError(fmt::format("--copies {} must be at least 1", *args.copies));
  }
  if (args.rows < 1 || args.rows > 64) {
    throw UsageError(fmt::format("--rows {} is invalid; use 1 to 64 images", args.rows));
  }
  if (args.columns < 1 || args.columns > 64) {
    throw UsageError(fmt::format("--columns {} is invalid; use 1 to 64 copies", args.columns));
  }
  if (args.seed < 0 || args.seed > UINT32_MAX) {
    throw UsageError(fmt::format("--seed {} is outside 0 to 4294967295", args.seed));
  }
  if (args.out) {
    check_output_path(*args.out, "--out");
    check_not_input(*args.out, "--out", args.data);
  }
  if (args.preview) {
    check_output_path(*args.preview, "--preview");
    check_not_input(*args.preview, "--preview", args.data);
    if (std::filesystem::path(*args.preview).extension() != ".png") {
      throw UsageError(fmt::format("--preview {} must end in .png; the grid is a PNG image",
                                   *args.preview));
    }
  }
  if (args.out && args.preview) check_distinct_outputs(*args.out, "--out", *args.preview, "--preview");
  validate_thread_count(args.threads);
}

void run_augment(const AugmentArguments& args) {
  check_arguments(args);
  const Pipeline pipeline = Pipeline::parse(args.augment);
  const auto seed = static_cast<uint64_t>(args.seed);

  const DataSplits data = load_data(args.data);
  const Dataset& train = data.train;
  // expand_dataset checks the pipeline itself; one check keeps its warning to one line.
  if (!args.out) pipeline.check({.height = train.height, .width = train.width, .channels = train.channels});
  fmt::print("augmentation: {}, seed {}\n", pipeline.spec(), seed);

  // Every output is built in memory first, then written, so a failure leaves none behind.
  std::optional<AtomicFile> data_file;
  std::optional<AtomicFile> preview_file;
  if (args.out) {
    ThreadPool pool(args.threads);
    const Dataset expanded = expand_dataset(train, pipeline, *args.copies, seed, pool);
    std::error_code ignored;
    const std::map<std::string, std::string> attributes = {
        {"felis_augmentation", pipeline.spec()},
        {"felis_source", std::filesystem::weakly_canonical(args.data, ignored).string()}};
    const std::map<std::string, int64_t> numbers = {{"felis_augmentation_seed", args.seed},
                                                    {"felis_copies", *args.copies}};
    data_file.emplace(*args.out);
    data_file->write(
        dataset_file_bytes(expanded, data.test ? &*data.test : nullptr, attributes, numbers));
    fmt::print("train split: {} images, the {} original{} then {} augmented cop{}; test split: {}\n",
               expanded.count, train.count, train.count == 1 ? "" : "s", *args.copies,
               *args.copies == 1 ? "y" : "ies",
               data.test ? fmt::format("{} images, unchanged", data.test->count) : "none");
  }
  if (args.preview) {
    const Image grid = preview_grid(
        train, pipeline, {.rows = args.rows, .copies = args.columns, .seed = seed});
    preview_file.emplace(*args.preview);
    preview_file->write(encode_png(grid.pixels.data(), grid.shape));
  }

  if (data_file) {
    data_file->commit();
    fmt::print("data set written to {}\n", *args.out);
  }
  if (preview_file) {
    preview_file->commit();
    const int64_t rows = std::min(args.rows, train.count);
    fmt::print("preview written to {}: {} image{}, each original followed by {} augmented cop{}\n",
               *args.preview, rows, rows == 1 ? "" : "s", args.columns, args.columns == 1 ? "y" : "ies");
  }
}

}  // namespace

Command add_augment(CLI::App& app) {
  auto args = std::make_shared<AugmentArguments>();
  CLI::App* sub = app.add_subcommand(
      "augment", "Write a data set with augmented copies of each training image, or preview a spec");
  sub->add_option("--data", args->data, "Data set, as for felis train")->required();
  sub->add_option("--augment", args->augment,
                  "Augmentation spec, e.g. 'shift:4, rotate:15:p=0.5, tint:0.2' (docs/augment.md)")
      ->required();
  sub->add_option("--copies", args->copies, "Augmented copies of each training image, after the originals");
  sub->add_option("--out", args->out,
                  "Write the expanded training split, and the test split unchanged, to this "
                  "HDF5 file in the course's layout");
  sub->add_option("--preview", args->preview,
                  "Draw a PNG grid of originals (left) beside augmented copies");
  sub->add_option("--rows", args->rows, "Images in the preview, 1 to 64")->capture_default_str();
  sub->add_option("--columns", args->columns, "Augmented copies per image in the preview, 1 to 64")
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the augmentation")->capture_default_str();
  sub->add_option("--threads", args->threads, "Threads to use (default: all hardware threads)");
  return [args] {
    run_augment(*args);
    return 0;
  };
}

}  // namespace felis::cli
