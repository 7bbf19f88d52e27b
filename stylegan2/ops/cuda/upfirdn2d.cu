// upfirdn2d: zero-insertion upsample, pad (negative crops), FIR (true convolution), downsample.
// One thread per output pixel; taps that land on inserted zeros or padding are skipped.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>

#include "common.h"

struct UpFirDnParams {
  int64_t planes;  // N * C
  int in_h, in_w, out_h, out_w, k_h, k_w;
  int up, down, pad_x0, pad_y0;
};

template <typename scalar_t>
__global__ void upfirdn2d_kernel(const scalar_t* __restrict__ x,
                                 const at::opmath_type<scalar_t>* __restrict__ k,
                                 scalar_t* __restrict__ y, UpFirDnParams p) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t n = p.planes * p.out_h * p.out_w;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)blockDim.x * gridDim.x) {
    const int ox = static_cast<int>(i % p.out_w);
    const int oy = static_cast<int>((i / p.out_w) % p.out_h);
    const int64_t plane = i / ((int64_t)p.out_w * p.out_h);
    const scalar_t* src = x + plane * p.in_h * p.in_w;
    acc_t acc = 0;
    for (int ky = 0; ky < p.k_h; ++ky) {
      const int uy = oy * p.down + ky - p.pad_y0;  // row in the zero-inserted grid
      if (uy < 0 || uy % p.up != 0 || uy / p.up >= p.in_h) continue;
      const int iy = uy / p.up;
      for (int kx = 0; kx < p.k_w; ++kx) {
        const int ux = ox * p.down + kx - p.pad_x0;
        if (ux < 0 || ux % p.up != 0 || ux / p.up >= p.in_w) continue;
        // a true convolution: the kernel is read flipped
        acc += static_cast<acc_t>(src[iy * p.in_w + ux / p.up]) *
               k[(p.k_h - 1 - ky) * p.k_w + (p.k_w - 1 - kx)];
      }
    }
    y[i] = static_cast<scalar_t>(acc);
  }
}

at::Tensor upfirdn2d_cuda(const at::Tensor& x, const at::Tensor& kernel, int64_t up,
                             int64_t down, int64_t pad_x0, int64_t pad_x1, int64_t pad_y0,
                             int64_t pad_y1) {
  MM_DEVICE_GUARD(x);
  UpFirDnParams p;
  p.planes = x.size(0) * x.size(1);
  p.in_h = static_cast<int>(x.size(2));
  p.in_w = static_cast<int>(x.size(3));
  p.k_h = static_cast<int>(kernel.size(0));
  p.k_w = static_cast<int>(kernel.size(1));
  p.up = static_cast<int>(up);
  p.down = static_cast<int>(down);
  p.pad_x0 = static_cast<int>(pad_x0);
  p.pad_y0 = static_cast<int>(pad_y0);
  p.out_h = static_cast<int>((p.in_h * up + pad_y0 + pad_y1 - p.k_h) / down + 1);
  p.out_w = static_cast<int>((p.in_w * up + pad_x0 + pad_x1 - p.k_w) / down + 1);
  TORCH_CHECK(p.out_h > 0 && p.out_w > 0, "upfirdn2d: the padding leaves no output pixels");
  auto y = at::empty({x.size(0), x.size(1), p.out_h, p.out_w}, x.options());
  const int64_t n = y.numel();
  if (n == 0) return y;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "upfirdn2d", [&] {
    // taps in the accumulator's type: float for half types, double for double (float taps
    // would cost double inputs half their precision)
    using acc_t = at::opmath_type<scalar_t>;
    auto k = kernel.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    MM_LAUNCH(upfirdn2d_kernel<scalar_t>, n,
        x.data_ptr<scalar_t>(), k.data_ptr<acc_t>(), y.data_ptr<scalar_t>(), p);
  });
  MM_LAUNCH_CHECK();
  return y;
}
