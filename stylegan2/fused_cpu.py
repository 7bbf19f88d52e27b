"""The CPU inference path of the generator (``Generator.synthesis(impl="fused")``): the same
function as ``model.py``'s reference, for one sample without gradients, fast on a CPU.

Channels-last, every large activation written into a buffer kept between calls
(``workspace``), with convolution, bias, noise and the ToRGB skip fused into oneDNN's in-place
``conv + add``; activations are kept divided by √2 (the leaky ReLU's gain) and each consumer
folds √2 into its weight. On these CPUs a fresh tensor over 32 MB is page-faulted anew on every
call (~45 ms per 128 MB), which is why the buffers are kept, and per-sample convolutions beat
grouped ones at 1024 px. The golden tests hold it to the reference.

It reads a generator only through ``Layers`` (the layers it has, in order), and keeps each
generator's buffers here, in ``workspace(gen)``, freed with the generator or by ``release``.
"""
from __future__ import annotations

import threading
import weakref
from typing import Iterator, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from .ops.bias_act import SQRT2

Block = tuple[nn.Module, nn.Module, nn.Module, int]  # upsampling conv, conv, ToRGB, W+ index


class Layers(Protocol):
    """What this path reads of a generator (``model.Generator`` has it): the constant input,
    the first conv and ToRGB, and each block's layers up to a resolution."""
    input: nn.Module
    conv1: nn.Module
    to_rgb1: nn.Module

    def blocks(self, res: int) -> Iterator[Block]: ...


@torch.no_grad()
def synthesis(gen: Layers, wp: torch.Tensor, noise: list, res: int,
              dtype: torch.dtype) -> torch.Tensor:
    """One sample, W+ ``[1, n_latent, D]`` → image ``[1, 3, res, res]`` float32. Calls on one
    generator take turns (its workspace is shared)."""
    ws = workspace(gen)
    with ws.lock:
        x = gen.input.input.to(dtype)
        x = _styled_conv(ws, "conv1", gen.conv1, x, wp[:, 0], noise[0], 1.0, dtype)
        skip = _to_rgb(gen.to_rgb1, x, wp[:, 1], None, dtype)
        for up, conv, to_rgb, i in gen.blocks(res):
            x = _styled_conv(ws, f"convs.{i}", up, x, wp[:, i], noise[i], SQRT2, dtype)
            x = _styled_conv(ws, f"convs.{i + 1}", conv, x, wp[:, i + 1], noise[i + 1],
                             SQRT2, dtype)
            skip = _to_rgb(to_rgb, x, wp[:, i + 2], skip, dtype)
        return skip.float().contiguous()


class Workspace:
    """Activation buffers of the CPU inference path, one per layer, reused across calls.
    ``lock`` makes concurrent ``synthesis`` calls on one generator take turns."""

    def __init__(self):
        self._buffers: dict[str, torch.Tensor] = {}
        self.lock = threading.Lock()

    def get(self, key: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            # a normal tensor even under inference_mode, so in-place use outside it stays legal
            with torch.inference_mode(False):
                buf = torch.empty(shape, dtype=dtype).contiguous(memory_format=torch.channels_last)
            self._buffers[key] = buf
        return buf


_WORKSPACES: "weakref.WeakKeyDictionary[Layers, Workspace]" = weakref.WeakKeyDictionary()
_WORKSPACES_LOCK = threading.Lock()


def workspace(gen: Layers) -> Workspace:
    """The buffers kept for ``gen`` (made on its first call, gone with it)."""
    with _WORKSPACES_LOCK:
        if gen not in _WORKSPACES:
            _WORKSPACES[gen] = Workspace()
        return _WORKSPACES[gen]


def release(gen: Layers) -> None:
    """Free the activation buffers kept for ``gen`` (they come back on its next call)."""
    with _WORKSPACES_LOCK:
        _WORKSPACES.pop(gen, None)


def _conv_add_(out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor,
               bias: torch.Tensor | None, padding: int | tuple[int, int],
               groups: int = 1) -> torch.Tensor:
    """``out += conv2d(x, weight, bias)`` in place, fused by oneDNN where it can be."""
    padding = (padding, padding) if isinstance(padding, int) else padding
    if _MKLDNN_CONV_ADD is not None:
        return _MKLDNN_CONV_ADD(out, x, weight, bias, list(padding), [1, 1], [1, 1], groups,
                                "add", 1.0, None, [], None)
    return out.add_(F.conv2d(x, weight, bias, padding=padding, groups=groups))


def _mkldnn_conv_add():
    try:
        op = torch.ops.mkldnn._convolution_pointwise_.binary
    except (AttributeError, RuntimeError):
        return None
    return op if torch.backends.mkldnn.is_available() else None


_MKLDNN_CONV_ADD = _mkldnn_conv_add()


# Up to this resolution the modulated weights (up to 9.4 MB) outweigh the activations, and
# plain NCHW convolutions into fresh (small) tensors measured 1.1-4× faster than oneDNN's
# channels-last path, which reorders each new weight; above it, activations dominate.
SMALL_RES = 64


def _styled_conv(ws: Workspace, key: str, layer: nn.Module, x: torch.Tensor,
                     w: torch.Tensor, noise: torch.Tensor | None, in_gain: float,
                     dtype: torch.dtype) -> torch.Tensor:
    """conv (+ upsample, blur) + noise + bias, then leaky ReLU (without its gain)."""
    conv = layer.conv
    weight = conv.modulated_weight(w, in_gain)[0].to(dtype)
    bias = layer.activate.bias.to(dtype)
    c, h = weight.shape[0], x.shape[2] * (2 if conv.upsample else 1)
    if h <= SMALL_RES:
        x = x.contiguous()
        if conv.upsample:
            y = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
            out = F.conv2d(y, _depthwise(conv.blur.kernel, c, dtype), bias, padding=1, groups=c)
        else:
            out = F.conv2d(x, weight, bias, padding=conv.padding)
        if noise is not None:
            out.add_(layer.noise.weight * noise)
        return F.leaky_relu_(out, 0.2)
    x = x.contiguous(memory_format=torch.channels_last)
    out = ws.get(key, (1, c, h, h), dtype)
    if noise is None:
        out.zero_()
    else:
        out.copy_((layer.noise.weight * noise).expand(1, c, h, h))
    if conv.upsample:
        _upsample_conv_add_(out, x, weight, conv.blur, bias)
    else:
        _conv_add_(out, x, weight, bias, conv.padding)
    return F.leaky_relu_(out, 0.2)


def _depthwise(kernel: torch.Tensor, channels: int, dtype: torch.dtype) -> torch.Tensor:
    """A FIR ``[k, k]`` as a depthwise conv2d weight ``[C, 1, k, k]`` (flipped: conv2d
    correlates, upfirdn2d convolves)."""
    return kernel.flip([0, 1]).to(dtype).expand(channels, 1, *kernel.shape).contiguous()


_BAND_BYTES = 8 * 2 ** 20


def _upsample_conv_add_(out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, blur: nn.Module,
                        bias: torch.Tensor) -> None:
    """``out += blur(conv_transpose(x, weight, stride 2)) + bias``, in bands of output rows.

    The transposed conv of the whole map would be a fresh tensor of up to 134 MB per call
    (page-faulted anew each time); a band of ~8 MB comes from the heap and is still in cache
    when the blur reads it. Transposed-conv row p needs input rows ⌈(p−2)/2⌉…⌊p/2⌋ and blurred
    row n needs rows n−1 … n+2 (the blur's pad is 1), so each band takes a small halo.
    """
    c, h_in = weight.shape[0], x.shape[2]
    n_rows = 2 * h_in + 1  # rows of the full transposed conv
    k = _depthwise(blur.kernel, c, out.dtype)
    assert blur.pad == (1, 1)  # the halo arithmetic below is for the (1, 3, 3, 1) blur
    band = max(2, _BAND_BYTES // (n_rows * c * out.element_size()) // 2 * 2)
    kt = weight.transpose(0, 1).contiguous()  # once, not once per band
    for r0 in range(0, 2 * h_in, band):
        r1 = min(2 * h_in, r0 + band)
        i0, i1 = max(0, r0 // 2 - 1), min(h_in, (r1 + 1) // 2 + 1)
        y = F.conv_transpose2d(x[:, :, i0:i1], kt, stride=2)  # rows p = 2·i0 … 2·i1
        lo, hi = r0 - 1, r1 + 2  # the rows p this band's blur reads
        y = y[:, :, max(lo, 0) - 2 * i0: min(hi, n_rows) - 2 * i0]
        if lo < 0 or hi > n_rows:  # the blur's zero padding at the image's top and bottom
            y = F.pad(y, (0, 0, max(0, -lo), max(0, hi - n_rows)))
        _conv_add_(out[:, :, r0:r1], y.contiguous(memory_format=torch.channels_last), k, bias,
                   (0, 1), groups=c)


def _to_rgb(layer: nn.Module, x: torch.Tensor, w: torch.Tensor, skip: torch.Tensor | None,
                dtype: torch.dtype) -> torch.Tensor:
    """1×1 modulated conv + bias, added into the ×2-upsampled skip (small tensors: no buffer)."""
    weight = layer.conv.modulated_weight(w, SQRT2)[0].to(dtype)
    bias = layer.bias.reshape(3).to(dtype)
    if skip is None:
        return F.conv2d(x, weight, bias)
    up = layer.upsample
    # zero insertion + pad + FIR == stride-2 transposed conv with pad k - 1 - pad0
    k = up.kernel.to(dtype).expand(3, 1, *up.kernel.shape).contiguous()
    skip = F.conv_transpose2d(skip, k, stride=up.factor, groups=3,
                              padding=up.kernel.shape[0] - 1 - up.pad[0])
    fmt = torch.contiguous_format if x.is_contiguous() else torch.channels_last
    return _conv_add_(skip.contiguous(memory_format=fmt), x, weight, bias, 0)
