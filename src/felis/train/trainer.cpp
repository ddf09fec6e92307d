#include "felis/train/trainer.h"

#include "felis/augment/augment_dataset.h"
#include "felis/data/batch.h"
#include "felis/nn/optimizer.h"
#include "felis/train/evaluate.h"
#include "felis/train/span_descent.h"
#include "felis/train/train_state.h"

#include <spdlog/fmt/fmt.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace felis {

void validate(const TrainOptions& options) {
  if (!std::isfinite(options.learning_rate) || options.learning_rate <= 0) {
    throw UsageError(fmt::format("learning rate {} is not a positive finite number; "
                                 "try 0.005 for logreg",
                                 options.learning_rate));
  }
  if (!std::isfinite(options.learning_rate_decay) || options.learning_rate_decay <= 0 ||
      options.learning_rate_decay > 1) {
    throw UsageError(fmt::format("learning-rate decay {} must be in (0, 1]; 1 keeps the rate",
                                 options.learning_rate_decay));
  }
  if (options.decay_every < 1) {
    throw UsageError(fmt::format("learning-rate decay interval {} must be at least 1 epoch",
                                 options.decay_every));
  }
  if (!(options.momentum >= 0 && options.momentum < 1) || !(options.beta2 >= 0 && options.beta2 < 1)) {
    throw UsageError(fmt::format("momentum {} and beta2 {} must lie in [0, 1)", options.momentum,
                                 options.beta2));
  }
  if (!(options.epsilon > 0 && std::isfinite(options.epsilon))) {
    throw UsageError(fmt::format("epsilon {} must be a positive finite number", options.epsilon));
  }
  if (!(options.clip_norm >= 0 && std::isfinite(options.clip_norm))) {
    throw UsageError(fmt::format("gradient clipping norm {} must be a finite number >= 0; 0 "
                                 "turns clipping off",
                                 options.clip_norm));
  }
  if (!std::isfinite(options.l2) || options.l2 < 0) {
    throw UsageError(fmt::format("L2 strength {} must be a finite number >= 0", options.l2));
  }
  if (options.iterations < 0 || options.epochs < 0 || options.batch_size < 0) {
    throw UsageError("iterations, epochs and batch size must not be negative");
  }
  if (options.iterations == 0 && options.epochs == 0) {
    throw UsageError("set --iterations or --epochs to a positive number");
  }
  if (options.score_every < 1) {
    throw UsageError(fmt::format("scoring interval {} must be at least 1 epoch", options.score_every));
  }
  validate_thread_count(options.threads);
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Fisher-Yates with unbiased bounded draws, so the order depends only on the seed.
void shuffle(std::vector<int64_t>& indices, std::mt19937_64& rng) {
  for (size_t i = indices.size(); i > 1; --i) {
    const uint64_t bound = i;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t draw = rng();
    while (draw >= limit) draw = rng();
    std::swap(indices[i - 1], indices[draw % bound]);
  }
}


template <typename T>
double accuracy(Network<T>& network, const Dataset& data, ThreadPool& pool,
                std::span<const int32_t> permutation) {
  const auto predicted = predicted_classes(predict_probabilities(network, data, pool, permutation));
  return score(data.labels, predicted, data.class_count()).accuracy;
}

// Throws DivergenceError when the cost is NaN or infinite, or past kDivergenceFactor
// times the first step's cost.
void check_cost(double cost, double first_cost, int64_t step, const TrainOptions& options) {
  const std::string smaller = fmt::format(
      "try a learning rate {} times smaller, {}{}", std::isfinite(cost) ? 10 : 100,
      options.learning_rate / (std::isfinite(cost) ? 10 : 100),
      options.l2 > 0 ? ", or a smaller --l2" : "");
  if (!std::isfinite(cost)) {
    throw DivergenceError(fmt::format(
        "the cost became {} at iteration {} with learning rate {}{}; no model was written; {}",
        std::isnan(cost) ? "NaN" : "infinite", step, options.learning_rate,
        options.l2 > 0 ? fmt::format(" and L2 {}", options.l2) : "", smaller));
  }
  if (step > 0 && cost > kDivergenceFactor * first_cost) {
    throw DivergenceError(fmt::format(
        "the cost grew from {:.6g} to {:.6g}, past {} times its first value, at iteration {} "
        "with learning rate {}; no model was written; {}",
        first_cost, cost, kDivergenceFactor, step, options.learning_rate, smaller));
  }
}

template <typename T>
TrainResult train_network(Network<T>& network, std::span<const int32_t> permutation,
                          const Dataset& train, const Dataset* test, const TrainOptions& options,
                          const TrainCallbacks& callbacks, const TrainState* resume) {
  // Data: the whole set converted once for full-batch runs without augmentation, else a
  // batch made for every step.
  const int64_t n = train.count;
  const int64_t batch = options.batch_size == 0 ? n : std::min(options.batch_size, n);
  const int64_t steps_per_epoch = chunk_count(n, batch);
  const int64_t total_steps =
      options.iterations > 0 ? options.iterations : options.epochs * steps_per_epoch;
  const bool full_batch = batch == n;
  const bool augment = !options.augment.empty();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  ThreadPool pool(options.threads);
  Tensor<T> x;
  Tensor<T> dlogits;
  std::vector<int32_t> labels;
  Dataset augmented;  // the step's augmented images
  std::vector<int64_t> augmented_order;
  // Model and optimizer.
  const PassContext context{.pool = &pool, .training = true};
  const auto parameters = network.parameters();
  auto optimizer = make_optimizer<T>({.kind = options.optimizer,
                                      .learning_rate = options.learning_rate,
                                      .momentum = options.momentum,
                                      .beta2 = options.beta2,
                                      .epsilon = options.epsilon});

  // A resumed run restores the state and replays the shuffles of the epochs before it.
  TrainState state;
  if (resume != nullptr) {
    if (resume->step > total_steps) {
      throw UsageError(fmt::format("the checkpoint is at step {}, past this run's {} steps; "
                                   "give more --epochs or --iterations",
                                   resume->step, total_steps));
    }
    restore_state(*resume, network, *optimizer, parameters);
    state = *resume;
    const int64_t shuffled_epochs = chunk_count(state.step, steps_per_epoch);
    for (int64_t epoch = 0; !full_batch && epoch < shuffled_epochs; ++epoch) shuffle(order, rng);
  }

  TrainResult result;
  result.costs = state.costs;
  result.epochs = state.epochs;
  const auto start = Clock::now();
  // Full-batch plain descent of a network that opens with a dense layer runs on the Gram
  // matrix of the images when there are far fewer images than pixels (span_descent.h).
  const bool gram_allowed = options.allow_gram && !callbacks.on_checkpoint && resume == nullptr;
  const int span_layer = gram_allowed ? span_descent_layer(network, train, options) : -1;
  std::optional<SpanDescent<T>> span;
  if (span_layer >= 0) {
    span.emplace(network, span_layer, train, permutation, pool);
    labels = train.labels;
  } else if (full_batch && !augment) {
    make_batch(train, order, x, labels, permutation);
  }

  double scoring_seconds = 0.0;
  // The time of the run's earlier part, when resumed. state.train_seconds changes at every
  // checkpoint, so adding it to the time since start would count the run twice.
  const double earlier_seconds = state.train_seconds;
  auto training_seconds = [&] { return earlier_seconds + seconds_since(start) - scoring_seconds; };
  auto check_weights = [&](int64_t steps_done) {
    if (parameters_finite(parameters)) return;
    throw DivergenceError(fmt::format(
        "the weights became NaN or infinite by iteration {} with learning rate {}; no model "
        "was written; try a learning rate 100 times smaller, {}",
        steps_done, options.learning_rate, options.learning_rate / 100));
  };
  bool checkpoint_pending = false;
  auto checkpoint = [&](int64_t steps_done) {
    if (!callbacks.on_checkpoint) return;
    check_weights(steps_done);
    state.step = steps_done;
    state.costs = result.costs;
    state.epochs = result.epochs;
    state.train_seconds = training_seconds();
    capture_state(network, *optimizer, parameters, state);
    callbacks.on_checkpoint(state);
    checkpoint_pending = true;
  };
  auto commit_checkpoint = [&] {
    if (checkpoint_pending && callbacks.commit_checkpoint) callbacks.commit_checkpoint();
    checkpoint_pending = false;
  };
  for (int64_t step = state.step; step < total_steps; ++step) {
    const int64_t position = step % steps_per_epoch;
    if (position == 0 && step > 0 && (step / steps_per_epoch) % options.decay_every == 0) {
      optimizer->set_learning_rate(optimizer->learning_rate() * options.learning_rate_decay);
    }
    if (!full_batch && position == 0) shuffle(order, rng);
    if (!full_batch || augment) {
      const int64_t first = position * batch;
      const auto indices = std::span(order).subspan(first, std::min(batch, n - first));
      if (augment) {
        const int64_t epoch = full_batch ? step : step / steps_per_epoch;
        augment_images(train, indices, options.augment, options.seed, epoch, pool, augmented);
        augmented_order.resize(indices.size());
        std::iota(augmented_order.begin(), augmented_order.end(), 0);
        make_batch(augmented, augmented_order, x, labels, permutation);
      } else {
        make_batch(train, indices, x, labels, permutation);
      }
    }

    // Forward, loss, backward, penalty, checks, step.
    double cost = 0.0;
    if (span) {
      cost = span->forward_backward(labels);
    } else {
      const Tensor<T>& logits = network.forward(x, context);
      cost = cross_entropy(network.output(), logits, labels, &dlogits);
      network.backward(dlogits, context);
      cost += apply_l2_penalty(parameters, options.l2, x.rows());
    }
    if (step == 0) state.first_cost = cost;
    check_cost(cost, state.first_cost, step, options);
    if (!span) check_finite_gradients(parameters, step, options.learning_rate);
    // The weights in a pending checkpoint gave this step a sound cost and gradient.
    commit_checkpoint();
    if (span) {
      span->step(optimizer->learning_rate());
    } else {
      clip_gradient_norm(parameters, options.clip_norm);
      optimizer->step(parameters);
    }

    // Records: the cost every cost_every steps, and a line per epoch of an SGD run.
    state.cost_sum += cost;
    ++state.cost_terms;
    state.epoch_cost_sum += cost;
    if (callbacks.on_step) {
      const double seconds = training_seconds();
      callbacks.on_step({.step = step + 1,
                         .steps = total_steps,
                         .epoch = step / steps_per_epoch + 1,
                         .epochs = chunk_count(total_steps, steps_per_epoch),
                         .loss = state.epoch_cost_sum / static_cast<double>(position + 1),
                         .images_per_second = static_cast<double>((step + 1) * batch) /
                                              std::max(seconds, 1e-9),
                         .elapsed_seconds = seconds});
    }
    if (options.cost_every > 0 && step % options.cost_every == 0) {
      const CostRecord record{step, full_batch ? cost : state.cost_sum / state.cost_terms};
      result.costs.push_back(record);
      if (callbacks.on_cost) callbacks.on_cost(record);
      state.cost_sum = 0.0;
      state.cost_terms = 0;
    }
    const bool last_step = step == total_steps - 1;
    const bool epoch_end = position == steps_per_epoch - 1;
    const int64_t epoch_number = step / steps_per_epoch + 1;
    if (!full_batch && (epoch_end || last_step) &&
        (epoch_number % options.score_every == 0 || last_step)) {
      EpochRecord epoch;
      epoch.epoch = epoch_number;
      epoch.epochs = chunk_count(total_steps, steps_per_epoch);
      epoch.loss = state.epoch_cost_sum / static_cast<double>(position + 1);
      epoch.learning_rate = optimizer->learning_rate();
      const double seconds = training_seconds();
      epoch.images_per_second =
          static_cast<double>(std::min((step + 1) * batch, epoch.epoch * n)) /
          std::max(seconds, 1e-9);
      const auto scoring_start = Clock::now();
      if (options.score_train) epoch.train_accuracy = accuracy(network, train, pool, permutation);
      if (test != nullptr) epoch.test_accuracy = accuracy(network, *test, pool, permutation);
      scoring_seconds += seconds_since(scoring_start);
      epoch.elapsed_seconds = earlier_seconds + seconds_since(start);
      result.epochs.push_back(epoch);
      if (callbacks.on_epoch) callbacks.on_epoch(epoch);
    }
    if (epoch_end) state.epoch_cost_sum = 0.0;  // every full-batch step is an epoch of its own

    // Checkpoints, and a requested stop.
    if (last_step || (epoch_end && epoch_number % callbacks.checkpoint_every == 0)) {
      checkpoint(step + 1);
    }
    if (!last_step && callbacks.should_stop && callbacks.should_stop()) {
      if (!(epoch_end && epoch_number % callbacks.checkpoint_every == 0)) checkpoint(step + 1);
      commit_checkpoint();
      result.interrupted = true;
      result.iterations = step + 1;
      result.train_seconds = training_seconds();
      return result;
    }
  }
  if (span) span->finish();
  // The last step's update is checked here, since no later cost would show it.
  check_weights(total_steps);
  commit_checkpoint();
  result.iterations = total_steps;
  result.gram = span.has_value();
  result.train_seconds = training_seconds();
  return result;
}

}  // namespace

TrainResult train(Model& model, const Dataset& train, const Dataset* test,
                  const TrainOptions& options, const TrainCallbacks& callbacks,
                  const TrainState* resume) {
  validate(options);
  check_compatible(model, train);
  if (test != nullptr) check_compatible(model, *test);
  options.augment.check({.height = train.height, .width = train.width, .channels = train.channels});
  const auto lock = model.lock_passes();
  return model.visit([&](auto& network) {
    return train_network(network, model.input_permutation, train, test, options, callbacks,
                         resume);
  });
}

}  // namespace felis
