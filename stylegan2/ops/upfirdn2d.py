"""Upsample, FIR-filter, downsample: the resampling op of StyleGAN2.

``upfirdn2d(x, kernel, up, down, pad)`` inserts ``up - 1`` zeros after every pixel, pads
(negative pads crop), convolves each channel with the 2-D ``kernel`` (a true convolution, so
the kernel is flipped) and keeps every ``down``-th pixel. ``impl="ref"`` is pure PyTorch and is
the spec; ``impl="cuda"`` runs the compiled kernel (built on first use, see ``plugin.py``).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from . import plugin


def _pads(pad: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) from an int, a pair (same for both axes) or a quadruple."""
    if isinstance(pad, int):
        return pad, pad, pad, pad
    pad = tuple(int(p) for p in pad)
    if len(pad) == 2:
        return pad[0], pad[1], pad[0], pad[1]
    if len(pad) == 4:
        return pad  # type: ignore[return-value]
    raise ValueError(f"pad must be an int, a pair or a quadruple, got {pad}")


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: int | Sequence[int] = 0, impl: str | None = None) -> torch.Tensor:
    """x ``[N, C, H, W]``, kernel ``[kh, kw]`` → ``[N, C, (H·up + py0 + py1 − kh)//down + 1, …]``."""
    pads = _pads(pad)
    if impl is None:
        impl = "cuda" if x.is_cuda and plugin.available("upfirdn2d") else "ref"
    if impl == "cuda":
        return _UpFirDn2dCuda.apply(x, kernel, up, down, pads)
    if impl != "ref":
        raise ValueError(f"impl must be 'ref' or 'cuda', got {impl!r}")
    return upfirdn2d_ref(x, kernel, up, down, pads)


def upfirdn2d_ref(x: torch.Tensor, kernel: torch.Tensor, up: int, down: int,
                  pads: tuple[int, int, int, int]) -> torch.Tensor:
    """The spec, in plain differentiable PyTorch ops."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = pads
    if up > 1:  # zero insertion: each pixel followed by up-1 zeros, as the reference does
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    weight = kernel.flip([0, 1]).to(x.dtype)[None, None].expand(c, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=c)
    return x[:, :, ::down, ::down]


def _grad_pads(kernel: torch.Tensor, up: int, down: int, pads, in_hw, out_hw):
    """Pads of the adjoint upfirdn2d (flipped kernel, up and down swapped) that maps the
    output's gradient back onto the input grid."""
    kh, kw = kernel.shape
    px0, _, py0, _ = pads
    (ih, iw), (oh, ow) = in_hw, out_hw
    return (kw - px0 - 1, iw * up - ow * down + px0 - up + 1,
            kh - py0 - 1, ih * up - oh * down + py0 - up + 1)


class _UpFirDn2dCuda(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel, up, down, pads):
        out = plugin.load("upfirdn2d").upfirdn2d(x, kernel.to(x.dtype), up, down, *pads)
        ctx.save_for_backward(kernel)
        ctx.args = (up, down, pads, tuple(x.shape[2:]), tuple(out.shape[2:]))
        return out

    @staticmethod
    def backward(ctx, grad):
        (kernel,) = ctx.saved_tensors
        up, down, pads, in_hw, out_hw = ctx.args
        gpads = _grad_pads(kernel, up, down, pads, in_hw, out_hw)
        # The adjoint is itself an upfirdn2d, so gradients of any order stay on the kernel.
        gx = _UpFirDn2dCuda.apply(grad.contiguous(), kernel.flip([0, 1]), down, up, gpads)
        return gx, None, None, None, None


def _check(device: torch.device, dtype: torch.dtype):
    """Small random inputs for ``plugin.verify``: the generator's two uses, ×2 upsampling with
    the blur's pads and a plain blur, on an odd-sized map."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 9, 7, generator=g, dtype=dtype).to(device).requires_grad_()
    k = torch.randn(4, 4, generator=g, dtype=dtype).to(device)

    def run(impl):
        up = upfirdn2d(x, k, up=2, pad=(2, 1), impl=impl)
        return torch.cat([up.flatten(), upfirdn2d(x, k, pad=(2, 1), impl=impl).flatten()])
    return run, (x,)


plugin.register_check("upfirdn2d", _check)
