// ThreadPool: runs numbered tasks on a fixed set of threads.
//
// Callers split work into tasks whose boundaries do not depend on the thread count and
// combine per-task results in task order, so results are bit-identical with 1 or many
// threads. The pool adds no reduction of its own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace felis {

class ThreadPool {
public:
  // `threads` counts the calling thread, so 1 runs everything inline. Requires threads >= 1.
  // Throws felis::Error, with no thread left running, when the system cannot start them.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls task(i) for every i in [0, count) and returns when all have finished.
  // Not reentrant: a task must not call run() on the same pool, and must not throw.
  // Takes the callable by reference, unlike a std::function, which allocates for a
  // lambda with more than two captures, so a training step allocates nothing here.
  template <typename Task>
  void run(int64_t count, const Task& task) {
    run_tasks(count, TaskRef{.callable = &task, .call = [](const void* callable, int64_t i) {
                               (*static_cast<const Task*>(callable))(i);
                             }});
  }

private:
  // A callable and the function that calls it with a task number.
  struct TaskRef {
    const void* callable = nullptr;
    void (*call)(const void* callable, int64_t i) = nullptr;
  };

  void run_tasks(int64_t count, TaskRef task);
  void work_loop();
  void drain();
  void stop();  // wakes and joins every worker, then clears the list

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  TaskRef task_;  // the current run's task; callable is null between runs
  int64_t task_count_ = 0;
  int64_t next_task_ = 0;
  int64_t finished_tasks_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

// The largest thread count the command line accepts.
inline constexpr int kMaxThreads = 256;

// Throws felis::UsageError unless 1 <= threads <= kMaxThreads.
void validate_thread_count(int threads);

// The number of chunks of `chunk` items, the last possibly shorter, that cover `total`.
inline int64_t chunk_count(int64_t total, int64_t chunk) { return (total + chunk - 1) / chunk; }

}  // namespace felis
