#include "felis/nn/model_spec.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace felis {

const std::vector<std::pair<std::string, std::string>>& model_presets() {
  static const std::vector<std::pair<std::string, std::string>> presets = {
      {"logreg", "binary logistic regression: flatten, dense 1, sigmoid (2 classes)"},
      {"softmax", "softmax regression: flatten, dense K, softmax"},
      {"course-2layer", "the course's two-layer network: dense 7, ReLU, dense out"},
      {"course-4layer", "the course's L-layer network: dense 20, 7, 5 with ReLU, dense out"},
      {"mlp", "two hidden layers: dense 128, ReLU, dense 64, ReLU, dense out"},
      {"hier3", "3x3 convolutions and 2x2 pooling, repeated until a 3x3 grid feeds dense out"},
      {"hier4", "4x4 convolutions of stride 4, repeated until a grid of 1 to 3 feeds dense out"},
      {"cnn", "conv 32 3x3 (padding 1), ReLU, max pool 2, conv 64 3x3 (padding 1), ReLU, "
              "max pool 2, dense 128, ReLU, dense out"},
  };
  return presets;
}

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\n");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(trim(part));
  return parts;
}

// "logreg, softmax, ..., cnn", from model_presets().
std::string preset_names() {
  std::vector<std::string> names;
  for (const auto& preset : model_presets()) names.push_back(preset.first);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string shape_text(const Shape& shape) { return fmt::format("({})", fmt::join(shape, ", ")); }

// The spec string of a preset. `out` is 1 for binary outputs, else the class count.
std::string preset_text(const std::string& name, const Shape& input, int64_t classes) {
  const int64_t out = classes == 2 ? 1 : classes;
  if (name == "logreg") {
    if (classes != 2) {
      throw UsageError(fmt::format("logreg is binary but the data set has {} classes; "
                                   "use --model softmax",
                                   classes));
    }
    return "flatten, dense:1";
  }
  if (name == "softmax") return fmt::format("flatten, dense:{}", classes);
  if (name == "course-2layer") return fmt::format("flatten, dense:7, relu, dense:{}", out);
  if (name == "course-4layer") {
    return fmt::format("flatten, dense:20, relu, dense:7, relu, dense:5, relu, dense:{}", out);
  }
  if (name == "mlp") return fmt::format("flatten, dense:128, relu, dense:64, relu, dense:{}", out);
  if (name == "cnn") {
    return fmt::format("conv:32:3:p=1, relu, maxpool:2, conv:64:3:p=1, relu, maxpool:2, "
                       "flatten, dense:128, relu, dense:{}",
                       out);
  }
  int64_t side = std::min(input[1], input[2]);
  int64_t channels = 16;
  std::string text;
  if (name == "hier3") {
    // Each step reads 3x3 neighbourhoods of the grid below, then halves the grid.
    for (; side >= 6; side /= 2, channels = std::min<int64_t>(channels * 2, 64)) {
      text += fmt::format("conv:{}:3:p=1, relu, maxpool:2, ", channels);
    }
    if (side > 3) text += fmt::format("conv:{}:3:p=1, relu, maxpool:{}:s=1, ", channels, side - 2);
    return text + fmt::format("flatten, dense:{}", out);
  }
  if (name == "hier4") {
    // Each step merges 4x4 blocks of the grid below into one cell.
    for (; side >= 4; side = (side - 4) / 4 + 1, channels = std::min<int64_t>(channels * 2, 64)) {
      text += fmt::format("conv:{}:4:s=4, relu, ", channels);
    }
    return text + fmt::format("flatten, dense:{}", out);
  }
  return "";
}

int64_t parse_int(const std::string& text, const std::string& token, int64_t low, int64_t high) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw UsageError(fmt::format("model spec token '{}': '{}' must be an integer from {} to {}",
                                 token, text, low, high));
  }
  return value;
}

double parse_fraction(const std::string& text, const std::string& token, double low, double high) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && value >= low && value < high) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("model spec token '{}': '{}' must be a number in [{}, {})", token,
                               text, low, high));
}

// Parses one token into a layer config and advances `shape`, one sample's shape.
nlohmann::json parse_layer(const std::string& token, size_t index, Shape& shape) {
  std::vector<std::string> parts = split(token, ':');
  const std::string type = parts[0];
  std::vector<std::string> positional;
  int64_t stride = 0;
  int64_t padding = 0;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].rfind("s=", 0) == 0) {
      stride = parse_int(parts[i].substr(2), token, 1, 64);
    } else if (parts[i].rfind("p=", 0) == 0) {
      padding = parse_int(parts[i].substr(2), token, 0, 64);
    } else {
      positional.push_back(parts[i]);
    }
  }
  auto expect_arguments = [&](size_t low, size_t high) {
    if (positional.size() < low || positional.size() > high) {
      throw UsageError(fmt::format("model spec token '{}' has {} arguments; expected {} to {}",
                                   token, positional.size(), low, high));
    }
  };
  auto layer_name = [&] { return fmt::format("layer {} ({})", index + 1, token); };
  auto require_image = [&] {
    if (shape.size() != 3) {
      throw UsageError(fmt::format("{} needs a (C, H, W) input but gets {}", layer_name(),
                                   shape_text(shape)));
    }
  };
  auto output_side = [&](int64_t side, int64_t kernel, int64_t step, int64_t pad) {
    const int64_t result = (side + 2 * pad - kernel) / step + 1;
    if (side + 2 * pad < kernel || result < 1) {
      throw UsageError(fmt::format("{} gets {}, too small for a {}x{} kernel; remove a pooling "
                                   "or convolution layer before it",
                                   layer_name(), shape_text(shape), kernel, kernel));
    }
    return result;
  };

  if (type == "dense") {
    expect_arguments(1, 1);
    if (shape.size() != 1) {
      throw UsageError(fmt::format("{} gets {}; put flatten before it", layer_name(),
                                   shape_text(shape)));
    }
    const int64_t units = parse_int(positional[0], token, 1, 1 << 20);
    nlohmann::json config = {{"type", "dense"}, {"inputs", shape[0]}, {"units", units}};
    shape = {units};
    return config;
  }
  if (type == "conv") {
    expect_arguments(2, 2);
    require_image();
    const int64_t filters = parse_int(positional[0], token, 1, 4096);
    const int64_t kernel = parse_int(positional[1], token, 1, 64);
    const int64_t step = stride == 0 ? 1 : stride;
    nlohmann::json config = {{"type", "conv2d"}, {"in_channels", shape[0]},
                             {"out_channels", filters}, {"kernel", kernel},
                             {"stride", step}, {"padding", padding}};
    shape = {filters, output_side(shape[1], kernel, step, padding),
             output_side(shape[2], kernel, step, padding)};
    return config;
  }
  if (type == "maxpool" || type == "avgpool") {
    expect_arguments(1, 1);
    require_image();
    const int64_t kernel = parse_int(positional[0], token, 1, 64);
    const int64_t step = stride == 0 ? kernel : stride;
    nlohmann::json config = {{"type", type}, {"kernel", kernel}, {"stride", step}};
    shape = {shape[0], output_side(shape[1], kernel, step, 0), output_side(shape[2], kernel, step, 0)};
    return config;
  }
  if (type == "flatten") {
    expect_arguments(0, 0);
    if (shape.size() == 1) throw UsageError(fmt::format("{}: the input is already flat", layer_name()));
    shape = {element_count(shape)};
    return {{"type", "flatten"}};
  }
  if (type == "relu" || type == "tanh" || type == "sigmoid" || type == "softmax") {
    expect_arguments(0, 0);
    return {{"type", type}};
  }
  if (type == "leaky_relu") {
    expect_arguments(0, 1);
    const double alpha = positional.empty() ? 0.01 : parse_fraction(positional[0], token, 0, 1);
    return {{"type", "leaky_relu"}, {"alpha", alpha}};
  }
  if (type == "dropout") {
    expect_arguments(1, 1);
    return {{"type", "dropout"}, {"rate", parse_fraction(positional[0], token, 0, 1)}};
  }
  if (type == "batchnorm") {
    expect_arguments(0, 0);
    return {{"type", "batchnorm"}, {"features", shape[0]}, {"momentum", 0.9}, {"epsilon", 1e-5}};
  }
  throw UsageError(fmt::format("unknown layer '{}' in the model spec; use dense, conv, maxpool, "
                               "avgpool, flatten, relu, leaky_relu, tanh, sigmoid, softmax, "
                               "dropout or batchnorm, or a preset: {}",
                               type, preset_names()));
}

}  // namespace

ModelSpec resolve_model_spec(const std::string& preset_or_spec, const Shape& input_shape,
                             int64_t classes) {
  ModelSpec spec;
  const std::string preset = preset_text(preset_or_spec, input_shape, classes);
  spec.name = preset.empty() ? "custom" : preset_or_spec;
  spec.text = preset.empty() ? preset_or_spec : preset;

  std::vector<std::string> tokens = split(spec.text, ',');
  // A trailing sigmoid or softmax names the output; the loss applies it.
  std::string stated_output;
  if (!tokens.empty() && (tokens.back() == "sigmoid" || tokens.back() == "softmax")) {
    stated_output = tokens.back();
    tokens.pop_back();
  }
  if (tokens.empty() || tokens.back().rfind("dense", 0) != 0) {
    throw UsageError(fmt::format("model spec '{}' must end with a dense layer of 1 unit (2 "
                                 "classes) or {} units; or use a preset: {}",
                                 preset_or_spec, classes, preset_names()));
  }
  Shape shape = input_shape;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) throw UsageError(fmt::format("model spec '{}' has an empty layer", spec.text));
    spec.layers.push_back(parse_layer(tokens[i], i, shape));
  }
  const int64_t units = shape[0];
  if (units == 1 && classes == 2) {
    spec.output = OutputKind::sigmoid;
  } else if (units == classes) {
    spec.output = OutputKind::softmax;
  } else {
    throw UsageError(fmt::format("the last dense layer has {} units, but the data set has {} "
                                 "classes; use 1 unit for 2 classes or one per class",
                                 units, classes));
  }
  if (!stated_output.empty() && stated_output != to_string(spec.output)) {
    throw UsageError(fmt::format("model spec ends with {} but {} units need a {} output",
                                 stated_output, units, to_string(spec.output)));
  }
  return spec;
}

}  // namespace felis
