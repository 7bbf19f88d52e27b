"""The pSp family of encoders (``../shared/reference/FORMATS.md`` §2): ReStyle-pSp, ReStyle-e4e,
pSp and e4e, as named by ``opts['encoder_type']`` in their official checkpoints:

| type | file | input | forward |
|---|---|---|---|
| ``BackboneEncoder`` | ``restyle_psp_ffhq_encode.pt`` | image ‖ previous output (6 ch) | 18 heads on the 16×16 map, iterated |
| ``ProgressiveBackboneEncoder`` | ``restyle_e4e_ffhq_encode.pt`` | 6 ch | head 0 for all layers + deltas, iterated |
| ``GradualStyleEncoder`` | ``psp_ffhq_encode.pt`` | image (3 ch) | FPN: heads 0-2 coarse, 3-6 middle, 7-17 fine |
| ``Encoder4Editing`` | ``e4e_ffhq_encode.pt`` | 3 ch | FPN, head 0 for all layers + deltas |

Shapes: images ``[N, 3, 256, 256]`` in [-1, 1] (FFHQ-aligned, see ``align.py``) → W+
``[N, 18, 512]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import stylegan2
from stylegan2.model import EqualLinear

from ...errors import EncoderCheckpointError
from ...precision import FP32, Precision
from .irse import input_layer, ir_se50_body
from .tensors import check_images, to_tensor

ITERATIVE = ("BackboneEncoder", "ProgressiveBackboneEncoder")
SINGLE_PASS = ("GradualStyleEncoder", "Encoder4Editing")
ENCODER_TYPES = ITERATIVE + SINGLE_PASS


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


@dataclass
class PSPFamily:
    """A loaded pSp-family encoder with its generator: the ``encoders.Encoder`` interface."""
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

    @property
    def device(self) -> torch.device:
        return self.latent_avg.device

    def preprocess(self, faces: Sequence[Image.Image] | Image.Image) -> torch.Tensor:
        """Aligned faces → ``[N, 3, S, S]`` in [-1, 1], as the pSp family was trained."""
        return to_tensor(faces, self.input_size)

    def probe(self) -> torch.Tensor:
        """A seeded input of one pass ``[1, 6 or 3, S, S]`` (image ‖ previous output for the
        ReStyle types), for timing ``encode``."""
        channels = 6 if self.iterative else 3
        x = torch.rand(1, channels, self.input_size, self.input_size,
                       generator=torch.Generator().manual_seed(2))
        return (x * 2 - 1).to(self.device)

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
               precision: Precision = FP32, start: torch.Tensor | None = None) -> torch.Tensor:
        """images ``[N, 3, S, S]`` in [-1, 1] (S = ``input_size``, 256) → W+ ``[N, 18, 512]``.

        ReStyle types refine ``iterations`` times (default 5) from the average face, or from
        ``start`` W+ ``[N, 18, 512]`` (a clip's previous frame: a warm start, so a frame near
        its neighbour needs fewer refinements; from a start of k refinements, n more equal
        k + n from the average face); the single-pass types ignore ``iterations`` and
        ``start`` apart from checking them. ``precision``: the
        encoder's arithmetic and the intermediate decodes' render path (``plan.Plan.resolve``;
        bf16 where verified is about twice as fast on a CPU, with W+ within a small fraction
        of the encoder's own error, ``bench/invert.py``)."""
        check_images(images, self.input_size)
        images = images.to(self.latent_avg.device, torch.float32)
        n_iter = self.iterations if iterations is None else iterations
        if not isinstance(n_iter, int) or not 1 <= n_iter <= 20:
            raise ValueError(f"iterations must be an integer from 1 to 20, got {iterations!r}")
        if start is not None and tuple(start.shape) != (len(images), *self.latent_avg.shape):
            raise ValueError(f"start must be W+ [{len(images)}, "
                             f"{', '.join(map(str, self.latent_avg.shape))}], got "
                             f"{list(start.shape)}")
        if not self.iterative:
            codes = self.encode(images, precision)
            out = codes + self.latent_avg if self.add_latent_avg else codes
            if progress:
                progress(1, 1)
            return out
        if start is None:
            codes = self.latent_avg.expand(images.shape[0], -1, -1)
            y = self.avg_image.expand(images.shape[0], -1, -1, -1)
        else:
            codes = start.to(images)
            y = self.decode(codes, precision)
        for k in range(n_iter):
            codes = codes + self.encode(torch.cat([images, y], 1), precision)
            if k + 1 < n_iter:  # the last decode would only make a picture: skip it
                y = self.decode(codes, precision)
            if progress:
                progress(k + 1, n_iter)
        return codes


def accepts(ckpt: Mapping) -> bool:
    """Whether a checkpoint is of this layout: ``opts['encoder_type']`` one of the four."""
    opts = ckpt.get("opts")
    return isinstance(opts, Mapping) and opts.get("encoder_type") in ENCODER_TYPES


def load(ckpt: Mapping, generator: stylegan2.Generator | None, name: str) -> PSPFamily:
    """The encoder of an official pSp / ReStyle / e4e checkpoint (``accepts`` it), strictly.
    ``generator``: use this one instead of the file's ``decoder.*`` copy, never built then."""
    opts, state = ckpt["opts"], ckpt.get("state_dict")
    if not isinstance(state, Mapping):
        raise EncoderCheckpointError(f"{name} has no 'state_dict': not an encoder checkpoint")
    enc_type = opts["encoder_type"]
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
    return PSPFamily(net, generator, latent_avg, add_latent_avg=enc_type in ITERATIVE or bool(
        opts.get("start_from_latent_avg", True)), input_size=int(opts.get("input_size", 256)),
        iterations=int(opts.get("n_iters_per_batch", 5)))


def to(enc: PSPFamily, device: str | torch.device | None) -> PSPFamily:
    """``enc`` on ``device`` (None: where it is), its average face decoded there once (not on
    every call)."""
    if device is not None:
        enc.net.to(device)
        enc.generator.to(device)
        enc.latent_avg = enc.latent_avg.to(device)
    if enc.iterative:
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
