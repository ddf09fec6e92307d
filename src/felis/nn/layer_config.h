// Checks shared by the layers' from_config functions.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string_view>

namespace felis {

// Throws felis::Error unless `config` is an object with "type": `type` and no field outside
// "type" and `fields`, so that a misspelt field is not silently ignored. Whether a field
// is required is left to the caller.
void check_layer_config(const nlohmann::json& config, std::string_view type,
                        std::initializer_list<std::string_view> fields);

}  // namespace felis
