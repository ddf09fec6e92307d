// The fuzz harnesses: each feeds one input to one reader of untrusted bytes and lets
// only felis::Error, the documented way to reject an input, pass.
#include "harness.h"

#include "felis/augment/pipeline.h"
#include "felis/data/image.h"
#include "felis/data/loaders.h"
#include "felis/error.h"
#include "felis/io/model_file.h"
#include "felis/nn/model_spec.h"
#include "felis/train/checkpoint.h"
#include "input_file.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace felis::fuzz {

// The data-set loader on one HDF5 file: format detection, the course's layout, the
// class list and the agreement of its splits.
void run_hdf5_data(const uint8_t* data, size_t size) {
  const auto path = write_input("data.h5", data, size);
  try {
    load_data(path);
  } catch (const Error&) {
  }
}

// The IDX loader on an image file and its label file, each raw or gzipped.
// Input: a little-endian uint32 n, then n bytes of the image file, then the label file.
void run_idx(const uint8_t* data, size_t size) {
  if (size < 4) return;
  const uint32_t declared = uint32_t{data[0]} | uint32_t{data[1]} << 8 |
                            uint32_t{data[2]} << 16 | uint32_t{data[3]} << 24;
  const size_t images_bytes = std::min<size_t>(declared, size - 4);
  const auto images = write_input("train-images-idx3-ubyte", data + 4, images_bytes);
  const auto labels =
      write_input("train-labels-idx1-ubyte", data + 4 + images_bytes, size - 4 - images_bytes);
  try {
    load_idx_pair(images, labels);
  } catch (const Error&) {
  }
}

// The model-file loader: attributes, architecture JSON, every layer's datasets.
void run_model_file(const uint8_t* data, size_t size) {
  const auto path = write_input("model.h5", data, size);
  try {
    load_model(path);
  } catch (const Error&) {
  }
}

// The checkpoint loader: a model file plus the training state's JSON and optimizer tensors.
void run_checkpoint(const uint8_t* data, size_t size) {
  write_input(kCheckpointFile, data, size);
  try {
    load_checkpoint(scratch_directory());
  } catch (const Error&) {
  }
}

// The single-image path of felis predict and felis info: a file of any kind, of which only
// PNG, JPEG and BMP reach the decoder, converted to a model's input shape and to its own.
void run_image(const uint8_t* data, size_t size) {
  const auto path = write_input("photo", data, size);
  try {
    load_image(path, {.height = 24, .width = 40, .channels = 3});
    load_image(path, {.height = 0, .width = 0, .channels = 0});
  } catch (const Error&) {
  }
}

// The model-spec parser, resolved against a colour and a gray input.
void run_model_spec(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  for (const Shape& input : {Shape{3, 12, 12}, Shape{1, 28, 28}}) {
    try {
      resolve_model_spec(spec, input, input[0] == 3 ? 2 : 10);
    } catch (const Error&) {
    }
  }
}

// The augmentation-spec parser, then the parsed pipeline checked against and applied to a
// small colour image, so that every argument the parser accepts is also run.
void run_augment_spec(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  Image image{.shape = {.height = 9, .width = 13, .channels = 3}, .pixels = {}};
  image.pixels.resize(byte_count(image.shape));
  std::iota(image.pixels.begin(), image.pixels.end(), uint8_t{0});
  try {
    const Pipeline pipeline = Pipeline::parse(spec);
    // The canonical spec must parse back to the same pipeline.
    const std::string again = Pipeline::parse(pipeline.spec()).spec();
    if (again != pipeline.spec()) {
      throw std::logic_error("spec " + pipeline.spec() + " parses back as " + again);
    }
    pipeline.check(image.shape);
    for (int64_t index = 0; index < 3; ++index) pipeline.apply(image, 7, 1, index);
  } catch (const Error&) {
  }
}

const std::vector<Harness>& harnesses() {
  static const std::vector<Harness> all = {
      {"hdf5_data", run_hdf5_data},
      {"idx", run_idx},
      {"model_file", run_model_file},
      {"checkpoint", run_checkpoint},
      {"image", run_image},
      {"model_spec", run_model_spec},
      {"augment_spec", run_augment_spec},
  };
  return all;
}

}  // namespace felis::fuzz
