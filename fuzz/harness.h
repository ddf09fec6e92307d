// The fuzz harnesses, shared by the libFuzzer targets and by the test that replays the
// inputs kept in fuzz/regressions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace felis::fuzz {

struct Harness {
  const char* name;  // the target is fuzz_<name>; its kept inputs are in fuzz/regressions/<name>
  using Run = void (*)(const uint8_t* data, size_t size);
  Run run;
};

// Every harness, in the order fuzz/run runs them.
const std::vector<Harness>& harnesses();

}  // namespace felis::fuzz
