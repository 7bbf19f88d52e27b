// Python bindings of bias_act.cu: checks shapes and devices, then launches.
#include <torch/extension.h>

#include "common.h"

torch::Tensor bias_leaky_relu_cuda(const torch::Tensor& x, const torch::Tensor& b, double slope,
                                   double gain);
torch::Tensor bias_leaky_relu_grad_cuda(const torch::Tensor& g, const torch::Tensor& y, double slope,
                                        double gain);

torch::Tensor bias_leaky_relu(const torch::Tensor& x, const torch::Tensor& b, double slope, double gain) {
  MM_CHECK_INPUT(x);
  MM_CHECK_INPUT(b);
  TORCH_CHECK(x.dim() >= 2, "x must be [N, C, ...]");
  TORCH_CHECK(b.dim() == 1 && b.size(0) == x.size(1), "bias must be [C] with C = x.size(1)");
  TORCH_CHECK(b.scalar_type() == x.scalar_type(), "bias and x must have the same dtype");
  return bias_leaky_relu_cuda(x, b, slope, gain);
}

torch::Tensor bias_leaky_relu_grad(const torch::Tensor& g, const torch::Tensor& y, double slope,
                                   double gain) {
  MM_CHECK_INPUT(g);
  MM_CHECK_INPUT(y);
  TORCH_CHECK(g.sizes() == y.sizes() && g.scalar_type() == y.scalar_type(),
              "grad and output must match in shape and dtype");
  return bias_leaky_relu_grad_cuda(g, y, slope, gain);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("bias_leaky_relu", &bias_leaky_relu, "leaky_relu(x + b) * gain (CUDA)");
  m.def("bias_leaky_relu_grad", &bias_leaky_relu_grad, "gradient of bias_leaky_relu w.r.t. x (CUDA)");
}
