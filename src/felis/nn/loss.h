// Cross-entropy losses computed from logits, and the probabilities they imply.
//
// Legend: N samples, K classes, z the logits, y the labels.
// Both losses are computed from z in a form that never takes the log of 0, so a
// saturated sigmoid or softmax gives a large finite cost, never NaN or infinity.
#pragma once

#include "felis/tensor/tensor.h"

#include <cstdint>
#include <span>
#include <string>

namespace felis {

// The function that turns a network's logits into class probabilities, and so its loss.
enum class OutputKind {
  sigmoid,  // one logit per sample, P(class 1) = sigmoid(z); binary cross-entropy
  softmax,  // K logits per sample, P = softmax(z); categorical cross-entropy
};

std::string to_string(OutputKind kind);
// Throws felis::Error for a name other than "sigmoid" or "softmax".
OutputKind output_kind_from_string(const std::string& name);

// Binary cross-entropy from z (N, 1) and labels y in {0, 1}:
//   L = 1/N sum_n [ max(z_n, 0) - z_n y_n + log(1 + exp(-|z_n|)) ]
// which equals -1/N sum_n [ y_n log a_n + (1 - y_n) log(1 - a_n) ] with a = sigmoid(z).
// Returns L; when dz is not null, writes dz = dL/dz = (a - y) / N, shape (N, 1).
template <typename T>
double binary_cross_entropy(const Tensor<T>& z, std::span<const int32_t> labels, Tensor<T>* dz);

// Categorical cross-entropy from z (N, K) and labels y in [0, K):
//   L = 1/N sum_n [ log sum_k exp(z_nk) - z_n,y_n ]
// Returns L; when dz is not null, writes dz = (softmax(z) - onehot(y)) / N, shape (N, K).
template <typename T>
double softmax_cross_entropy(const Tensor<T>& z, std::span<const int32_t> labels, Tensor<T>* dz);

// The loss that pairs with `kind`.
template <typename T>
double cross_entropy(OutputKind kind, const Tensor<T>& z, std::span<const int32_t> labels,
                     Tensor<T>* dz);

// Class probabilities (N, classes) from logits: for sigmoid, column 0 is 1 - a and
// column 1 is a; for softmax, the softmax of each row. Computed in double.
template <typename T>
RowMatrix<double> class_probabilities(OutputKind kind, const Tensor<T>& z);

}  // namespace felis
