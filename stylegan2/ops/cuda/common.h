// Shared by the micromotion StyleGAN2 CUDA ops: light headers only, so nvcc stays quick.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#define MM_CHECK_CUDA(x) TORCH_CHECK((x).is_cuda(), #x " must be a CUDA tensor")
#define MM_CHECK_CONTIGUOUS(x) TORCH_CHECK((x).is_contiguous(), #x " must be contiguous")
#define MM_CHECK_INPUT(x) \
  MM_CHECK_CUDA(x);       \
  MM_CHECK_CONTIGUOUS(x)

constexpr int kThreads = 256;

// Grid size for a grid-stride loop over n elements.
inline int mm_blocks(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 32 ? b : 65535 * 32);
}
