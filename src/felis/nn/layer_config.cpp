#include "felis/nn/layer_config.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

namespace felis {

void check_layer_config(const nlohmann::json& config, std::string_view type,
                        std::initializer_list<std::string_view> fields) {
  if (!config.is_object() || !config.contains("type") || config["type"] != type) {
    throw Error(fmt::format("invalid {} layer config {}; expected {{\"type\": \"{}\", ...}}",
                            type, config.dump().substr(0, 200), type));
  }
  for (const auto& [field, value] : config.items()) {
    if (field == "type") continue;
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
      throw Error(fmt::format("{} layer config has unknown field \"{}\"; remove it", type, field));
    }
  }
}

}  // namespace felis
