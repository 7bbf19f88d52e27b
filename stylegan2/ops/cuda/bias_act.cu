// y = leaky_relu(x + b[c], slope) * gain, and its gradient, elementwise on NC... tensors.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>

#include "common.h"

template <typename scalar_t>
__global__ void bias_leaky_relu_kernel(const scalar_t* __restrict__ x, const scalar_t* __restrict__ b,
                                       scalar_t* __restrict__ y, int64_t n, int64_t inner,
                                       int64_t channels, float slope, float gain) {
  using acc_t = at::opmath_type<scalar_t>;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)blockDim.x * gridDim.x) {
    acc_t v = static_cast<acc_t>(x[i]) + static_cast<acc_t>(b[(i / inner) % channels]);
    y[i] = static_cast<scalar_t>((v > acc_t(0) ? v : v * slope) * gain);
  }
}

// dy/dx = gain where x + b > 0, else gain * slope; y has the sign of x + b.
template <typename scalar_t>
__global__ void bias_leaky_relu_grad_kernel(const scalar_t* __restrict__ g, const scalar_t* __restrict__ y,
                                            scalar_t* __restrict__ gx, int64_t n, float slope,
                                            float gain) {
  using acc_t = at::opmath_type<scalar_t>;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)blockDim.x * gridDim.x) {
    acc_t s = static_cast<acc_t>(y[i]) > acc_t(0) ? gain : gain * slope;
    gx[i] = static_cast<scalar_t>(static_cast<acc_t>(g[i]) * s);
  }
}

at::Tensor bias_leaky_relu_cuda(const at::Tensor& x, const at::Tensor& b, double slope,
                                   double gain) {
  MM_DEVICE_GUARD(x);
  auto y = at::empty_like(x);
  const int64_t n = x.numel();
  if (n == 0) return y;
  const int64_t channels = x.size(1);
  const int64_t inner = n / (x.size(0) * channels);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "bias_leaky_relu", [&] {
    MM_LAUNCH(bias_leaky_relu_kernel<scalar_t>, n,
        x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n, inner, channels,
        static_cast<float>(slope), static_cast<float>(gain));
  });
  MM_LAUNCH_CHECK();
  return y;
}

at::Tensor bias_leaky_relu_grad_cuda(const at::Tensor& g, const at::Tensor& y, double slope,
                                        double gain) {
  MM_DEVICE_GUARD(g);
  auto gx = at::empty_like(g);
  const int64_t n = g.numel();
  if (n == 0) return gx;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "bias_leaky_relu_grad", [&] {
    MM_LAUNCH(bias_leaky_relu_grad_kernel<scalar_t>, n,
        g.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), gx.data_ptr<scalar_t>(), n,
        static_cast<float>(slope), static_cast<float>(gain));
  });
  MM_LAUNCH_CHECK();
  return gx;
}
