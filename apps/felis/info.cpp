// felis info: what a data set, model file or image contains.
#include "commands.h"

#include "felis/data/image.h"
#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/model_file.h"

#include <spdlog/fmt/fmt.h>

#include <filesystem>
#include <fstream>
#include <memory>

namespace felis::cli {

namespace {

void print_split(const std::string& name, const Dataset& set) {
  fmt::print("{} split: {} images of {}x{}x{} (H x W x C) uint8 from {}\n", name, set.count,
             set.height, set.width, set.channels, set.source);
  const auto counts = class_counts(set);
  for (size_t c = 0; c < set.class_names.size(); ++c) {
    fmt::print("  class {} {:<12} {} images\n", c, set.class_names[c], counts[c]);
  }
}

void print_model(const std::string& path) {
  Model model = load_model(path);
  const Shape& input = model.input_shape();
  fmt::print("{}: felis model '{}', {} parameters in {}\n", path, model.name(),
             model.parameter_count(), to_string(model.precision()));
  fmt::print("input: {}x{}x{} (H x W x C) images, pixels / 255{}\n", input[1], input[2], input[0],
             model.input_permutation.empty() ? "" : ", pixel positions permuted");
  fmt::print("classes: {}\n", fmt::join(model.class_names(), ", "));
  fmt::print("architecture: {}\n", model.architecture().dump());
  if (model.training.contains("augment") && model.training["augment"].is_string()) {
    fmt::print("augmentation: {}\n", model.training["augment"].get<std::string>());
  }
  if (!model.training.is_null()) fmt::print("training: {}\n", model.training.dump());
}

bool looks_like_image(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char head[4] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const bool png = head[0] == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G';
  const bool jpeg = head[0] == 0xFF && head[1] == 0xD8;
  const bool bmp = head[0] == 'B' && head[1] == 'M';
  return png || jpeg || bmp;
}

void run_info(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    throw Error(fmt::format("{}: no such file or directory", path));
  }
  if (std::filesystem::is_regular_file(path) && is_model_file(path)) return print_model(path);
  if (std::filesystem::is_regular_file(path) && looks_like_image(path)) {
    const LoadedImage image = load_image(path, {.height = 0, .width = 0, .channels = 0});
    const ImageShape& s = image.source_shape;
    const std::string color = s.channels == 1 ? "gray" : "RGB";
    fmt::print("{}: image {}x{} (W x H), {}{}, {}-bit\n", path, s.width, s.height, color,
               image.had_alpha ? " with alpha" : "", image.was_16bit ? 16 : 8);
    return;
  }
  const DataSplits data = load_data(path);
  print_split("train", data.train);
  if (data.test) print_split("test", *data.test);
}

}  // namespace

Command add_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("info", "Show what a data set, model file or image contains");
  sub->add_option("path", *path, "Data set directory or file, model file, or image")->required();
  return [path] {
    run_info(*path);
    return 0;
  };
}

}  // namespace felis::cli
