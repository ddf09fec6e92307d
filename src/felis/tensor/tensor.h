// Tensor: a shape and a contiguous, row-major buffer of T (float or double).
//
// The first dimension is the batch. matrix() views a tensor of shape (N, d1, d2, ...)
// as an (N, d1 * d2 * ...) row-major Eigen matrix, which is how dense layers and losses
// read it.
#pragma once

#include <Eigen/Core>

#include <cassert>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <vector>

namespace felis {

using Shape = std::vector<int64_t>;

inline int64_t element_count(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;

template <typename T>
class Tensor {
public:
  Tensor() = default;
  explicit Tensor(const Shape& shape) { resize(shape); }

  // Sets the shape; keeps the buffers' capacity, so a tensor reused across batches of one
  // size allocates once. New elements are zero; old ones keep unspecified values. The
  // overload for a braced list, resize({n, k}), builds no temporary Shape.
  void resize(const Shape& shape) {
    shape_ = shape;
    data_.resize(static_cast<size_t>(element_count(shape_)));
  }
  void resize(std::initializer_list<int64_t> shape) {
    shape_.assign(shape.begin(), shape.end());
    data_.resize(static_cast<size_t>(element_count(shape_)));
  }
  // Gives the same elements a new shape with the same element count; never reallocates.
  void reshape(Shape shape) {
    assert(element_count(shape) == size());
    shape_ = std::move(shape);
  }
  void set_zero() { std::fill(data_.begin(), data_.end(), T(0)); }

  const Shape& shape() const { return shape_; }
  int64_t dim(size_t axis) const { return shape_.at(axis); }
  int64_t rows() const { return shape_.empty() ? 0 : shape_[0]; }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  int64_t row_size() const { return rows() == 0 ? 0 : size() / rows(); }

  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  T& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  T operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }

  // (rows, row_size) view of the whole tensor.
  MatrixMap<T> matrix() { return {data(), rows(), row_size()}; }
  ConstMatrixMap<T> matrix() const { return {data(), rows(), row_size()}; }

  // (count, row_size) view of rows [first, first + count).
  MatrixMap<T> row_block(int64_t first, int64_t count) {
    assert(first >= 0);
    assert(first + count <= rows());
    return {data() + first * row_size(), count, row_size()};
  }
  ConstMatrixMap<T> row_block(int64_t first, int64_t count) const {
    assert(first >= 0);
    assert(first + count <= rows());
    return {data() + first * row_size(), count, row_size()};
  }

private:
  Shape shape_;
  // Aligned as Eigen's own allocations are (64 bytes with AVX-512). Eigen peels unaligned
  // leading elements off its vector loops, so with malloc's placement a buffer's address
  // would change the summation order, and two runs with one seed would differ.
  std::vector<T, Eigen::aligned_allocator<T>> data_;
};

}  // namespace felis
