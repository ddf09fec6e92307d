#include "felis/tensor/blas_threads.h"

#include <dlfcn.h>

namespace felis {

bool stop_blas_threads() {
  // blas_thread_shutdown_ is what OpenBLAS itself calls before a fork. Other BLAS
  // libraries do not define it.
  using Shutdown = int (*)();
  auto shutdown = reinterpret_cast<Shutdown>(dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"));
  if (shutdown == nullptr) return false;
  shutdown();
  return true;
}

}  // namespace felis
