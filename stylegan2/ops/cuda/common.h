// Shared by the micromotion StyleGAN2 CUDA ops: light headers only, so nvcc stays quick.
//
// With MM_EMULATE defined, the same sources compile as plain C++ for the CPU (plugin.load(...,
// emulate=True)): every kernel runs as the one thread of a one-block grid, whose grid-stride loop
// then walks every element. The tests check the kernels' arithmetic and launch code that way on
// machines without a GPU; only the launch syntax, the device guard and the stream differ.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

constexpr int kThreads = 256;

// Grid size for a grid-stride loop over n elements.
inline int mm_blocks(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 32 ? b : 65535 * 32);
}

#ifdef MM_EMULATE
struct MmDim {
  unsigned x;
};
constexpr MmDim threadIdx{0}, blockIdx{0}, blockDim{1}, gridDim{1};
#define __global__
#define MM_ON_DEVICE(x) TORCH_CHECK(!(x).is_cuda(), #x " must be a CPU tensor (emulated kernels)")
#define MM_DEVICE_GUARD(x)
#define MM_LAUNCH(kernel, n, ...) kernel(__VA_ARGS__)
#define MM_LAUNCH_CHECK()
#else
#define MM_ON_DEVICE(x) TORCH_CHECK((x).is_cuda(), #x " must be a CUDA tensor")
#endif

#if defined(__CUDACC__) && !defined(MM_EMULATE)  // launching: the .cu files under nvcc
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#define MM_DEVICE_GUARD(x) const c10::cuda::CUDAGuard device_guard((x).device())
#define MM_LAUNCH(kernel, n, ...) \
  kernel<<<mm_blocks(n), kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(__VA_ARGS__)
#define MM_LAUNCH_CHECK() C10_CUDA_KERNEL_LAUNCH_CHECK()
#endif

#define MM_CHECK_CONTIGUOUS(x) TORCH_CHECK((x).is_contiguous(), #x " must be contiguous")
#define MM_CHECK_INPUT(x) \
  MM_ON_DEVICE(x);        \
  MM_CHECK_CONTIGUOUS(x)
