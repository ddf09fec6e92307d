// The training loop: gradient descent on the full training set (the course's loop) or
// on shuffled mini-batches (SGD), with an optional L2 penalty.
#pragma once

#include "felis/augment/pipeline.h"
#include "felis/data/dataset.h"
#include "felis/error.h"
#include "felis/nn/model.h"
#include "felis/nn/optimizer.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace felis {

struct TrainOptions {
  int64_t iterations = 0;   // gradient steps; when 0, `epochs` sets the length
  int64_t epochs = 0;       // passes over the training set; used when iterations is 0
  int64_t batch_size = 0;   // images per step; 0 means the whole training set
  double learning_rate = 0.005;
  double learning_rate_decay = 1.0;  // factor applied to the rate every decay_every epochs
  int64_t decay_every = 1;           // epochs between decays: 1 is exponential, more is steps
  OptimizerKind optimizer = OptimizerKind::sgd;
  double momentum = 0.9;   // momentum's beta, Adam's beta1
  double beta2 = 0.999;    // RMSprop's and Adam's
  double epsilon = 1e-8;   // RMSprop's and Adam's
  double clip_norm = 0.0;  // clip the global gradient norm to this; 0 never clips
  double l2 = 0.0;          // lambda of the penalty lambda / (2 m) * sum W^2
  uint64_t seed = 1;        // seeds the mini-batch shuffle and the augmentation
  // Augmentation applied afresh to the images of every step, with the step's epoch and
  // each image's index. In full-batch runs every iteration counts as an epoch. Empty: none.
  Pipeline augment = {};
  int64_t cost_every = 100; // record the cost every this many iterations; 0 records none
  int64_t score_every = 1;  // score SGD runs every this many epochs, and after the last
  bool score_train = true;  // score the training split too, not only the test split
  int threads = 1;
  // Lets full-batch plain descent of a network that opens with a dense layer run on the
  // Gram matrix of the training images, when they are far fewer than the pixels (see
  // span_descent.h). Off: always on the pixels.
  bool allow_gram = true;
};

// The cost at an iteration: the full training set's cost before that iteration's step
// in full-batch runs, or the mean mini-batch cost since the previous record in SGD runs.
struct CostRecord {
  int64_t iteration = 0;
  double cost = 0.0;
};

// One line per epoch of an SGD run.
struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  int64_t epochs = 0;
  double loss = 0.0;  // mean mini-batch cost over the epoch
  std::optional<double> train_accuracy;  // unless TrainOptions::score_train is false
  std::optional<double> test_accuracy;
  double learning_rate = 0.0;  // the rate used during this epoch
  double images_per_second = 0.0;  // training steps only, without the scoring
  double elapsed_seconds = 0.0;    // since training started, scoring included
};

struct TrainResult {
  std::vector<CostRecord> costs;
  std::vector<EpochRecord> epochs;
  int64_t iterations = 0;  // steps done, a resumed run's earlier steps included
  bool gram = false;  // trained on the Gram matrix of the training images
  double train_seconds = 0.0;  // the loop alone, without loading data or per-epoch scoring
  bool interrupted = false;    // TrainCallbacks::should_stop ended the run early
};

// Everything a run needs, besides the model's weights, to continue from a step boundary
// as if it had never stopped: written to checkpoints, passed back to train() to resume.
struct TrainState {
  int64_t step = 0;            // steps done
  double learning_rate = 0.0;  // the optimizer's rate, after the decays so far
  int64_t optimizer_steps = 0; // Adam's step count t
  double first_cost = 0.0;     // the first step's cost, for the divergence check
  double cost_sum = 0.0;       // mini-batch costs since the last cost record
  int64_t cost_terms = 0;
  double epoch_cost_sum = 0.0; // mini-batch costs since the epoch began
  double train_seconds = 0.0;  // training time so far
  std::vector<CostRecord> costs;
  std::vector<EpochRecord> epochs;
  // The optimizer's tensors ("first_moment/0", ...), as float64 whatever the precision.
  std::vector<std::pair<std::string, std::vector<double>>> optimizer;
  std::vector<std::string> generators;  // each layer's Layer::generator_state()
};

// Progress of a run after one step, for progress displays.
struct StepRecord {
  int64_t step = 0;   // steps done, from 1
  int64_t steps = 0;  // steps in the whole run
  int64_t epoch = 0;  // 1-based epoch of this step
  int64_t epochs = 0;
  double loss = 0.0;  // mean mini-batch cost so far in this epoch
  double images_per_second = 0.0;
  double elapsed_seconds = 0.0;  // training steps only
};

struct TrainCallbacks {
  std::function<void(const CostRecord&)> on_cost;
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void(const StepRecord&)> on_step;
  // Called with the state after every checkpoint_every epochs, after the last step, and
  // when should_stop() ends a run, while the model has that state's weights: the callee
  // captures the checkpoint there. When set, training stays on the pixels: the Gram path
  // keeps its weights outside the model.
  std::function<void(const TrainState&)> on_checkpoint;
  // Called when the checkpoint last captured is known to be good, so that it may replace
  // the one before. That is once the next step's cost and gradients have passed the
  // divergence checks, or at once after the last step or a stop. A run that diverges after
  // a capture never commits it, and the last good checkpoint stays.
  std::function<void()> commit_checkpoint;
  int64_t checkpoint_every = 1;  // epochs; each full-batch iteration counts as one
  // Polled after every step; true ends the run there with TrainResult::interrupted set.
  std::function<bool()> should_stop;
};

// A run's cost stops counting as converging once it exceeds this multiple of its first
// step's cost: the trainer then stops with a DivergenceError.
inline constexpr double kDivergenceFactor = 100.0;

// Thrown when the cost or a gradient becomes NaN or infinite, or the cost grows past
// kDivergenceFactor times its first value. The model's weights are then unusable.
class DivergenceError : public Error {
public:
  using Error::Error;
};

// Trains `model` on `train`, reporting each recorded cost and each finished SGD epoch
// (scored on `test` too when given). Requires options validated by validate(), and a
// data set whose images fit the model. Throws DivergenceError when the cost diverges.
// With `resume`, continues the run that wrote that state from its step; the model must
// hold the weights saved with it. Throws felis::Error when the state does not fit the
// model or the options (another optimizer, other shapes).
TrainResult train(Model& model, const Dataset& train, const Dataset* test,
                  const TrainOptions& options, const TrainCallbacks& callbacks = {},
                  const TrainState* resume = nullptr);

// Throws felis::UsageError naming the first invalid option and its valid range.
void validate(const TrainOptions& options);

}  // namespace felis
