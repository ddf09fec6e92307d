// Stopping OpenBLAS's idle worker threads in a process that loads it.
#include "felis/tensor/blas_threads.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <thread>

namespace felis {
namespace {

std::ptrdiff_t thread_count() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return std::distance(begin(tasks), end(tasks));
}

TEST(BlasThreads, StopsOpenBlasWorkers) {
  const auto cores = static_cast<std::ptrdiff_t>(std::thread::hardware_concurrency());
  if (cores < 2 || std::getenv("OPENBLAS_NUM_THREADS") != nullptr) {
    GTEST_SKIP() << "OpenBLAS starts workers only with 2 or more cores and no OPENBLAS_NUM_THREADS";
  }
  // Loading it starts one worker per core but the first, unless OpenCV's LAPACK has
  // already loaded it as the system BLAS.
  if (dlopen("libopenblas.so.0", RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    GTEST_SKIP() << "libopenblas.so.0 is missing; install Debian's libopenblas0-pthread to run this test";
  }
  const auto before = thread_count();
  ASSERT_TRUE(stop_blas_threads());
  EXPECT_EQ(thread_count(), before - (cores - 1));

  // A second call finds no workers left and leaves the other threads alone.
  EXPECT_TRUE(stop_blas_threads());
  EXPECT_EQ(thread_count(), before - (cores - 1));
}

}  // namespace
}  // namespace felis
