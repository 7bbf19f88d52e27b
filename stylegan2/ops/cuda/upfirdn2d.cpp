// Python bindings of upfirdn2d.cu: checks shapes and devices, then launches.
#include <torch/extension.h>

#include "common.h"

torch::Tensor upfirdn2d_cuda(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up,
                             int64_t down, int64_t pad_x0, int64_t pad_x1, int64_t pad_y0,
                             int64_t pad_y1);

torch::Tensor upfirdn2d(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                        int64_t pad_x0, int64_t pad_x1, int64_t pad_y0, int64_t pad_y1) {
  MM_ON_DEVICE(x);
  MM_ON_DEVICE(kernel);
  TORCH_CHECK(x.dim() == 4, "x must be [N, C, H, W]");
  TORCH_CHECK(kernel.dim() == 2, "kernel must be [kh, kw]");
  TORCH_CHECK(up >= 1 && down >= 1, "up and down must be >= 1");
  return upfirdn2d_cuda(x.contiguous(), kernel, up, down, pad_x0, pad_x1, pad_y0, pad_y1);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("upfirdn2d", &upfirdn2d, "upsample, FIR filter, downsample (CUDA)");
}
