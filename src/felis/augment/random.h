// SampleRandom: the random numbers of one augmented sample, from (seed, epoch, index, step)
// alone.
//
// A counter-based stream: the four numbers are hashed into a SplitMix64 state, so a
// sample's draws do not depend on which thread makes them, in which order, or how many
// samples came before. Normal draws use the Box-Muller transform rather than
// std::normal_distribution, whose output differs between standard libraries.
#pragma once

#include <cstdint>

namespace felis {

class SampleRandom {
public:
  // `step` is the transform's position in its pipeline, so two steps of one sample draw
  // independent numbers.
  SampleRandom(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t step);

  uint64_t next();                           // uniform over all 64-bit values
  double uniform();                          // uniform in [0, 1), 53 random bits
  double uniform(double low, double high);   // uniform in [low, high)
  int64_t integer(int64_t low, int64_t high);  // uniform in [low, high], both included
  bool bernoulli(double probability);        // true with the given probability
  double normal();                           // standard normal

private:
  uint64_t state_;
};

}  // namespace felis
