// Views of (H, W, C) uint8 pixels that another object owns: a data set's image, a slot of
// a batch, or a reused buffer. The transforms that run on every image of every training
// step read and write through views, so that no step copies or allocates a whole Image.
#pragma once

#include "felis/data/image.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace felis {

struct ImageView {
  ImageShape shape;  // channels 1 or 3
  uint8_t* pixels;   // (H, W, C)
};

struct ConstImageView {
  ImageShape shape;       // channels 1 or 3
  const uint8_t* pixels;  // (H, W, C)
};

inline size_t byte_count(const ImageShape& shape) {
  return static_cast<size_t>(shape.height * shape.width * shape.channels);
}

// A view of `buffer` as an image of `shape`, resizing the buffer to fit. Resizing to the
// size it already has neither allocates nor writes.
inline ImageView view_of_buffer(std::vector<uint8_t>& buffer, const ImageShape& shape) {
  buffer.resize(byte_count(shape));
  return {.shape = shape, .pixels = buffer.data()};
}

}  // namespace felis
