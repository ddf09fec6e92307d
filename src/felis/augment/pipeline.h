// Augmentation pipelines: a list of random transforms parsed from a spec string.
//
// A spec lists steps separated by commas, each a transform name, its positional
// arguments and optional key=value settings, separated by colons:
//   shift:4, rotate:15:p=0.5, tint:0.2:p=0.8
// Arguments are maximum magnitudes: a sample's value is drawn uniformly up to them, so
// rotate:15 turns by an angle in [-15, 15] degrees. An argument left out takes the
// default listed by augment_transforms(). Settings: p= the probability of applying the
// step (default 1, or 0.5 for the flips), border= reflect|constant|replicate for warps,
// fill= 0..255 for cutout. "none" or an empty spec is the empty pipeline.
// docs/augment.md documents every transform with examples.
#pragma once

#include "felis/augment/affine_warp.h"
#include "felis/augment/image_view.h"
#include "felis/augment/transform.h"

#include <string>
#include <vector>

namespace felis {

// Largest image side that the warping steps (rotate, scale, shear, elastic) accept,
// because OpenCV's warpAffine and remap take coordinates as 16-bit integers.
inline constexpr int64_t kMaxWarpSide = 32766;

enum class AugmentKind {
  shift, rotate, scale, crop, hflip, vflip, shear, elastic,
  tint, brightness, contrast, saturation, hue, gamma,
  noise, blur, cutout
};

struct AugmentStep {
  AugmentKind kind = AugmentKind::shift;
  std::vector<double> arguments = {};  // every positional argument, defaults filled in
  double probability = 1.0;
  Border border = Border::reflect;  // for shift, rotate, scale, shear, elastic
  int fill = 0;                     // for cutout
};

// One line of help per transform: its name, arguments with defaults, and what it draws.
struct AugmentHelp {
  std::string name;
  std::string usage;        // e.g. "rotate[:degrees=15]"
  std::string description;
};
const std::vector<AugmentHelp>& augment_transforms();

// Scratch memory that Pipeline::apply reuses from one image to the next, so that augmenting
// many images of one shape allocates only for the first. One per thread.
struct AugmentBuffers {
  std::vector<uint8_t> front;  // (H, W, C) images between steps
  std::vector<uint8_t> back;
  detail::WarpBuffers warp;
};

class Pipeline {
public:
  Pipeline() = default;  // the empty pipeline, which changes nothing

  // Parses a spec string. Throws felis::UsageError naming the step and the fix for an
  // unknown transform (listing the valid ones), an unknown setting, or an argument out
  // of its range.
  static Pipeline parse(const std::string& spec);

  bool empty() const { return steps_.empty(); }
  const std::vector<AugmentStep>& steps() const { return steps_; }
  // The canonical spec with every argument written out; parse(spec()) gives this pipeline.
  std::string spec() const;

  // Throws felis::UsageError when a step cannot apply to images of `shape`, such as a
  // shift or cutout at least as large as the image. Logs one warning when the images are
  // gray and the pipeline has saturation or hue steps, which then do nothing.
  void check(const ImageShape& shape) const;

  // The image augmented for sample `index` in epoch `epoch` of a run seeded by `seed`.
  // Step i draws from SampleRandom(seed, epoch, index, i) alone: first whether it
  // applies, then its parameters. Requires check() to have accepted the image's shape.
  Image apply(const Image& image, uint64_t seed, int64_t epoch, int64_t index) const;
  // The same bytes written into `out`, which must have the image's shape and not overlap it.
  void apply(ConstImageView image, uint64_t seed, int64_t epoch, int64_t index, ImageView out,
             AugmentBuffers& buffers) const;

private:
  std::vector<AugmentStep> steps_;
};

}  // namespace felis
