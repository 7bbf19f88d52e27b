"""Inversion of aligned faces into W+ with the official pSp-family encoders, and the IR-SE50
ArcFace identity network they share a trunk with (``../shared/reference/FORMATS.md`` §2, 4, 5).

Encoder types, as named by ``opts['encoder_type']`` in the official checkpoints:

| type | file | input | forward |
|---|---|---|---|
| ``BackboneEncoder`` | ReStyle-pSp ``restyle_psp_ffhq_encode.pt`` | image ‖ previous output (6 ch) | 18 heads on the 16×16 map, iterated |
| ``ProgressiveBackboneEncoder`` | ReStyle-e4e ``restyle_e4e_ffhq_encode.pt`` | 6 ch | head 0 for all layers + deltas, iterated |
| ``GradualStyleEncoder`` | pSp ``psp_ffhq_encode.pt`` | image (3 ch) | FPN: heads 0-2 coarse, 3-6 middle, 7-17 fine |
| ``Encoder4Editing`` | e4e ``e4e_ffhq_encode.pt`` | 3 ch | FPN, head 0 for all layers + deltas |

Shapes: images ``[N, 3, 256, 256]`` in [-1, 1] (FFHQ-aligned, see ``align.py``) → W+
``[N, 18, 512]``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import stylegan2
from stylegan2.model import EqualLinear

from .errors import EncoderCheckpointError
from .precision import FP32, Precision

ITERATIVE = ("BackboneEncoder", "ProgressiveBackboneEncoder")
SINGLE_PASS = ("GradualStyleEncoder", "Encoder4Editing")
ENCODER_TYPES = ITERATIVE + SINGLE_PASS
STAGES = (3, 4, 14, 3)  # IR-SE50 units per stage; the first unit of each has stride 2
DEPTHS = (64, 128, 256, 512)


# -- the IR-SE50 trunk -----------------------------------------------------------------------
class SEModule(nn.Module):
    """Squeeze-and-excitation: channel gates from the global average."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class Subsample(nn.Module):
    """``x[:, :, ::s, ::s]``: what the reference's ``MaxPool2d(1, s)`` shortcut computes, without
    the pooling kernel's cost. Like it, it has no state-dict keys."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride]


class BottleneckIRSE(nn.Module):
    """BN → 3×3 conv → PReLU → 3×3 conv (stride s) → BN → SE, plus a shortcut."""

    def __init__(self, in_ch: int, depth: int, stride: int):
        super().__init__()
        if in_ch == depth:
            self.shortcut_layer = Subsample(stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(in_ch, depth, 1, stride, bias=False),
                                                nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_ch), nn.Conv2d(in_ch, depth, 3, 1, 1, bias=False), nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False), nn.BatchNorm2d(depth),
            SEModule(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


def ir_se50_body() -> nn.Sequential:
    """The 24 units ``body.0-23``: 64×3, 128×4, 256×14, 512×3 channels; 1/16 resolution out."""
    units, in_ch = [], 64
    for n, depth in zip(STAGES, DEPTHS):
        units += [BottleneckIRSE(in_ch, depth, 2)] + [BottleneckIRSE(depth, depth, 1)
                                                      for _ in range(n - 1)]
        in_ch = depth
    return nn.Sequential(*units)


def input_layer(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                         nn.PReLU(64))


class ArcFace(nn.Module):
    """IR-SE50 ArcFace (``model_ir_se50.pth``): ``[N, 3, 112, 112]`` → unit 512-d features."""

    def __init__(self, drop_ratio: float = 0.6):
        super().__init__()
        self.input_layer = input_layer(3)
        # registered before body, as in the official file's key order
        self.output_layer = nn.Sequential(nn.BatchNorm2d(512), nn.Dropout(drop_ratio),
                                          nn.Flatten(), nn.Linear(512 * 7 * 7, 512),
                                          nn.BatchNorm1d(512))
        self.body = ir_se50_body()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.output_layer(self.body(self.input_layer(x)))
        return x / x.norm(dim=1, keepdim=True)

    def id_features(self, images: torch.Tensor) -> torch.Tensor:
        """Generator output ``[N, 3, H, W]`` in [-1, 1] → features ``[N, 512]``, prepared as
        StyleCLIP's identity loss does: pool to 256, crop the face [35:223, 32:220], pool to 112."""
        if images.shape[-1] != 256:
            images = F.adaptive_avg_pool2d(images, 256)
        return self(F.adaptive_avg_pool2d(images[:, :, 35:223, 32:220], 112))


# -- encoder heads -----------------------------------------------------------------------------
class GradualStyleBlock(nn.Module):
    """Stride-2 3×3 convs (LeakyReLU 0.01) from a ``spatial``² map down to 1×1, then a linear."""

    def __init__(self, in_ch: int, out_ch: int, spatial: int):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(int(math.log2(spatial))):
            layers += [nn.Conv2d(in_ch if i == 0 else out_ch, out_ch, 3, 2, 1), nn.LeakyReLU(0.01)]
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(out_ch, out_ch)
        self.out_ch = out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(x).reshape(-1, self.out_ch))


class PSPEncoder(nn.Module):
    """All four encoder types: the trunk, ``n_styles`` heads and, for the FPN types, the
    lateral layers. ``style_dim`` is 512 for FFHQ."""

    def __init__(self, encoder_type: str, n_styles: int = 18, style_dim: int = 512):
        super().__init__()
        if encoder_type not in ENCODER_TYPES:
            raise ValueError(f"encoder_type must be one of {ENCODER_TYPES}, got {encoder_type!r}")
        self.encoder_type = encoder_type
        self.fpn = encoder_type in SINGLE_PASS
        self.progressive = encoder_type in ("ProgressiveBackboneEncoder", "Encoder4Editing")
        self.input_layer = input_layer(3 if self.fpn else 6)
        self.body = ir_se50_body()
        # FPN heads read the 16×16 map (coarse: 0-2), 32×32 (middle: 3-6) or 64×64 (fine: 7+)
        spatial = [16 if i < 3 else 32 if i < 7 else 64 for i in range(n_styles)] if self.fpn \
            else [16] * n_styles
        self.styles = nn.ModuleList(GradualStyleBlock(512, style_dim, s) for s in spatial)
        if self.fpn:
            self.latlayer1 = nn.Conv2d(256, 512, 1)
            self.latlayer2 = nn.Conv2d(128, 512, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x ``[N, 3 or 6, 256, 256]`` → W+ offsets ``[N, n_styles, style_dim]``."""
        x = self.input_layer(x)
        if not self.fpn:
            x = self.body(x)
            feats = [x] * len(self.styles)
        else:
            for i, unit in enumerate(self.body):
                x = unit(x)
                if i == 6:
                    c1 = x  # 128 ch, 1/4
                elif i == 20:
                    c2 = x  # 256 ch, 1/8
            p2 = _upsample_add(x, self.latlayer1(c2))
            p1 = _upsample_add(p2, self.latlayer2(c1))
            feats = [x if i < 3 else p2 if i < 7 else p1 for i in range(len(self.styles))]
        if self.progressive:  # head 0 sets every layer, the others add deltas
            w0 = self.styles[0](feats[0])
            deltas = [torch.zeros_like(w0)] + [h(f) for h, f in zip(self.styles[1:], feats[1:])]
            return w0[:, None] + torch.stack(deltas, 1)
        return torch.stack([h(f) for h, f in zip(self.styles, feats)], 1)


def _upsample_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=y.shape[2:], mode="bilinear", align_corners=True) + y


# -- inversion -----------------------------------------------------------------------------------
@dataclass
class Encoder:
    """A loaded encoder with its generator. ``invert`` turns aligned faces into W+."""
    net: PSPEncoder
    generator: stylegan2.Generator
    latent_avg: torch.Tensor  # [n_styles, style_dim]
    add_latent_avg: bool  # single-pass types: opts['start_from_latent_avg']
    input_size: int = 256
    iterations: int = 5  # ReStyle's n_iters_per_batch
    avg_image: torch.Tensor | None = None  # [1, 3, S, S], ReStyle's starting image

    @property
    def encoder_type(self) -> str:
        return self.net.encoder_type

    @property
    def iterative(self) -> bool:
        return self.net.encoder_type in ITERATIVE

    def face_pool(self, images: torch.Tensor) -> torch.Tensor:
        """Generator output → the encoder's input size (a box mean: 4×4 at 1024 → 256)."""
        return F.adaptive_avg_pool2d(images, self.input_size)

    def decode(self, wplus: torch.Tensor, precision: Precision = FP32) -> torch.Tensor:
        """W+ → pooled images ``[N, 3, S, S]`` with the stored noise, as ReStyle decodes."""
        return self.face_pool(precision.render.synthesis(self.generator, wplus,
                                                         noise_mode="const"))

    def encode(self, x: torch.Tensor, precision: Precision = FP32) -> torch.Tensor:
        """One encoder pass ``[N, 3 or 6, S, S]`` → W+ offsets ``[N, n_styles, D]`` (float32),
        in the precision's encoder arithmetic."""
        with precision.encoder_autocast(x.device):
            return self.net(x).float()

    @torch.no_grad()
    def invert(self, images: torch.Tensor, iterations: int | None = None,
               progress: Callable[[int, int], None] | None = None,
               precision: Precision = FP32) -> torch.Tensor:
        """images ``[N, 3, S, S]`` in [-1, 1] (S = ``input_size``, 256) → W+ ``[N, 18, 512]``.

        ReStyle types refine ``iterations`` times (default 5) from the average face; the
        single-pass types ignore ``iterations`` apart from checking it. ``precision``: the
        encoder's arithmetic and the intermediate decodes' render path (``plan.Plan.resolve``;
        bf16 where verified is about twice as fast on a CPU, with W+ within a small fraction
        of the encoder's own error, ``bench/invert.py``)."""
        _check_images(images, self.input_size)
        images = images.to(self.latent_avg.device, torch.float32)
        n_iter = self.iterations if iterations is None else iterations
        if not isinstance(n_iter, int) or not 1 <= n_iter <= 20:
            raise ValueError(f"iterations must be an integer from 1 to 20, got {iterations!r}")
        if not self.iterative:
            codes = self.encode(images, precision)
            out = codes + self.latent_avg if self.add_latent_avg else codes
            if progress:
                progress(1, 1)
            return out
        codes = self.latent_avg.expand(images.shape[0], -1, -1)
        y = self.avg_image.expand(images.shape[0], -1, -1, -1)
        for k in range(n_iter):
            codes = codes + self.encode(torch.cat([images, y], 1), precision)
            if k + 1 < n_iter:  # the last decode would only make a picture: skip it
                y = self.decode(codes, precision)
            if progress:
                progress(k + 1, n_iter)
        return codes


def _check_images(images, size: int) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3 \
            or tuple(images.shape[2:]) != (size, size) or images.shape[0] == 0:
        got = list(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor [N, 3, {size}, {size}] in [-1, 1], got {got}")


def preprocess(images: list[Image.Image] | Image.Image, size: int = 256) -> torch.Tensor:
    """Aligned PIL faces → ``[N, 3, size, size]`` in [-1, 1]: bilinear resize (aspect not
    kept, as the encoders were trained), then (x/255 − 0.5)/0.5."""
    images = [images] if isinstance(images, Image.Image) else list(images)
    arrays = [np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), np.float32)
              for im in images]
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    return (x / 255.0 - 0.5) / 0.5  # ToTensor, then Normalize(0.5, 0.5), in that order


# -- loading -----------------------------------------------------------------------------------
def load_encoder(source: str | os.PathLike | Mapping, generator: stylegan2.Generator | None = None,
                 device: str | torch.device | None = None) -> Encoder:
    """An ``Encoder`` from an official checkpoint (path or loaded dict), loaded strictly and
    without unpickling code. ``generator``: use this one (e.g. the FFHQ generator already
    loaded) instead of the checkpoint's ``decoder.*`` copy, which is then never built."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "encoder checkpoint dict"
    try:
        ckpt = stylegan2.read_checkpoint(source) if isinstance(source, (str, os.PathLike)) \
            else dict(source)
    except stylegan2.CheckpointError as exc:
        raise EncoderCheckpointError(str(exc)) from exc
    opts, state = ckpt.get("opts"), ckpt.get("state_dict")
    if not isinstance(opts, Mapping) or not isinstance(state, Mapping):
        raise EncoderCheckpointError(
            f"{name} is not a pSp/ReStyle/e4e encoder checkpoint: it needs 'state_dict' and "
            f"'opts' (found keys {', '.join(map(str, list(ckpt)[:6]))})")
    enc_type = opts.get("encoder_type")
    if enc_type not in ENCODER_TYPES:
        raise EncoderCheckpointError(f"{name}: unsupported encoder_type {enc_type!r}; "
                                     f"supported: {', '.join(ENCODER_TYPES)}")
    enc_state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    if generator is None:
        try:
            generator = stylegan2.load_generator({"state_dict": state})
        except stylegan2.CheckpointError as exc:
            raise EncoderCheckpointError(f"{name}: {exc}") from exc
    n_styles = _n_styles(enc_state, name)
    net = PSPEncoder(enc_type, n_styles, generator.style_dim)
    _load_strict(net, enc_state, name)
    net.eval().requires_grad_(False)
    if n_styles != generator.n_latent:
        raise EncoderCheckpointError(f"{name} predicts {n_styles} W+ layers but the generator "
                                     f"has {generator.n_latent}")
    latent_avg = _latent_avg(ckpt.get("latent_avg"), generator, n_styles, name)
    enc = Encoder(net, generator, latent_avg,
                  add_latent_avg=enc_type in ITERATIVE or bool(opts.get("start_from_latent_avg", True)),
                  input_size=int(opts.get("input_size", 256)),
                  iterations=int(opts.get("n_iters_per_batch", 5)))
    if device is not None:
        enc.net.to(device)
        enc.generator.to(device)
        enc.latent_avg = enc.latent_avg.to(device)
    if enc.iterative:  # the average face, decoded once here instead of on every call
        with torch.no_grad():
            enc.avg_image = enc.decode(enc.latent_avg[None])
    return enc


def _n_styles(state: Mapping, name: str) -> int:
    heads = {k.split(".")[1] for k in state if k.startswith("styles.")}
    if not heads:
        raise EncoderCheckpointError(f"{name} has no 'encoder.styles.*' heads: not an encoder")
    return len(heads)


def _load_strict(net: nn.Module, state: Mapping, name: str) -> None:
    try:
        stylegan2.checkpoint.load_state_strict(net, state, f"{name} ({net.encoder_type})")
    except stylegan2.ArchitectureMismatchError as exc:
        raise EncoderCheckpointError(str(exc)) from exc


def _latent_avg(t, generator: stylegan2.Generator, n_styles: int, name: str) -> torch.Tensor:
    """``[n_styles, D]`` from the file (``[n, D]`` or ``[D]``), else the generator's mean."""
    if t is None:
        return generator.latent_avg.detach().clone().repeat(n_styles, 1)
    if not isinstance(t, torch.Tensor) or t.shape[-1] != generator.style_dim or \
            t.ndim not in (1, 2) or (t.ndim == 2 and t.shape[0] not in (1, n_styles)):
        raise EncoderCheckpointError(f"{name}: latent_avg must be [{generator.style_dim}] or "
                                     f"[{n_styles}, {generator.style_dim}]")
    return t.float().reshape(-1, generator.style_dim).expand(n_styles, -1).clone()


def load_arcface(source: str | os.PathLike | Mapping) -> ArcFace:
    """IR-SE50 ArcFace from ``model_ir_se50.pth`` (a bare state dict), strictly, in eval mode."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "ArcFace state dict"
    try:
        state = stylegan2.read_checkpoint(source) if isinstance(source, (str, os.PathLike)) \
            else dict(source)
        net = ArcFace()
        stylegan2.checkpoint.load_state_strict(net, state, f"{name} (IR-SE50 ArcFace)")
    except stylegan2.CheckpointError as exc:
        raise EncoderCheckpointError(str(exc)) from exc
    return net.eval().requires_grad_(False)
