#include "felis/tensor/thread_pool.h"

#include "felis/error.h"

#include <spdlog/fmt/fmt.h>

#include <cassert>
#include <system_error>

namespace felis {

void validate_thread_count(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw UsageError(fmt::format("--threads {} is outside 1 to {}; use at most the number of "
                                 "cores",
                                 threads, kMaxThreads));
  }
}

ThreadPool::ThreadPool(int threads) {
  assert(threads >= 1);
  try {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
  } catch (const std::system_error& e) {
    stop();
    throw Error(fmt::format("cannot start {} threads: {}; use fewer --threads", threads, e.what()));
  }
}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void ThreadPool::run_tasks(int64_t count, TaskRef task) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    for (int64_t i = 0; i < count; ++i) task.call(task.callable, i);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    task_ = task;
    task_count_ = count;
    next_task_ = 0;
    finished_tasks_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  drain();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return finished_tasks_ == task_count_; });
  task_ = {};
}

// Takes tasks of the current run until none is left.
void ThreadPool::drain() {
  std::unique_lock lock(mutex_);
  while (task_.callable != nullptr && next_task_ < task_count_) {
    const int64_t i = next_task_++;
    const TaskRef task = task_;
    lock.unlock();
    task.call(task.callable, i);
    lock.lock();
    if (++finished_tasks_ == task_count_) done_.notify_all();
  }
}

void ThreadPool::work_loop() {
  uint64_t seen_generation = 0;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_;
    }
    drain();
  }
}

}  // namespace felis
