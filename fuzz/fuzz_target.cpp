// One libFuzzer target: the harness named by FELIS_FUZZ_HARNESS (fuzz/CMakeLists.txt).
#include "harness.h"

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace {

felis::fuzz::Harness::Run find_harness() {
  for (const auto& harness : felis::fuzz::harnesses()) {
    if (std::strcmp(harness.name, FELIS_FUZZ_HARNESS) == 0) return harness.run;
  }
  std::cerr << "error: no fuzz harness named " << FELIS_FUZZ_HARNESS << "\n";
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const felis::fuzz::Harness::Run run = find_harness();
  run(data, size);
  return 0;
}
