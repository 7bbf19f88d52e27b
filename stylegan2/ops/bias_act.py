"""Fused bias + leaky ReLU + gain: ``leaky_relu(x + b, slope) · gain`` (StyleGAN2's FusedLeakyReLU).

``impl="ref"`` is pure PyTorch and is the spec; ``impl="cuda"`` runs the compiled kernel.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import plugin

SQRT2 = math.sqrt(2.0)


def bias_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None, negative_slope: float = 0.2,
                    gain: float = SQRT2, impl: str | None = None) -> torch.Tensor:
    """x ``[N, C, …]``, bias ``[C]`` (broadcast over dim 1) → same shape as x."""
    if impl is None:
        impl = "cuda" if x.is_cuda and plugin.available("bias_act") else "ref"
    if impl == "cuda":
        if bias is None:
            bias = x.new_zeros(x.shape[1])
        return _BiasLeakyReluCuda.apply(x, bias, negative_slope, gain)
    if impl != "ref":
        raise ValueError(f"impl must be 'ref' or 'cuda', got {impl!r}")
    if bias is not None:
        x = x + bias.reshape(1, -1, *([1] * (x.ndim - 2))).to(x.dtype)
    return F.leaky_relu(x, negative_slope) * gain


class _BiasLeakyReluCuda(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias, slope, gain):
        y = plugin.load("bias_act").bias_leaky_relu(x.contiguous(), bias.to(x.dtype).contiguous(),
                                                    slope, gain)
        ctx.save_for_backward(y)
        ctx.args = (slope, gain)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        gx = _BiasLeakyReluGradCuda.apply(grad, y, *ctx.args)
        gb = gx.sum(dim=[d for d in range(gx.ndim) if d != 1]) if ctx.needs_input_grad[1] else None
        return gx, gb, None, None


class _BiasLeakyReluGradCuda(torch.autograd.Function):
    """d/dx of the op is gain · (1 if x+b > 0 else slope); the sign of x+b is the sign of y."""

    @staticmethod
    def forward(ctx, grad, y, slope, gain):
        ctx.save_for_backward(y)
        ctx.args = (slope, gain)
        return plugin.load("bias_act").bias_leaky_relu_grad(grad.contiguous(), y, slope, gain)

    @staticmethod
    def backward(ctx, gg):
        # The op is piecewise linear: its second derivative is zero almost everywhere.
        (y,) = ctx.saved_tensors
        return _BiasLeakyReluGradCuda.apply(gg, y, *ctx.args), None, None, None


def _check(device: torch.device, dtype: torch.dtype):
    """Small random inputs for ``plugin.verify``: both signs around the bias, a channel axis."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 4, 4, generator=g, dtype=dtype).to(device).requires_grad_()
    b = torch.randn(5, generator=g, dtype=dtype).to(device).requires_grad_()
    return (lambda impl: bias_leaky_relu(x, b, impl=impl)), (x, b)


plugin.register_check("bias_act", _check)
