#include "felis/augment/pipeline.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace felis {

namespace {

struct Argument {
  const char* name;
  double default_value;
  double min;
  double max;
  bool integer = false;
  bool min_excluded = false;  // the range is (min, max] instead of [min, max]
};

struct TransformInfo {
  AugmentKind kind;
  const char* name;
  std::vector<Argument> arguments;
  const char* description;
  double default_probability = 1.0;
  bool has_border = false;
  bool has_fill = false;
};

const std::vector<TransformInfo>& transform_table() {
  static const std::vector<TransformInfo> table = {
      {AugmentKind::shift, "shift", {{"pixels", 3, 0, 1024, true}},
       "moves by whole pixels, dx and dy each in [-pixels, pixels]", 1.0, true},
      {AugmentKind::rotate, "rotate", {{"degrees", 15, 0, 180}},
       "rotates about the centre by an angle in [-degrees, degrees]", 1.0, true},
      {AugmentKind::scale, "scale", {{"amount", 0.1, 0, 0.9}},
       "zooms about the centre by a factor in [1 - amount, 1 + amount]", 1.0, true},
      {AugmentKind::crop, "crop", {{"fraction", 0.8, 0, 1, false, true}},
       "crops a random rectangle whose sides are a fraction in [fraction, 1] of the image's, "
       "resized back",
       1.0},
      {AugmentKind::hflip, "hflip", {}, "mirrors left to right", 0.5},
      {AugmentKind::vflip, "vflip", {}, "mirrors top to bottom", 0.5},
      {AugmentKind::shear, "shear", {{"degrees", 10, 0, 60}},
       "shears horizontally by an angle in [-degrees, degrees]", 1.0, true},
      {AugmentKind::elastic, "elastic", {{"alpha", 34, 0, 1000}, {"sigma", 4, 0, 100, false, true}},
       "elastic distortion: random displacements smoothed by a Gaussian of sigma pixels, "
       "scaled by alpha pixels",
       1.0, true},
      {AugmentKind::tint, "tint", {{"amount", 0.2, 0, 1}},
       "multiplies each channel by its own gain in [1 - amount, 1 + amount]"},
      {AugmentKind::brightness, "brightness", {{"amount", 0.2, 0, 1}},
       "adds an offset in [-amount, amount] times 255 to every value"},
      {AugmentKind::contrast, "contrast", {{"amount", 0.3, 0, 1}},
       "scales the distance from the image's mean by a factor in [1 - amount, 1 + amount]"},
      {AugmentKind::saturation, "saturation", {{"amount", 0.3, 0, 1}},
       "scales the distance from gray by a factor in [1 - amount, 1 + amount]; RGB only"},
      {AugmentKind::hue, "hue", {{"degrees", 10, 0, 180}},
       "rotates the hue by an angle in [-degrees, degrees]; RGB only"},
      {AugmentKind::gamma, "gamma", {{"amount", 0.3, 0, 4}},
       "applies a gamma between 1 / (1 + amount) and 1 + amount, log-uniform"},
      {AugmentKind::noise, "noise", {{"sigma", 8, 0, 255}},
       "adds normal noise of mean 0 and standard deviation sigma levels (of 255)"},
      {AugmentKind::blur, "blur", {{"sigma", 1, 0, 20}},
       "Gaussian blur of a standard deviation in [0, sigma] pixels"},
      {AugmentKind::cutout, "cutout", {{"size", 8, 0, 4096, true}},
       "fills a size x size square at a random centre with the fill value", 1.0, false, true},
  };
  return table;
}

const TransformInfo& info(AugmentKind kind) {
  for (const auto& entry : transform_table()) {
    if (entry.kind == kind) return entry;
  }
  throw std::logic_error("augment kind missing from the transform table");
}

std::string transform_names() {
  std::string names;
  for (const auto& entry : transform_table()) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  return names;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The whole of `text` as a finite number, or nullopt.
std::optional<double> parse_number(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string range_text(const Argument& argument) {
  return fmt::format("{} {}{:g}, {:g}]", argument.integer ? "an integer in" : "a number in",
                     argument.min_excluded ? "(" : "[", argument.min, argument.max);
}

double parse_argument(const std::string& step, const std::string& text, const Argument& argument) {
  auto value = parse_number(text);
  if (value) *value += 0.0;  // -0 becomes 0, so the canonical spec never shows "-0"
  const bool in_range = value && (argument.min_excluded ? *value > argument.min : *value >= argument.min) &&
                        *value <= argument.max && (!argument.integer || std::floor(*value) == *value);
  if (!in_range) {
    throw UsageError(fmt::format("augment step '{}': {} '{}' must be {}", step, argument.name, text,
                                 range_text(argument)));
  }
  return *value;
}

// Applies `key=value` to the step, or throws naming the settings this transform takes.
void parse_setting(const std::string& step, const std::string& setting, const TransformInfo& entry,
                   AugmentStep& out) {
  const auto equals = setting.find('=');
  const std::string key = setting.substr(0, equals);
  const std::string value = equals == std::string::npos ? "" : setting.substr(equals + 1);
  if (key == "p") {
    const auto p = parse_number(value);
    if (!p || *p < 0 || *p > 1) {
      throw UsageError(fmt::format("augment step '{}': probability '{}' must be a number in [0, 1]",
                                   step, value));
    }
    out.probability = *p + 0.0;
  } else if (key == "border" && entry.has_border) {
    try {
      out.border = border_from_string(value);
    } catch (const UsageError& error) {
      throw UsageError(fmt::format("augment step '{}': {}", step, error.what()));
    }
  } else if (key == "fill" && entry.has_fill) {
    out.fill = static_cast<int>(parse_argument(step, value, {"fill", 0, 0, 255, true}));
  } else {
    throw UsageError(fmt::format("augment step '{}': unknown setting '{}'; {} takes p=PROBABILITY{}{}",
                                 step, setting, entry.name,
                                 entry.has_border ? " and border=reflect|constant|replicate" : "",
                                 entry.has_fill ? " and fill=0..255" : ""));
  }
}

AugmentStep parse_step(const std::string& step) {
  const auto fields = split(step, ':');
  const std::string name = trim(fields[0]);
  const TransformInfo* entry = nullptr;
  for (const auto& candidate : transform_table()) {
    if (name == candidate.name) entry = &candidate;
  }
  if (entry == nullptr) {
    throw UsageError(fmt::format("augment step '{}': unknown transform '{}'; valid transforms: {}",
                                 step, name, transform_names()));
  }

  AugmentStep out;
  out.kind = entry->kind;
  out.probability = entry->default_probability;
  size_t positional = 0;
  std::vector<std::string> keys;
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string field = trim(fields[i]);
    if (field.find('=') != std::string::npos) {
      const std::string key = field.substr(0, field.find('='));
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        throw UsageError(fmt::format("augment step '{}' sets {}= twice; keep one", step, key));
      }
      keys.push_back(key);
      parse_setting(step, field, *entry, out);
    } else if (positional < entry->arguments.size()) {
      out.arguments.push_back(parse_argument(step, field, entry->arguments[positional++]));
    } else {
      throw UsageError(fmt::format("augment step '{}': {} takes {} argument{}, got '{}' too", step,
                                   entry->name, entry->arguments.size(),
                                   entry->arguments.size() == 1 ? "" : "s", field));
    }
  }
  for (size_t i = positional; i < entry->arguments.size(); ++i) {
    out.arguments.push_back(entry->arguments[i].default_value);
  }
  return out;
}

}  // namespace

const std::vector<AugmentHelp>& augment_transforms() {
  static const std::vector<AugmentHelp> help = [] {
    std::vector<AugmentHelp> lines;
    for (const auto& entry : transform_table()) {
      std::string usage = entry.name;
      for (const auto& argument : entry.arguments) {
        usage += fmt::format("[:{}={:g}]", argument.name, argument.default_value);
      }
      lines.push_back({entry.name, usage, entry.description});
    }
    return lines;
  }();
  return help;
}

Pipeline Pipeline::parse(const std::string& spec) {
  for (size_t i = 0; i < spec.size(); ++i) {
    const auto c = static_cast<unsigned char>(spec[i]);
    if (c < 0x20 && c != '\t') {
      throw UsageError(fmt::format("augment spec has a control character (code {}) at position {}; "
                                   "write the steps on one line, separated by commas",
                                   static_cast<int>(c), i));
    }
  }
  Pipeline pipeline;
  if (trim(spec).empty() || trim(spec) == "none") return pipeline;
  for (const auto& part : split(spec, ',')) {
    const std::string step = trim(part);
    if (step.empty()) {
      throw UsageError(fmt::format("augment spec '{}' has an empty step; separate steps by single "
                                   "commas, e.g. shift:4, rotate:15",
                                   spec));
    }
    pipeline.steps_.push_back(parse_step(step));
  }
  return pipeline;
}

std::string Pipeline::spec() const {
  if (steps_.empty()) return "none";
  std::string text;
  for (const auto& step : steps_) {
    const TransformInfo& entry = info(step.kind);
    if (!text.empty()) text += ", ";
    text += entry.name;
    // "{}" prints the shortest text that reads back as the same double.
    for (double argument : step.arguments) text += fmt::format(":{}", argument);
    if (step.probability != entry.default_probability) text += fmt::format(":p={}", step.probability);
    if (entry.has_border && step.border != Border::reflect) text += ":border=" + to_string(step.border);
    if (entry.has_fill && step.fill != 0) text += fmt::format(":fill={}", step.fill);
  }
  return text;
}

void Pipeline::check(const ImageShape& shape) const {
  const int64_t side = std::min(shape.height, shape.width);
  const int64_t larger_side = std::max(shape.height, shape.width);
  bool color_only = false;
  for (const auto& step : steps_) {
    const bool warps = info(step.kind).has_border && step.kind != AugmentKind::shift;
    if (warps && larger_side > kMaxWarpSide) {
      throw UsageError(fmt::format("augment step '{}' warps the image, which OpenCV does for sides "
                                   "up to {} pixels, but the images are {}x{}; use shift, crop "
                                   "or the color steps, or smaller images",
                                   info(step.kind).name, kMaxWarpSide, shape.height, shape.width));
    }
    const bool sized = step.kind == AugmentKind::shift || step.kind == AugmentKind::cutout;
    if (sized && step.arguments[0] >= static_cast<double>(side)) {
      throw UsageError(fmt::format("augment step '{}:{:g}' needs fewer pixels than the images' "
                                   "smaller side, {}",
                                   info(step.kind).name, step.arguments[0], side));
    }
    color_only |= step.kind == AugmentKind::saturation || step.kind == AugmentKind::hue;
  }
  if (color_only && shape.channels == 1) {
    spdlog::warn("the images are gray, so the saturation and hue steps of '{}' change nothing",
                 spec());
  }
}

}  // namespace felis
