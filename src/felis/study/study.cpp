#include "felis/study/study.h"

#include "felis/augment/pipeline.h"
#include "felis/error.h"
#include "felis/io/atomic_file.h"
#include "felis/io/model_file.h"
#include "felis/data/pixel_permutation.h"
#include "felis/study/separability.h"
#include "felis/train/defaults.h"
#include "felis/train/evaluate.h"
#include "felis/train/trainer.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

namespace felis {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

ImageShape shape_of(const Dataset& data) {
  return {.height = data.height, .width = data.width, .channels = data.channels};
}

nlohmann::json options_json(const TrainOptions& options) {
  return {{"iterations", options.iterations},
          {"epochs", options.epochs},
          {"batch_size", options.batch_size},
          {"learning_rate", options.learning_rate},
          {"learning_rate_decay", options.learning_rate_decay},
          {"optimizer", to_string(options.optimizer)},
          {"seed", options.seed},
          {"augment", options.augment.spec()}};
}

// FNV-1a over `bytes`, continuing from `hash`: enough to notice a changed or damaged
// file, not to resist one crafted to collide.
uint64_t fnv1a(const void* data, size_t size, uint64_t hash = 14695981039346656037ull) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  return hash;
}

std::string hex(uint64_t value) { return fmt::format("{:016x}", value); }

// The digest of the images and labels of both splits, so that a data set changed in
// place trains again.
std::string data_digest(const DataSplits& data) {
  uint64_t hash = 14695981039346656037ull;
  for (const Dataset* split : {&data.train, &*data.test}) {
    hash = fnv1a(split->pixels.data(), split->pixels.size(), hash);
    hash = fnv1a(split->labels.data(), split->labels.size() * sizeof(split->labels[0]), hash);
  }
  return hex(hash);
}

// The digest of the file at `path`, or nullopt when it is not a regular readable file.
std::optional<std::string> file_digest(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return hex(fnv1a(bytes.data(), bytes.size()));
}

// What a finished run depends on; a stored run is reused only when its key is equal.
nlohmann::json run_key(const StudyRun& run, const Dataset& train, const Dataset& test,
                       const std::string& data_path, const std::string& digest,
                       const TrainOptions& options) {
  std::error_code ignored;
  return {{"data", fs::weakly_canonical(data_path, ignored).string()},
          {"data_digest", digest},
          {"train_count", train.count},
          {"test_count", test.count},
          {"shape", {train.height, train.width, train.channels}},
          {"model", run.model},
          {"augmentation", run.augmentation},
          {"permuted", run.permuted},
          {"train_fraction", run.train_fraction},
          {"precision", default_precision(run.model)},
          {"options", options_json(options)}};
}

ProbeResult probe_from_json(const nlohmann::json& value) {
  ProbeResult result;
  result.perturbation = perturbation_from_string(value.at("perturbation").get<std::string>());
  for (const auto& point : value.at("points")) {
    result.points.push_back({.magnitude = point.at("magnitude"),
                             .variants = point.at("variants"),
                             .accuracy = point.at("accuracy"),
                             .accuracy_min = point.at("accuracy_min"),
                             .accuracy_max = point.at("accuracy_max"),
                             .flip_rate = point.at("flip_rate")});
  }
  return result;
}

// The stored record of `run` when DIR/runs/<id>.json exists with the same key and the
// model file beside it still has the digest recorded when it was written.
std::optional<RunRecord> stored_run(const fs::path& file, const fs::path& model_file,
                                    const nlohmann::json& key) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) return std::nullopt;  // a FIFO would block
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const auto value = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.contains("key") || value["key"] != key) return std::nullopt;
  const auto digest = file_digest(model_file);
  if (!digest || !value.contains("model_digest") || value["model_digest"] != *digest) {
    return std::nullopt;  // a missing or damaged model is trained again
  }
  try {
    RunRecord record;
    record.run = {.model = value.at("model"),
                  .augmentation = value.at("augmentation"),
                  .seed = value.at("seed"),
                  .permuted = value.at("permuted"),
                  .train_fraction = value.at("train_fraction")};
    record.augment_spec = value.at("augment_spec");
    record.train_accuracy = value.at("train_accuracy");
    record.test_accuracy = value.at("test_accuracy");
    record.train_seconds = value.at("train_seconds");
    for (const auto& probe : value.at("probes")) record.probes.push_back(probe_from_json(probe));
    record.details = value.at("details");
    record.reused = true;
    return record;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged record is trained again
  }
}

// The images at `indices` of `data`, in that order.
Dataset subset(const Dataset& data, const std::vector<int64_t>& indices) {
  Dataset out = data;
  out.count = static_cast<int64_t>(indices.size());
  out.pixels.clear();
  out.labels.clear();
  for (int64_t i : indices) {
    out.pixels.insert(out.pixels.end(), data.image(i), data.image(i) + data.image_size());
    out.labels.push_back(data.labels[static_cast<size_t>(i)]);
  }
  return out;
}

RunRecord train_run(const StudyRun& run, const DataSplits& data, const TrainOptions& options,
                    const TrainCallbacks& callbacks, const nlohmann::json& key,
                    const fs::path& model_file, ThreadPool& pool) {
  Dataset fraction_set;
  if (run.train_fraction < 1.0) {
    std::mt19937_64 rng(run.seed);
    const auto count = std::max<int64_t>(
        1, std::llround(run.train_fraction * static_cast<double>(data.train.count)));
    fraction_set = subset(data.train, subsample_indices(data.train.count, count, rng));
  }
  const Dataset& train_set = run.train_fraction < 1.0 ? fraction_set : data.train;
  const Dataset& test_set = *data.test;
  Model model = build_model({.preset = run.model,
                             .precision = precision_from_string(default_precision(run.model)),
                             .seed = run.seed},
                            {train_set.channels, train_set.height, train_set.width},
                            train_set.class_names);
  if (run.permuted) {
    model.input_permutation = pixel_permutation(run.seed, train_set.height * train_set.width);
  }
  const TrainResult result = train(model, train_set, &test_set, options, callbacks);

  RunRecord record;
  record.run = run;
  record.augment_spec = options.augment.spec();
  record.train_seconds = result.train_seconds;
  const auto train_predicted = predicted_classes(predict_probabilities(model, train_set, pool));
  record.train_accuracy = score(train_set.labels, train_predicted, train_set.class_count()).accuracy;
  const auto test_metrics = score(test_set.labels,
                                  predicted_classes(predict_probabilities(model, test_set, pool)),
                                  test_set.class_count());
  record.test_accuracy = test_metrics.accuracy;
  for (const auto& [perturbation, magnitudes] : study_probes(shape_of(test_set))) {
    record.probes.push_back(probe(model, test_set, perturbation, magnitudes, run.seed, pool));
  }

  nlohmann::json curves = nlohmann::json::array();
  for (const auto& e : result.epochs) {
    curves.push_back({{"epoch", e.epoch},
                      {"loss", e.loss},
                      {"train_accuracy", e.train_accuracy.value_or(std::nan(""))},
                      {"test_accuracy", e.test_accuracy.value_or(std::nan(""))}});
  }
  nlohmann::json costs = nlohmann::json::array();
  for (const auto& c : result.costs) costs.push_back({{"iteration", c.iteration}, {"cost", c.cost}});
  record.details = {{"epoch_curves", curves},
                    {"costs", costs},
                    {"test_metrics", to_json(test_metrics, test_set.class_names)},
                    {"parameters", model.parameter_count()}};

  model.training = key;
  const std::vector<char> bytes = model_file_bytes(model);
  record.model_digest = hex(fnv1a(bytes.data(), bytes.size()));
  AtomicFile file(model_file);
  file.write(bytes);
  file.commit();
  return record;
}

}  // namespace

const std::vector<std::string>& study_augmentation_names() {
  static const std::vector<std::string> names = {"none", "shift", "rotate", "tint", "all"};
  return names;
}

std::string study_augmentation_spec(const std::string& name, const ImageShape& shape) {
  const int64_t side = std::min(shape.height, shape.width);
  const auto pixels = std::max<int64_t>(1, std::llround(static_cast<double>(side) / 16.0));
  // Objects on a black background, as in Fashion-MNIST, need black borders, not mirrors.
  const std::string border = shape.channels == 1 ? ":border=constant" : "";
  const std::string shift = fmt::format("shift:{}{}", pixels, border);
  const std::string rotate = fmt::format("rotate:15{}", border);
  const std::string tint = "tint:0.2";
  if (name == "none") return "none";
  if (name == "shift") return shift;
  if (name == "rotate") return rotate;
  if (name == "tint") return tint;
  if (name == "all") return shift + ", " + rotate + ", " + tint;
  throw UsageError(fmt::format("unknown study augmentation '{}'; use none, shift, rotate, tint "
                               "or all",
                               name));
}

std::vector<std::string> default_study_models(int64_t classes) {
  if (classes == 2) return {"logreg", "course-4layer", "hier3", "cnn"};
  return {"softmax", "mlp", "hier3", "cnn"};
}

std::string StudyRun::id() const {
  std::string id = fmt::format("{}-{}-s{}", model, augmentation, seed);
  if (permuted) id += "-permuted";
  if (train_fraction < 1.0) id += fmt::format("-f{}", std::llround(100 * train_fraction));
  return id;
}

std::vector<std::pair<Perturbation, std::vector<double>>> study_probes(const ImageShape& shape) {
  std::vector<double> shifts;
  for (double k : {0.0, 1.0, 2.0, 4.0, 8.0}) {
    if (k < static_cast<double>(std::min(shape.height, shape.width))) shifts.push_back(k);
  }
  return {{Perturbation::shift, shifts},
          {Perturbation::rotate, {0, 5, 10, 20, 30}},
          {Perturbation::tint, {0, 0.1, 0.2, 0.4}},
          {Perturbation::brightness, {0, 0.1, 0.2, 0.3}}};
}

namespace {

// The run's record: stored in DIR/runs by an earlier study with the same key, or trained now
// and stored.
RunRecord obtain_run(const StudyRun& run, const DataSplits& data, const std::string& data_path,
                     const StudyOptions& options, ThreadPool& pool,
                     const std::function<void(const StepRecord&)>& on_step) {
  TrainOptions train_options = default_train_options(
      run.model, std::llround(run.train_fraction * static_cast<double>(data.train.count)));
  train_options.seed = run.seed;
  train_options.threads = 1;  // the study trains several runs at once instead
  train_options.cost_every = 100;
  // About ten points of each learning curve; scoring every epoch would cost a third more.
  train_options.score_every = std::max<int64_t>(1, train_options.epochs / 10);
  train_options.score_train = false;  // the curves show test accuracy; train is scored once at the end
  train_options.augment =
      Pipeline::parse(study_augmentation_spec(run.augmentation, shape_of(data.train)));
  // Hashing a few megabytes per run costs milliseconds.
  const nlohmann::json key =
      run_key(run, data.train, *data.test, data_path, data_digest(data), train_options);
  const fs::path record_file = options.out / "runs" / (run.id() + ".json");
  const fs::path model_file = options.out / "runs" / (run.id() + ".h5");
  if (auto stored = stored_run(record_file, model_file, key)) return *stored;

  TrainCallbacks callbacks;
  callbacks.on_step = on_step;
  RunRecord record = train_run(run, data, train_options, callbacks, key, model_file, pool);
  nlohmann::json stored = to_json(record);
  stored["key"] = key;
  stored["model_digest"] = record.model_digest;
  write_json_file(record_file, stored);
  return record;
}

}  // namespace

namespace {

// Trains a list of runs on several threads and reports each to the study's callbacks,
// one call at a time.
class RunScheduler {
public:
  RunScheduler(const DataSplits& data, const std::string& data_path, const StudyOptions& options,
               StudyProgress& progress, Clock::time_point start)
      : data_(data), data_path_(data_path), options_(options), progress_(progress), start_(start) {}

  // The records of `runs`, in their order, and the sum of the runs' times (for a reused
  // run, its stored training time). Larger runs start first, so the small ones fill the
  // end: later models in `models` before earlier ones (the default list grows in cost),
  // whole training sets before fractions.
  std::vector<RunRecord> train_all(const std::vector<StudyRun>& runs,
                                   const std::vector<std::string>& models, double* wall_seconds) {
    records_.assign(runs.size(), RunRecord{});
    runs_ = &runs;
    order_.resize(runs.size());
    std::iota(order_.begin(), order_.end(), size_t{0});
    const auto rank = [&](const StudyRun& run) {
      return std::find(models.begin(), models.end(), run.model) - models.begin();
    };
    std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      const StudyRun& x = runs[a];
      const StudyRun& y = runs[b];
      if (rank(x) != rank(y)) return rank(x) > rank(y);
      return x.train_fraction > y.train_fraction;
    });
    next_ = 0;
    wall_seconds_ = 0.0;
    failure_ = nullptr;

    const int workers = static_cast<int>(
        std::min<int64_t>(options_.threads, static_cast<int64_t>(runs.size())));
    std::vector<std::thread> threads;
    for (int w = 1; w < workers; ++w) threads.emplace_back([this] { work(); });
    work();
    for (auto& thread : threads) thread.join();
    if (failure_) std::rethrow_exception(failure_);
    if (wall_seconds != nullptr) *wall_seconds = wall_seconds_;
    return std::move(records_);
  }

private:
  void work() {
    ThreadPool pool(1);
    for (;;) {
      size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        if (failure_ || next_ == order_.size()) return;
        index = order_[next_++];
        progress_.current.push_back((*runs_)[index].id());
        report_progress();
      }
      try {
        train_one(index, pool);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!failure_) failure_ = std::current_exception();
        return;
      }
    }
  }

  void train_one(size_t index, ThreadPool& pool) {
    const StudyRun& run = (*runs_)[index];
    const std::string id = run.id();
    const auto run_start = Clock::now();
    const auto on_step = [&](const StepRecord& step) {
      std::lock_guard lock(mutex_);
      if (options_.on_step) options_.on_step(id, step);
    };
    RunRecord record = obtain_run(run, data_, data_path_, options_, pool, on_step);
    std::lock_guard lock(mutex_);
    // A reused run took no time now, but the same run with the next seed will take about
    // as long as it did when it was trained.
    wall_seconds_ += record.reused ? record.train_seconds : seconds_since(run_start);
    std::erase(progress_.current, id);
    ++progress_.runs_done;
    if (options_.on_run) options_.on_run(record);
    records_[index] = std::move(record);
  }

  void report_progress() {
    progress_.elapsed_seconds = seconds_since(start_);
    if (options_.on_progress) options_.on_progress(progress_);
  }

  const DataSplits& data_;
  const std::string& data_path_;
  const StudyOptions& options_;
  StudyProgress& progress_;
  Clock::time_point start_;
  const std::vector<StudyRun>* runs_ = nullptr;
  std::vector<RunRecord> records_;
  std::vector<size_t> order_;
  size_t next_ = 0;
  double wall_seconds_ = 0.0;
  std::exception_ptr failure_;
  std::mutex mutex_;
};

// Seed 1 of the first model and of cnn, when studied, without augmentation: with pixels
// permuted, and on 25 % and 50 % of the training set.
std::vector<StudyRun> control_runs(const std::vector<std::string>& models) {
  std::vector<std::string> control_models = {models.front()};
  if (models.front() != "cnn" && std::find(models.begin(), models.end(), "cnn") != models.end()) {
    control_models.push_back("cnn");
  }
  std::vector<StudyRun> controls;
  for (const auto& model : control_models) {
    controls.push_back({.model = model, .augmentation = "none", .permuted = true});
    for (double fraction : {0.25, 0.5}) {
      controls.push_back({.model = model, .augmentation = "none", .train_fraction = fraction});
    }
  }
  return controls;
}

nlohmann::json separability_control(const Dataset& train) {
  nlohmann::json result;
  const int32_t positive = train.class_count() == 2 ? 1 : 0;
  for (const bool shuffle : {false, true}) {
    const auto found = test_separability(
        train, positive,
        {.max_images = kStudySeparabilityImages, .shuffle_labels = shuffle, .keep_certificate = false});
    result[shuffle ? "shuffled_labels" : "true_labels"] = to_json(found);
  }
  return result;
}

// The seeded subsample of `count` images of `data`, or all of it for 0.
Dataset subsample(const Dataset& data, int64_t count, uint64_t seed) {
  if (count == 0 || count >= data.count) return data;
  std::mt19937_64 rng(seed);
  return subset(data, subsample_indices(data.count, count, rng));
}

}  // namespace

DataSplits study_splits(const DataSplits& data, const StudyOptions& options) {
  if (!data.test) {
    throw UsageError(fmt::format("{} has no test split; a study scores every run on one",
                                 data.train.source));
  }
  if (options.train_images < 0 || options.test_images < 0) {
    throw UsageError(fmt::format("image counts {} and {} must not be negative; 0 uses them all",
                                 options.train_images, options.test_images));
  }
  DataSplits splits;
  splits.train = subsample(data.train, options.train_images, 1);
  splits.test = subsample(*data.test, options.test_images, 2);
  return splits;
}

StudyResults run_study(const DataSplits& all_data, const std::string& data_path,
                       const StudyOptions& options) {
  const DataSplits data = study_splits(all_data, options);
  const auto models = options.models.empty() ? default_study_models(data.train.class_count())
                                             : options.models;
  const auto augmentations =
      options.augmentations.empty() ? study_augmentation_names() : options.augmentations;
  if (options.seeds < 1) throw UsageError(fmt::format("--seeds {} must be at least 1", options.seeds));
  std::vector<std::pair<std::string, std::string>> cells;
  for (const auto& model : models) {
    // Fail on a model that cannot take these images or classes before any training.
    build_model({.preset = model, .precision = precision_from_string(default_precision(model))},
                {data.train.channels, data.train.height, data.train.width},
                data.train.class_names);
    for (const auto& augmentation : augmentations) {
      // Fail on an unknown name before any training.
      Pipeline::parse(study_augmentation_spec(augmentation, shape_of(data.train)))
          .check(shape_of(data.train));
      cells.emplace_back(model, augmentation);
    }
  }
  fs::create_directories(options.out / "runs");

  StudyResults results;
  results.seeds_requested = options.seeds;
  results.budget_seconds = options.budget_seconds;
  results.train_images = data.train.count;
  results.train_images_available = all_data.train.count;
  results.test_images = data.test->count;
  results.test_images_available = all_data.test->count;
  const auto start = Clock::now();
  results.separability = separability_control(data.train);

  StudyProgress progress;
  RunScheduler scheduler(data, data_path, options, progress, start);
  const auto controls = control_runs(models);
  double pass_seconds = 0.0;  // the threads' time for one seed of every cell
  for (int64_t seed = 1; seed <= options.seeds; ++seed) {
    // Another seed starts only when one more pass of the last one's length fits the budget.
    if (seed > 1 && options.budget_seconds > 0 &&
        seconds_since(start) + pass_seconds / options.threads > options.budget_seconds) {
      break;
    }
    std::vector<StudyRun> runs;
    for (const auto& [model, augmentation] : cells) {
      runs.push_back({.model = model, .augmentation = augmentation, .seed = static_cast<uint64_t>(seed)});
    }
    // The controls run with the first seed, so a study cut short by its budget has them.
    if (seed == 1) runs.insert(runs.end(), controls.begin(), controls.end());
    progress.runs_planned += static_cast<int64_t>(runs.size());
    double wall_seconds = 0.0;
    auto records = scheduler.train_all(runs, models, &wall_seconds);
    const auto cell_count = static_cast<std::ptrdiff_t>(cells.size());
    results.runs.insert(results.runs.end(), std::make_move_iterator(records.begin()),
                        std::make_move_iterator(records.begin() + cell_count));
    if (seed == 1) {
      results.control_runs.assign(std::make_move_iterator(records.begin() + cell_count),
                                  std::make_move_iterator(records.end()));
      // The controls hold about one run of each control model besides the pass.
      wall_seconds *= static_cast<double>(cells.size()) / static_cast<double>(runs.size());
    }
    pass_seconds = wall_seconds;
    results.seeds_completed = seed;
  }
  results.seconds = seconds_since(start);
  progress.current.clear();
  progress.elapsed_seconds = results.seconds;
  if (options.on_progress) options.on_progress(progress);
  return results;
}

nlohmann::json to_json(const RunRecord& record) {
  nlohmann::json probes = nlohmann::json::array();
  for (const auto& probe : record.probes) probes.push_back(to_json(probe));
  return {{"id", record.run.id()},
          {"model", record.run.model},
          {"augmentation", record.run.augmentation},
          {"permuted", record.run.permuted},
          {"train_fraction", record.run.train_fraction},
          {"seed", record.run.seed},
          {"augment_spec", record.augment_spec},
          {"train_accuracy", record.train_accuracy},
          {"test_accuracy", record.test_accuracy},
          {"train_seconds", record.train_seconds},
          {"reused", record.reused},
          {"probes", probes},
          {"details", record.details}};
}

nlohmann::json to_json(const StudyResults& results) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : results.runs) runs.push_back(to_json(run));
  nlohmann::json control_runs = nlohmann::json::array();
  for (const auto& run : results.control_runs) control_runs.push_back(to_json(run));
  return {{"separability", results.separability},
          {"control_runs", control_runs},
          {"seeds_completed", results.seeds_completed},
          {"seeds_requested", results.seeds_requested},
          {"budget_seconds", results.budget_seconds},
          {"train_images", results.train_images},
          {"train_images_available", results.train_images_available},
          {"test_images", results.test_images},
          {"test_images_available", results.test_images_available},
          {"seconds", results.seconds},
          {"runs", runs}};
}

}  // namespace felis
