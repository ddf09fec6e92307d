#include "felis/train/checkpoint.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/bounded_json.h"
#include "felis/io/hdf5_handle.h"
#include "felis/io/model_file.h"

#include <spdlog/fmt/fmt.h>

namespace felis {

namespace fs = std::filesystem;
using hdf5::Handle;

namespace {

nlohmann::json records_json(const TrainState& state) {
  nlohmann::json costs = nlohmann::json::array();
  for (const auto& record : state.costs) costs.push_back({record.iteration, record.cost});
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& epoch : state.epochs) epochs.push_back(epoch_json(epoch));
  return {{"costs", costs}, {"epochs", epochs}};
}

// nlohmann::json writes doubles so that they read back bit for bit.
nlohmann::json state_json(const TrainState& state, const nlohmann::json& run) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& tensor : state.optimizer) names.push_back(tensor.first);
  nlohmann::json value = records_json(state);
  value.update({{"step", state.step},
                {"learning_rate", state.learning_rate},
                {"optimizer_steps", state.optimizer_steps},
                {"first_cost", state.first_cost},
                {"cost_sum", state.cost_sum},
                {"cost_terms", state.cost_terms},
                {"epoch_cost_sum", state.epoch_cost_sum},
                {"train_seconds", state.train_seconds},
                {"generators", state.generators},
                {"optimizer", names},
                {"run", run}});
  return value;
}

void write_dataset(hid_t group, const std::string& name, hid_t type, const void* data,
                   hsize_t count) {
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  const Handle properties = hdf5::untimed_creation(H5P_DATASET_CREATE);
  Handle dataset(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, properties.get(),
                            H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid() ||
      H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw Error(fmt::format("HDF5 failed to write checkpoint/{}", name));
  }
}

void write_state(hid_t file, const TrainState& state, const nlohmann::json& run) {
  const Handle properties = hdf5::untimed_creation(H5P_GROUP_CREATE);
  Handle group(H5Gcreate2(file, "checkpoint", H5P_DEFAULT, properties.get(), H5P_DEFAULT),
               H5Gclose);
  if (!group.valid()) throw Error("HDF5 failed to create group 'checkpoint'");
  const std::string text = state_json(state, run).dump();
  write_dataset(group.get(), "state", H5T_NATIVE_UINT8, text.data(), text.size());
  for (size_t k = 0; k < state.optimizer.size(); ++k) {
    const auto& values = state.optimizer[k].second;
    write_dataset(group.get(), fmt::format("optimizer_{}", k), H5T_NATIVE_DOUBLE, values.data(),
                  values.size());
  }
}

// Opens /checkpoint/<name>, a 1-D dataset of at most max_count elements.
Handle open_vector(hid_t file, const std::string& name, int64_t max_count, hsize_t& count) {
  const std::string path = "checkpoint/" + name;
  if (H5Lexists(file, "checkpoint", H5P_DEFAULT) <= 0 ||
      H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0) {
    throw Error(fmt::format("dataset {} is missing, so this is a model, not a checkpoint", path));
  }
  Handle dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  hdf5::require_internal_storage(dataset.get(), path);
  Handle space(dataset.valid() ? H5Dget_space(dataset.get()) : -1, H5Sclose);
  if (!space.valid() || H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw Error(fmt::format("dataset {} is not a 1-D array", path));
  }
  H5Sget_simple_extent_dims(space.get(), &count, nullptr);
  if (count > static_cast<hsize_t>(max_count)) {
    throw Error(fmt::format("dataset {} has {} elements, more than the {} it may have", path,
                            count, max_count));
  }
  return dataset;
}

template <typename V>
std::vector<V> read_vector(hid_t file, const std::string& name, hid_t type, int64_t max_count) {
  hsize_t count = 0;
  Handle dataset = open_vector(file, name, max_count, count);
  std::vector<V> values(static_cast<size_t>(count));
  if (count > 0 && H5Dread(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    throw Error(fmt::format("HDF5 failed to read checkpoint/{}", name));
  }
  return values;
}

std::vector<CostRecord> costs_from_json(const nlohmann::json& costs) {
  std::vector<CostRecord> records;
  for (const auto& pair : costs) records.push_back({pair.at(0).get<int64_t>(), pair.at(1).get<double>()});
  return records;
}

std::optional<double> optional_number(const nlohmann::json& value) {
  return value.is_null() ? std::nullopt : std::optional<double>(value.get<double>());
}

std::vector<EpochRecord> epochs_from_json(const nlohmann::json& epochs) {
  std::vector<EpochRecord> records;
  for (const auto& e : epochs) {
    records.push_back({.epoch = e.at("epoch").get<int64_t>(),
                       .epochs = e.at("epochs").get<int64_t>(),
                       .loss = e.at("loss").get<double>(),
                       .train_accuracy = optional_number(e.at("train_accuracy")),
                       .test_accuracy = optional_number(e.at("test_accuracy")),
                       .learning_rate = e.at("learning_rate").get<double>(),
                       .images_per_second = e.at("images_per_second").get<double>(),
                       .elapsed_seconds = e.at("elapsed_seconds").get<double>()});
  }
  return records;
}

// Reads /checkpoint into `state` and `run`, for a model of `parameters` parameters.
void read_state(hid_t file, uintmax_t file_bytes, int64_t parameters, TrainState& state,
                nlohmann::json& run) {
  const int64_t max_text = std::min<int64_t>(kMaxCheckpointStateBytes, static_cast<int64_t>(file_bytes));
  const auto bytes = read_vector<char>(file, "state", H5T_NATIVE_UINT8, max_text);
  const auto value = parse_bounded_json(std::string(bytes.begin(), bytes.end()), "checkpoint/state");
  if (value.is_discarded() || !value.is_object()) throw Error("checkpoint/state is not a JSON object");
  try {
    state.step = value.at("step").get<int64_t>();
    state.learning_rate = value.at("learning_rate").get<double>();
    state.optimizer_steps = value.at("optimizer_steps").get<int64_t>();
    state.first_cost = value.at("first_cost").get<double>();
    state.cost_sum = value.at("cost_sum").get<double>();
    state.cost_terms = value.at("cost_terms").get<int64_t>();
    state.epoch_cost_sum = value.at("epoch_cost_sum").get<double>();
    state.train_seconds = value.at("train_seconds").get<double>();
    state.costs = costs_from_json(value.at("costs"));
    state.epochs = epochs_from_json(value.at("epochs"));
    state.generators = value.at("generators").get<std::vector<std::string>>();
    const auto names = value.at("optimizer").get<std::vector<std::string>>();
    run = value.at("run");
    // Adam, the largest, keeps two tensors per parameter.
    int64_t budget = 2 * parameters;
    for (size_t k = 0; k < names.size(); ++k) {
      auto values = read_vector<double>(file, fmt::format("optimizer_{}", k), H5T_NATIVE_DOUBLE, budget);
      budget -= static_cast<int64_t>(values.size());
      state.optimizer.emplace_back(names[k], std::move(values));
    }
    if (state.step < 0 || state.cost_terms < 0 || state.optimizer_steps < 0) {
      throw Error("a step count in checkpoint/state is negative");
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("checkpoint/state is missing a field or has one of the wrong type "
                            "({})",
                            e.what()));
  }
}

}  // namespace

nlohmann::json epoch_json(const EpochRecord& epoch) {
  auto optional = [](const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  return {{"epoch", epoch.epoch},
          {"epochs", epoch.epochs},
          {"loss", epoch.loss},
          {"train_accuracy", optional(epoch.train_accuracy)},
          {"test_accuracy", optional(epoch.test_accuracy)},
          {"learning_rate", epoch.learning_rate},
          {"images_per_second", epoch.images_per_second},
          {"elapsed_seconds", epoch.elapsed_seconds}};
}

std::vector<char> checkpoint_file_bytes(Model& model, const TrainState& state,
                                        const nlohmann::json& run) {
  return model_file_bytes(model, [&](hid_t root) { write_state(root, state, run); });
}

void write_checkpoint(const std::vector<char>& bytes, const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error || !fs::is_directory(directory)) {
    throw Error(fmt::format("cannot create checkpoint directory {}: {}; give a writable "
                            "directory to --checkpoint",
                            directory.string(),
                            error ? error.message() : "a file of that name exists"));
  }
  AtomicFile file(directory / kCheckpointFile);
  file.write(bytes);
  file.commit();
}

void save_checkpoint(Model& model, const TrainState& state, const nlohmann::json& run,
                     const fs::path& directory) {
  write_checkpoint(checkpoint_file_bytes(model, state, run), directory);
}

Checkpoint load_checkpoint(const fs::path& directory) {
  const fs::path path = directory / kCheckpointFile;
  std::error_code error;
  if (!fs::exists(path, error)) {
    throw Error(fmt::format("{}: no checkpoint there; start the run with --checkpoint {} first, "
                            "or leave out --resume",
                            path.string(), directory.string()));
  }
  TrainState state;
  nlohmann::json run;
  Model model = load_model(path, [&](hid_t file, uintmax_t file_bytes, Model& loaded) {
    // The model is read by now, so its parameter count bounds the optimizer's tensors.
    read_state(file, file_bytes, loaded.parameter_count(), state, run);
  });
  return {.model = std::move(model), .state = std::move(state), .run = std::move(run)};
}

}  // namespace felis
