"""StyleGAN2 generator in the layout of rosinality's ``stylegan2-pytorch`` (config-f).

Parameter names, shapes and semantics follow ``../shared/reference/FORMATS.md`` §1, so the
official ``stylegan2-ffhq-config-f.pt`` loads strictly. Equalized learning rate is applied at
run time: stored weights are the raw ones.

``synthesis`` computes one function three ways (``impl``, as the ops choose theirs):
- ``"ref"``: this file's plain differentiable ops, per-sample modulated weights as a grouped
  conv — the reference, and the GPU path (with the CUDA kernels of ``stylegan2.ops``);
- ``"scaled"``: the same ops with the style on the activations (``conv(x·s, W)·d``), one
  batched conv with the shared weight — the CPU path when a gradient is wanted;
- ``"fused"``: the CPU inference path of ``stylegan2.fused_cpu`` (no gradient), one sample
  at a time, channels-last, into buffers kept between calls.
``None`` picks: ``ref`` on the GPU, else ``scaled`` when a gradient is wanted, else ``fused``.
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import fused_cpu
from .errors import LatentShapeError
from .paths import autocast
from .ops import bias_leaky_relu, upfirdn2d

NOISE_MODES = ("const", "random", "none")
IMPLS = ("ref", "scaled", "fused")


def default_channels(channel_multiplier: int = 2) -> dict[int, int]:
    """Feature maps per resolution of config-f (the reference's ``Generator.channels``)."""
    cm = channel_multiplier
    return {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * cm, 128: 128 * cm, 256: 64 * cm,
            512: 32 * cm, 1024: 16 * cm}


def make_kernel(taps: Sequence[float]) -> torch.Tensor:
    """Separable FIR ``[k, k]`` from 1-D taps, normalised to sum 1."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum()


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate; ``activate`` adds fused bias + leaky ReLU."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activate:
            return bias_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class Blur(nn.Module):
    """FIR low-pass (``upfirdn2d`` with up = down = 1); ``gain`` = factor² after an upsample."""

    def __init__(self, taps: Sequence[float], pad: tuple[int, int], gain: float = 1.0):
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps) * gain)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """×2 upsampling of the RGB skip: zero insertion, then the FIR (``upfirdn2d`` up = 2)."""

    def __init__(self, taps: Sequence[float], factor: int = 2):
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps) * factor ** 2)
        p = self.kernel.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class ModulatedConv2d(nn.Module):
    """Style-modulated convolution; ``upsample`` makes it a stride-2 transposed conv + blur."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.scale = 1.0 / math.sqrt(in_ch * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.upsample = upsample
        if upsample:
            # transposed conv makes 2H+k-2 pixels; the blur's pad brings it back to 2H
            p = len(blur_kernel) - 2 - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), gain=4.0)

    def _styles(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """w ``[N, style_dim]`` → the style ``s`` ``[N, in]`` and the demodulation ``d``
        ``[N, out]`` (None without demodulation).

        Demodulation divides by ‖W·s‖ per output channel, which is ``(ΣₖW²) @ s²``: a small
        matmul instead of squaring the whole modulated weight."""
        s = self.modulation(w) * self.scale
        if not self.demodulate:
            return s, None
        return s, torch.rsqrt(s.pow(2) @ self._weight_sq().t() + 1e-8)

    def modulated_weight(self, w: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        """w ``[N, style_dim]`` → per-sample weights ``[N, out, in, k, k]`` (× ``gain``)."""
        s, d = self._styles(w)
        coef = s[:, None, :] * gain  # [N, 1, in]
        if d is not None:
            coef = coef * d[:, :, None]
        return self.weight * coef[..., None, None]

    def _weight_sq(self) -> torch.Tensor:
        """ΣₖW² ``[out, in]``, cached while the weight is unchanged and not being trained."""
        key = (self.weight._version, self.weight.data_ptr(), self.weight.device)
        cached = getattr(self, "_wsq", None)
        if self.weight.requires_grad or cached is None or cached[0] != key:
            # a normal tensor even under inference_mode, so autograd may use it later
            with torch.inference_mode(False), torch.no_grad():
                cached = (key, self.weight[0].pow(2).sum(dim=(2, 3)))
            if not self.weight.requires_grad:
                self._wsq = cached
        return cached[1]

    def forward(self, x: torch.Tensor, w: torch.Tensor, scaled: bool = False) -> torch.Tensor:
        """x ``[N, in, H, W]``, w ``[N, style_dim]`` → ``[N, out, H', W']``; ``scaled``: the
        style on the activations (``_forward_scaled``), the same function."""
        if scaled:
            return self._forward_scaled(x, w)
        weight = self.modulated_weight(w)
        if self.upsample:
            x = _grouped_conv(x, weight.transpose(1, 2), F.conv_transpose2d, stride=2)
            return self.blur(x)
        return _grouped_conv(x, weight, F.conv2d, padding=self.padding)

    def _forward_scaled(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The same function with the style on the activations instead of the weight:
        ``conv(x·s, W)·d``. On the CPU one batched conv with the shared weight beats per-sample
        weights, and its backward needs no weight gradient when the weights are frozen."""
        s, d = self._styles(w)
        x = x * s[:, :, None, None]
        if self.upsample:
            x = self.blur(F.conv_transpose2d(x, self.weight[0].transpose(0, 1), stride=2))
        else:
            x = F.conv2d(x, self.weight[0], padding=self.padding)
        return x if d is None else x * d[:, :, None, None]


def _grouped_conv(x: torch.Tensor, weight: torch.Tensor, conv, **kw) -> torch.Tensor:
    """Each sample convolved with its own weight ``[N, a, b, k, k]``, as one grouped conv."""
    n = x.shape[0]
    out = conv(x.reshape(1, -1, *x.shape[2:]), weight.reshape(-1, *weight.shape[2:]),
               groups=n, **kw)
    return out.reshape(n, -1, *out.shape[2:])


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return x if noise is None else x + self.weight * noise


class FusedLeakyReLU(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bias_leaky_relu(x, self.bias)


class StyledConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool = False,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1)):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, style_dim, upsample=upsample,
                                    blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None,
                scaled: bool = False) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, w, scaled), noise))


class ToRGB(nn.Module):
    def __init__(self, in_ch: int, style_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1)):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, skip: torch.Tensor | None,
                scaled: bool = False) -> torch.Tensor:
        out = self.conv(x, w, scaled) + self.bias
        return out if skip is None else out + self.upsample(skip)


class ConstantInput(nn.Module):
    def __init__(self, channels: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))


class NoiseBuffers(nn.Module):
    """The stored per-layer noise ``noise_i [1, 1, 2^r, 2^r]``, r = (i + 5) // 2."""

    def __init__(self, num_layers: int):
        super().__init__()
        for i in range(num_layers):
            r = 2 ** ((i + 5) // 2)
            self.register_buffer(f"noise_{i}", torch.randn(1, 1, r, r))

    def __getitem__(self, i: int) -> torch.Tensor:
        return getattr(self, f"noise_{i}")


class Generator(nn.Module):
    """StyleGAN2 generator: ``mapping`` z → w, ``synthesis`` w / W+ → image in about [-1, 1].

    W+ index use: conv1 → 0, to_rgb1 → 1; block j: convs[2j] → 1+2j, convs[2j+1] → 2+2j,
    to_rgbs[j] → 3+2j, so ``n_latent = 2·log2(size) − 2`` (18 at 1024).
    """

    def __init__(self, size: int, style_dim: int = 512, n_mlp: int = 8,
                 channel_multiplier: int = 2, channels: dict[int, int] | None = None,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1)):
        super().__init__()
        log_size = int(math.log2(size))
        if size < 4 or 2 ** log_size != size:
            raise ValueError(f"size must be a power of two ≥ 4, got {size}")
        ch = dict(channels or default_channels(channel_multiplier))
        self.size, self.style_dim, self.n_mlp = size, style_dim, n_mlp
        self.channels = {4 * 2 ** i: ch[4 * 2 ** i] for i in range(log_size - 1)}
        self.num_layers = 2 * log_size - 3
        self.n_latent = 2 * log_size - 2

        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(style_dim, style_dim, lr_mul=0.01, activate=True) for _ in range(n_mlp)])
        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], style_dim, blur_kernel=blur_kernel)
        self.to_rgb1 = ToRGB(ch[4], style_dim, upsample=False)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        in_ch = ch[4]
        for i in range(3, log_size + 1):
            out_ch = ch[2 ** i]
            self.convs.append(StyledConv(in_ch, out_ch, style_dim, upsample=True,
                                         blur_kernel=blur_kernel))
            self.convs.append(StyledConv(out_ch, out_ch, style_dim, blur_kernel=blur_kernel))
            self.to_rgbs.append(ToRGB(out_ch, style_dim, blur_kernel=blur_kernel))
            in_ch = out_ch
        self.noises = NoiseBuffers(self.num_layers)
        # Not part of the state dict (as in the official file, where it sits beside g_ema).
        self.register_buffer("latent_avg", torch.zeros(style_dim), persistent=False)

    # -- mapping -------------------------------------------------------------------------
    def mapping(self, z: torch.Tensor, truncation: float = 1.0,
                truncation_latent: torch.Tensor | None = None) -> torch.Tensor:
        """z ``[N, style_dim]`` (standard normal) → w ``[N, style_dim]``, truncated towards
        ``truncation_latent`` (default ``latent_avg``) when ``truncation < 1``."""
        _check_latent(z, ((self.style_dim,),), "z")
        w = self.style(z)
        if truncation != 1.0:
            avg = self.latent_avg if truncation_latent is None else truncation_latent
            w = avg + truncation * (w - avg)
        return w

    @torch.no_grad()
    def mean_latent(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """Estimate of the mean w ``[style_dim]`` from ``n`` seeded z."""
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.style_dim, generator=gen).to(self.latent_avg.device)
        return self.style(z).mean(0)

    # -- synthesis -----------------------------------------------------------------------
    def synthesis(self, w: torch.Tensor, noise_mode: str = "const", max_res: int | None = None,
                  dtype: torch.dtype | None = None, impl: str | None = None,
                  channels_last: bool | None = None) -> torch.Tensor:
        """w ``[N, style_dim]`` or W+ ``[N, n_latent, style_dim]`` → image ``[N, 3, R, R]`` float32,
        unclamped (about [-1, 1]). R = ``max_res`` (a power of two ≤ size; the skip-RGB output
        of that block, for previews and losses) or ``size``.

        noise_mode: ``"const"`` the stored noise (the reference's ``randomize_noise=False``),
        ``"random"`` fresh Gaussian noise, ``"none"`` no noise.
        dtype: the arithmetic — ``torch.bfloat16`` (or ``float16`` on a GPU) runs the fused CPU
        path in that type, the others under autocast; None is float32. Whether a machine runs
        a path fast and right is ``stylegan2.paths``' question.
        impl: ``"ref"``, ``"scaled"`` or ``"fused"`` (see the module docstring); None picks.
        channels_last: the autograd impls' activation layout (None: on the CPU, oneDNN's
        native channels-last; on a GPU, NCHW).
        """
        wp = self._broadcast(w)
        res = self._check_res(max_res)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        impl = impl or self._pick_impl(wp)
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        dtype = dtype or torch.float32
        n_layers = 2 * int(math.log2(res)) - 3
        noise = self._noise(noise_mode, wp.shape[0], n_layers, wp.device)
        if impl != "fused":
            layout = not wp.is_cuda if channels_last is None else channels_last
            with autocast(wp.device, dtype):
                return self._synthesis_autograd(wp, noise, res, impl == "scaled", layout).float()
        return torch.cat([fused_cpu.synthesis(self, wp[i:i + 1],
                                              [nz if nz is None or nz.shape[0] == 1
                                               else nz[i:i + 1] for nz in noise],
                                              res, dtype)
                          for i in range(wp.shape[0])])

    def _pick_impl(self, wp: torch.Tensor) -> str:
        if wp.is_cuda:
            return "ref"
        wants_grad = torch.is_grad_enabled() and (wp.requires_grad or self._trainable())
        return "scaled" if wants_grad else "fused"

    def forward(self, z: torch.Tensor, truncation: float = 1.0, noise_mode: str = "const",
                max_res: int | None = None) -> torch.Tensor:
        """z ``[N, style_dim]`` → image ``[N, 3, R, R]``."""
        return self.synthesis(self.mapping(z, truncation), noise_mode=noise_mode, max_res=max_res)

    def _trainable(self) -> bool:
        return any(p.requires_grad for p in self.parameters())

    def _broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """W ``[N, D]`` or W+ ``[N, n_latent, D]`` → W+."""
        forms = ((self.style_dim,), (self.n_latent, self.style_dim))
        _check_latent(w, forms, "w")
        return w[:, None, :].expand(-1, self.n_latent, -1) if w.ndim == 2 else w

    def _check_res(self, max_res: int | None) -> int:
        if max_res is None:
            return self.size
        if not (isinstance(max_res, int) and 4 <= max_res <= self.size
                and 2 ** int(math.log2(max_res)) == max_res):
            raise ValueError(f"max_res must be a power of two in [4, {self.size}], got {max_res!r}")
        return max_res

    def _noise(self, mode: str, n: int, n_layers: int, device) -> list[torch.Tensor | None]:
        if mode == "none":
            return [None] * n_layers
        if mode == "const":
            return [self.noises[i] for i in range(n_layers)]
        return [torch.randn(n, 1, *self.noises[i].shape[2:], device=device)
                for i in range(n_layers)]

    def blocks(self, res: int) -> Iterator[fused_cpu.Block]:
        """(upsampling conv, conv, to_rgb, its W+ index) for each block up to ``res``."""
        n_blocks = int(math.log2(res)) - 2
        for j in range(n_blocks):
            yield self.convs[2 * j], self.convs[2 * j + 1], self.to_rgbs[j], 1 + 2 * j

    def _synthesis_autograd(self, wp, noise, res, scaled: bool = False,
                            channels_last: bool = False):
        x = self.input.input.repeat(wp.shape[0], 1, 1, 1)
        if channels_last:  # on a CPU oneDNN's native layout: no reorders around each conv (~12%)
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.conv1(x, wp[:, 0], noise[0], scaled)
        skip = self.to_rgb1(x, wp[:, 1], None, scaled)
        for up, conv, to_rgb, i in self.blocks(res):
            x = up(x, wp[:, i], noise[i], scaled)
            x = conv(x, wp[:, i + 1], noise[i + 1], scaled)
            skip = to_rgb(x, wp[:, i + 2], skip, scaled)
        return skip


def _check_latent(t, forms: tuple[tuple[int, ...], ...], name: str) -> None:
    """Raise ``LatentShapeError`` unless ``t`` is a float tensor ``[N, *form]`` for some form."""
    want = " or ".join("[N, " + ", ".join(map(str, f)) + "]" for f in forms)
    if not isinstance(t, torch.Tensor):
        raise LatentShapeError(f"{name} must be a torch.Tensor of shape {want}, got {type(t).__name__}")
    if not t.is_floating_point():
        raise LatentShapeError(f"{name} must be a floating-point tensor {want}, got dtype {t.dtype}")
    if t.shape[0:1] == (0,) or not any(tuple(t.shape[1:]) == f for f in forms):
        raise LatentShapeError(f"{name} must have shape {want}, got {list(t.shape)}")
