"""The one place that composes the stages: photo → aligned face → W+ → motion → mp4.

    mm = Micromotion.load()                     # official weights, loaded once
    mm.animate("photo.jpg", "smile", "smile.mp4", strength=5)

    d, anchors = mm.direction_from_text("a person with {degree} smile")   # CLIP anchors
    d, anchors = mm.direction_from_video("clip.mp4")                          # video anchors
    mm.interpolation(LatentVideo("circle", source="photo.jpg"), "loop.mp4")   # no direction

Progress goes through one callback ``progress(stage, done, total)``, stage being one of
``"align"``, ``"invert"``, ``"anchors"`` (text optimisation steps), ``"direction"``,
``"equalise"`` (circle steps), ``"render"``.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np
import torch

import stylegan2

from . import direction as directions
from . import weights
from .align import AlignedFace, align_face
from .anchors import (DEFAULT_DEGREES, TextAnchors, VideoAnchors, prompts_from_template,
                      text_anchors, video_anchors)
from .direction import Direction, direction_from_anchors
from .encoders import Encoder, load_encoder, preprocess
from .errors import DirectionFileError, OptionError, VideoError
from .images import ImageSource
from .interpolate import (LatentVideo, check_video, circle_at, circle_axes, cubic_at,
                          equal_step_angles, mix_layers, positions, slerp_at)
from .render import (MAX_FRAMES, check_int, check_number, check_options, check_size,
                     latent_path, render_frames, write_video)
from .paste import PasteBack
from .samples import seed_latent
from .timeline import Cue, check_cue, composed_path
from .transfer import SMOOTH_SIGMA, MotionOffsets, motion_offsets, smooth
from .video import MAX_FPS, MAX_SECONDS, Clip, read_clip, read_frames

Progress = Callable[[str, int, int], None]
Motion = Union[str, os.PathLike, Direction, torch.Tensor]
ENCODERS = {"restyle_psp": "restyle_psp_ffhq_encode", "restyle_e4e": "restyle_e4e_ffhq_encode",
            "e4e": "e4e_ffhq_encode"}


@dataclass
class TextMotion:
    """A motion described in words: anchors from CLIP (``Micromotion.direction_from_text``)."""
    template: str  # with {degree}, e.g. "a person with {degree} smile"
    degrees: Sequence[str] = DEFAULT_DEGREES
    seed: int = 0
    steps: int = 40
    rank: int = 4
    loss_res: int | None = 256


@dataclass
class VideoMotion:
    """A motion shown in a clip: anchors from its frames (``direction_from_video``)."""
    video: str | os.PathLike | Clip
    max_frames: int = 16
    rank: int = 4


@dataclass
class Animation:
    video: Path
    aligned: AlignedFace
    direction: Direction
    anchor_images: np.ndarray | None  # uint8 [K, S, S, 3] for text and video motions


@dataclass
class Transferred:
    video: Path
    aligned: AlignedFace  # the target face
    motion: MotionOffsets  # the driver's projected offsets, layers and their energy
    latents: torch.Tensor  # W+ [T, L, D]: the target's path, one per frame
    meta: dict  # how it was made (driver, fps, frames, layers, energy, notes)


@dataclass
class LatentAnimation:
    video: Path
    latents: torch.Tensor  # W+ [T, n_latent, style_dim], one per frame
    meta: dict  # how it was made (kind, keyframes, layers, frame count, circle step MSEs)
    aligned: list[AlignedFace]  # the photos used, aligned as they were inverted


@dataclass
class Inversion:
    wplus: torch.Tensor  # [1, n_latent, style_dim]
    aligned: AlignedFace


class Micromotion:
    """Models loaded once; every method takes user inputs and raises ``MicromotionError`` (or
    ``stylegan2.CheckpointError``) with a clear sentence when they are wrong."""

    def __init__(self, generator: stylegan2.Generator, encoder: Encoder,
                 weights_folder: str | os.PathLike | None = None, synthetic: bool = False,
                 dtype: torch.dtype | None = None, fetch: bool = False):
        self.generator, self.encoder = generator, encoder
        self.weights_folder = Path(weights_folder) if weights_folder else weights.weights_dir()
        self.synthetic = synthetic
        self.fetch = fetch  # download weights files (presets, CLIP, ArcFace) when missing
        self.dtype = dtype  # torch.bfloat16: faster CPU inversion, anchors and rendering
        self._text_models = None  # CLIP and ArcFace, loaded on the first text direction
        self._presets: dict[str, Direction] = {}

    @classmethod
    def load(cls, weights_folder: str | os.PathLike | None = None, encoder: str = "restyle_psp",
             device: str | torch.device | None = None, dtype: torch.dtype | None = None,
             fetch: bool = False, progress: weights.Progress | None = None) -> "Micromotion":
        """The FFHQ generator and an encoder (``restyle_psp``, ``restyle_e4e`` or ``e4e``)
        from the weights folder; ``fetch`` downloads missing files (``weights.fetch``)."""
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
        names = ["stylegan2-ffhq-config-f", ENCODERS[encoder]]
        gen_path, enc_path = (weights.ensure(names, weights_folder, progress=progress).values()
                              if fetch else (weights.path_of(n, weights_folder) for n in names))
        gen = stylegan2.load_generator(gen_path, device=device)
        return cls(gen, load_encoder(enc_path, generator=gen, device=device), weights_folder,
                   dtype=dtype, fetch=fetch)

    def weights_file(self, name: str) -> Path:
        """Manifest entry ``name`` in this pipeline's weights folder (fetched if allowed)."""
        if self.fetch:
            return weights.fetch(name, self.weights_folder)
        return weights.path_of(name, self.weights_folder)

    @classmethod
    def synthetic_models(cls, weights_folder: str | os.PathLike | None = None,
                         seed: int = 0, fetch: bool = False) -> "Micromotion":
        """Seeded synthetic weights with the FFHQ latent shape (18 × 512, 1024 px, narrow
        channels), so the published directions apply (``fetch``: download them when missing).
        They draw abstract patterns, not faces."""
        from .synthetic import encoder_checkpoint, synthetic_encoder

        gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, max_channels=32,
                                            seed=seed)
        net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim, seed + 1)
        return cls(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen),
                   weights_folder, synthetic=True, fetch=fetch)

    # -- stages ------------------------------------------------------------------------------
    def invert(self, image: ImageSource, name: str | None = None,
               progress: Progress | None = None) -> Inversion:
        """Align the most confident face and invert it: W+ ``[1, n_latent, style_dim]``."""
        _report(progress, "align", 0, 1)
        aligned = align_face(image, self.encoder.input_size, name=name)
        _report(progress, "align", 1, 1)
        x = preprocess(aligned.image, self.encoder.input_size)
        w = self.encoder.invert(x, dtype=self.dtype,
                                progress=lambda i, n: _report(progress, "invert", i, n))
        return Inversion(w, aligned)

    def preset(self, name: str) -> Direction:
        """One of the five published directions (``direction.PRESETS``), read once."""
        directions.check_preset(name)
        if name not in self._presets:
            path = self.weights_file(f"direction-{name}")
            self._presets[name] = self._checked(directions.load_direction(path))
        return self._presets[name]

    def motion(self, motion: Motion) -> Direction:
        """A preset name, a direction file, a ``Direction`` or a ``[L, D]`` tensor → Direction."""
        if isinstance(motion, Direction):
            return self._checked(motion)
        if isinstance(motion, torch.Tensor):
            return self._checked(Direction(motion.detach().float(), {"source": "tensor"}))
        path = Path(motion)
        if path.is_file() or path.suffix or len(path.parts) > 1:
            return self._checked(directions.load_direction(path))
        return self.preset(str(motion))  # a bare word: a preset name, or a clear error

    def direction_from_text(self, template: str, degrees: Sequence[str] = DEFAULT_DEGREES,
                            seed: int = 0, steps: int = 40, rank: int = 4,
                            loss_res: int | None = 256,
                            progress: Progress | None = None) -> tuple[Direction, TextAnchors]:
        """A direction from CLIP-guided anchors of the face ``z(seed)`` over the template's
        degrees (the paper's text anchors, ``anchors.text_anchors``). ``loss_res``: the size of
        the early-exit image the losses see (``None``: full resolution)."""
        prompts_from_template(template, degrees)  # a bad template fails before loading CLIP
        check_int("seed", seed, 0, 2 ** 32 - 1)
        check_int("steps", steps, 1, 1000)
        check_int("rank", rank, 1, 64)
        res = None if loss_res is None else min(loss_res, self.generator.size)
        if res is not None and (isinstance(res, bool) or not isinstance(res, int) or res < 32
                                or res & (res - 1)):
            raise OptionError(f"loss_res must be a power of two from 32 to "
                              f"{self.generator.size}, or None for full size; got {loss_res!r}")
        clip, arcface = self.text_models()
        a = text_anchors(self.generator, clip, arcface, template, degrees, seed, steps,
                         loss_res=res, dtype=self.dtype,
                         progress=lambda i, n: _report(progress, "anchors", i, n))
        meta = {"source": "text", "template": template, "degrees": list(map(str, degrees)),
                "seed": seed, "steps": steps, "loss_res": res, "final_losses": a.final_losses}
        return self._from_anchors(a.latents, rank, meta, progress), a

    def direction_from_video(self, video: str | os.PathLike | Clip, max_frames: int = 16,
                             rank: int = 4, max_seconds: float = MAX_SECONDS,
                             progress: Progress | None = None) -> tuple[Direction, VideoAnchors]:
        """A direction from a short clip of one face doing the motion: up to ``max_frames``
        evenly spaced frames, aligned (tracked), inverted, as anchors in time order."""
        check_int("rank", rank, 1, 64)
        clip = video if isinstance(video, Clip) else read_clip(video, max_frames, max_seconds)
        a = video_anchors(self.encoder, clip, dtype=self.dtype,
                          progress=lambda stage, i, n: _report(progress, stage, i, n))
        meta = {"source": "video", "file": clip.name, "fps": clip.fps,
                "times": a.times, "notes": a.notes}
        return self._from_anchors(a.latents, rank, meta, progress), a

    def direction_from(self, motion: TextMotion | VideoMotion, progress: Progress | None = None
                       ) -> tuple[Direction, TextAnchors | VideoAnchors]:
        """``direction_from_text`` or ``direction_from_video``, as the motion says."""
        make = self.direction_from_text if isinstance(motion, TextMotion) else \
            self.direction_from_video
        return make(**vars(motion), progress=progress)

    def text_models(self):
        """(CLIP guide, ArcFace), loaded on first use and kept."""
        if self._text_models is None:
            from .clip_guidance import CLIPGuide, load_clip
            from .encoders import load_arcface
            if self.synthetic:
                from .synthetic import synthetic_arcface_state, synthetic_clip_state
                self._text_models = (CLIPGuide(synthetic_clip_state()),
                                     load_arcface(synthetic_arcface_state()))
            else:
                self._text_models = (load_clip(self.weights_file("clip-vit-b-32")),
                                     load_arcface(self.weights_file("model_ir_se50")))
            device = self.generator.input.input.device
            for m in (self._text_models[0].model, self._text_models[1]):
                m.to(device)
        return self._text_models

    def _from_anchors(self, latents: torch.Tensor, rank: int, meta: dict,
                      progress: Progress | None) -> Direction:
        _report(progress, "direction", 0, 1)
        vector, diag = direction_from_anchors(latents, rank)
        _report(progress, "direction", 1, 1)
        meta = dict(meta, rank=diag["rank"], anchors=int(latents.shape[0]),
                    explained_energy=diag["explained_energy"],
                    sparse_energy=diag["sparse_energy"])
        return self._checked(Direction(vector, meta))

    def _checked(self, d: Direction) -> Direction:
        want = (self.generator.n_latent, self.generator.style_dim)
        if tuple(d.vector.shape) != want:
            raise DirectionFileError(f"the direction is {list(d.vector.shape)} but this "
                                     f"generator needs {list(want)}")
        return d

    def render(self, wplus: torch.Tensor, direction: Direction, out: str | os.PathLike,
               strength: float = 5.0, frames: int = 100, fps: float = 30,
               curve: str = "linear", size: int | None = None, left=None,
               gif: str | os.PathLike | None = None, batch_size: int = 4,
               progress: Progress | None = None) -> Path:
        """Frames ``wplus + t·strength·direction`` → an mp4 at ``out`` (and a GIF at ``gif``)."""
        check_options(frames, fps, strength, curve, size, self.generator.size)
        latents = latent_path(wplus, direction.vector.to(wplus.device), strength, frames, curve)
        return self.render_latents(latents, out, fps, size, left, gif, batch_size, progress)

    def render_latents(self, latents: torch.Tensor, out: str | os.PathLike, fps: float = 30,
                       size: int | None = None, left=None, gif: str | os.PathLike | None = None,
                       batch_size: int = 4, progress: Progress | None = None,
                       paste: PasteBack | None = None) -> Path:
        """W+ ``[T, n_latent, style_dim]``, a frame each → an mp4 at ``out`` (batched),
        pasted back into the photo with ``paste``."""
        batches = render_frames(self.generator, latents, batch_size, size, self.dtype,
                                lambda i, n: _report(progress, "render", i, n))
        return write_video(batches, out, fps, left=left, gif_path=gif, paste=paste)

    # -- interpolation videos ----------------------------------------------------------------
    def seed_latents(self, seeds: Sequence[int], truncation: float = 0.7) -> torch.Tensor:
        """W+ ``[K, n_latent, style_dim]`` of the seeds' faces (z(seed), truncated)."""
        w = self.generator.mapping(self._seed_z(seeds), truncation)
        return w[:, None].expand(-1, self.generator.n_latent, -1)

    def interpolation(self, video: LatentVideo, out: str | os.PathLike, fps: float = 30,
                      size: int | None = None, gif: str | os.PathLike | None = None,
                      progress: Progress | None = None) -> LatentAnimation:
        """An interpolation video (walk, style mixing or circle) → mp4 at ``out``."""
        check_number("fps", fps, 1, 120)
        check_size("size", size, self.generator.size)
        latents, meta, aligned = self.latent_video(video, progress)
        path = self.render_latents(latents, out, fps, size, gif=gif, progress=progress)
        return LatentAnimation(path, latents, meta, aligned)

    @torch.no_grad()
    def latent_video(self, video: LatentVideo, progress: Progress | None = None
                     ) -> tuple[torch.Tensor, dict, list[AlignedFace]]:
        """The video's W+ path ``[T, n_latent, style_dim]``, how it was made, and the aligned
        photos. Every option is checked before any photo is inverted."""
        v, layers = video, check_video(video, self.generator.n_latent, self.generator.size)
        aligned: list[AlignedFace] = []

        def wplus(photo: ImageSource) -> torch.Tensor:
            inv = self.invert(photo, progress=progress)
            aligned.append(inv.aligned)
            return inv.wplus[0]

        def held() -> torch.Tensor:
            return (self.seed_latents([v.source], v.truncation)[0]
                    if isinstance(v.source, int) else wplus(v.source))

        meta = {"source": "interpolation", "kind": v.kind, "seeds": list(map(int, v.seeds)),
                "photos": len(v.photos), "truncation": v.truncation}
        if v.kind == "circle":
            path, steps = self._circle(held(), v, layers, progress)
            meta.update(radius=v.radius, step_mse_mean=float(steps.mean()),
                        step_mse_spread=float(steps.max() / steps.min()))
        else:
            path = self._walk(v, [wplus(p) for p in v.photos])
            meta.update(method=v.method, frames_per_segment=v.frames_per_segment, loop=v.loop)
            if v.kind != "walk":
                path = mix_layers(held(), path, layers)
        meta.update(layers=layers, frames=len(path))
        return path, meta, aligned

    def _walk(self, v: LatentVideo, photo_keys: list[torch.Tensor]) -> torch.Tensor:
        s = positions(len(photo_keys) + len(v.seeds), v.frames_per_segment, v.loop)
        if v.method == "slerp":
            z = slerp_at(self._seed_z(v.seeds), s, v.loop)
            return self.generator.mapping(z, v.truncation)[:, None].expand(
                -1, self.generator.n_latent, -1)
        keys = photo_keys + list(self.seed_latents(v.seeds, v.truncation))
        return cubic_at(torch.stack(keys), s, v.loop)

    def _circle(self, centre: torch.Tensor, v: LatentVideo, layers: list[int],
                progress: Progress | None) -> tuple[torch.Tensor, torch.Tensor]:
        offsets = self.seed_latents(v.seeds[:2], v.truncation)[:, 0] - self.generator.latent_avg
        axes = circle_axes(offsets)

        def measure(angles: torch.Tensor) -> torch.Tensor:
            w = circle_at(centre, axes, v.radius, angles, layers)
            return self.generator.synthesis(w, max_res=v.measure_res, dtype=self.dtype).clamp(-1, 1)

        angles, steps = equal_step_angles(measure, v.frames,
                                          progress=lambda i, n: _report(progress, "equalise", i, n))
        return circle_at(centre, axes, v.radius, angles, layers), steps

    def _seed_z(self, seeds: Sequence[int]) -> torch.Tensor:
        z = torch.cat([seed_latent(self.generator, int(s)) for s in seeds])
        return z.to(self.generator.latent_avg.device)

    def animate(self, image: ImageSource, motion: Motion | Sequence[Cue], out: str | os.PathLike,
                strength: float = 5.0, frames: int = 100, fps: float = 30,
                curve: str = "linear", size: int | None = None, side_by_side: bool = False,
                gif: str | os.PathLike | None = None, name: str | None = None,
                paste_back: bool | None = None, progress: Progress | None = None) -> Path:
        """Photo + motion → mp4: the face of the photo performing the motion. The defaults
        reproduce the original (100 frames of w + i/100·5·d at 30 fps, 1024 px), pasted back
        into the photo when it is larger than the face's crop (``paste_back``)."""
        return self.animation(image, motion, out, strength, frames, fps, curve, size,
                              side_by_side, gif, name, paste_back, progress).video

    def animation(self, image: ImageSource, motion: Motion | TextMotion | VideoMotion | Sequence[Cue],
                  out: str | os.PathLike, strength: float = 5.0, frames: int = 100,
                  fps: float = 30, curve: str = "linear", size: int | None = None,
                  side_by_side: bool = False, gif: str | os.PathLike | None = None,
                  name: str | None = None, paste_back: bool | None = None,
                  progress: Progress | None = None) -> Animation:
        """``animate`` with everything made on the way: the aligned face, the direction and,
        for a ``TextMotion`` or ``VideoMotion``, the anchor images. ``motion`` may also be
        ``"text:TEMPLATE"``, ``"video:CLIP"``, or a timeline: a list of ``timeline.Cue``
        (``timeline.parse_cues`` reads ``"smile:5:0-40; headsTurn:3:40-99"``), each with its
        own strength, frames and curve (then ``strength`` and ``curve`` are the cues'). Every input is checked
        before the slow stages; the photo is inverted before anchors are made, so a photo
        without a face fails in seconds, not after the optimisation. ``paste_back``: the
        frames go back into the photo (None: when the photo is larger than the face's crop)."""
        check_options(frames, fps, strength, curve, size, self.generator.size)
        cues = _timeline(motion)
        if cues is not None:
            for cue in cues:
                check_cue(cue, frames)
        specs = [self._prepared(c.motion) for c in cues] if cues else [self._prepared(motion)]
        inv = self.invert(image, name=name, progress=progress)
        made = [self._resolved(spec, progress) for spec in specs]
        images = [m[1] for m in made if m[1] is not None]
        anchor_images = np.concatenate(images) if images else None
        if cues is None:
            direction = made[0][0]
            latents = latent_path(inv.wplus, direction.vector.to(inv.wplus.device), strength,
                                  frames, curve)
        else:
            latents = composed_path(inv.wplus, [d.vector for d, _ in made], cues, frames)
            direction = Direction((latents[-1] - inv.wplus[0]).float(), {
                "source": "timeline", "cues": [
                    dict(d.meta, strength=c.strength, start=c.start, end=c.end, curve=c.curve)
                    for (d, _), c in zip(made, cues)]})
        paste = paste_for(inv.aligned, paste_back)
        video = self.render_latents(latents, out, fps, size, _left(inv.aligned, paste,
                                                                   side_by_side),
                                    gif, progress=progress, paste=paste)
        return Animation(video, inv.aligned, direction, anchor_images)

    def _prepared(self, motion) -> Direction | TextMotion | VideoMotion:
        """A motion checked (cheaply): text and video motions stay to be made after the photo
        is inverted; everything else becomes its ``Direction`` now."""
        if isinstance(motion, str) and motion.startswith(("text:", "video:")):
            kind, _, value = motion.partition(":")
            motion = TextMotion(value.strip()) if kind == "text" else VideoMotion(value.strip())
        if isinstance(motion, TextMotion):
            prompts_from_template(motion.template, motion.degrees)
            return motion
        if isinstance(motion, VideoMotion):
            return dataclasses.replace(motion, video=read_clip(motion.video, motion.max_frames))
        return self.motion(motion)

    def _resolved(self, spec, progress: Progress | None) -> tuple[Direction, np.ndarray | None]:
        if isinstance(spec, Direction):
            return spec, None
        d, anchors = self.direction_from(spec, progress)
        return d, anchors.images

    # -- motion transfer ---------------------------------------------------------------------
    def transfer(self, target: ImageSource, driving, out: str | os.PathLike,
                 neutral: int | ImageSource = 0, strength: float = 1.0, rank: int = 4,
                 layers: Sequence[int] | None = None, smoothing: float = SMOOTH_SIGMA,
                 fps: float | None = None, size: int | None = None,
                 paste_back: bool | None = None, side_by_side: bool = False,
                 frames: int = 100, curve: str = "linear", max_frames: int = MAX_FRAMES,
                 progress: Progress | None = None) -> Transferred:
        """The target photo's face performs the driver's motion (``transfer``: no training).

        ``driving`` a clip (path or ``Clip``) of one face: its frames at ``fps`` (None: the
        clip's own rate), each offset from frame ``neutral`` → one output frame, at the
        driver's timing (or the driver's W+ ``[T, L, D]`` itself, at ``fps`` or 30). Or ``driving`` a photo of the driver mid-motion with ``neutral`` a
        photo of the same driver at rest → ``frames`` frames along ``curve``, like a preset.
        ``layers`` None: the layers holding most of the motion's energy (reported)."""
        check_number("strength", strength, -10, 10)
        check_size("size", size, self.generator.size)
        single = not isinstance(neutral, int)
        given = isinstance(driving, torch.Tensor)  # the driver's W+ [T, L, D] itself
        if fps is not None:
            check_number("fps", fps, 1, MAX_FPS)
        if single:
            check_options(frames, fps or 30, strength, curve, size, self.generator.size)
        elif not given:
            clip = driving if isinstance(driving, Clip) else read_frames(driving, fps, max_frames)
            check_int("neutral frame", neutral, 0, len(clip.frames) - 1)
        inv = self.invert(target, progress=progress)  # a target without a face fails first
        notes, out_fps, name = [], fps or 30, "latents" if given else "image"
        if single:
            latents = torch.cat([self.invert(p, progress=progress).wplus
                                 for p in (neutral, driving)])
        elif given:
            latents = smooth(driving.to(inv.wplus), smoothing)
        else:
            latents, notes = self._driver_latents(clip, progress)
            latents, out_fps, name = smooth(latents, smoothing), clip.fps, clip.name
            if abs(clip.native_fps / out_fps - 1) > 0.01:
                notes.append(f"{name} runs at {clip.native_fps:.3g} fps; its frames were taken "
                             f"at {out_fps:.3g} fps, so its timing is kept")
        _report(progress, "direction", 0, 1)
        motion = motion_offsets(latents, 0 if single else neutral, rank, layers)
        _report(progress, "direction", 1, 1)
        path = (latent_path(inv.wplus, motion.offsets[1], strength, frames, curve) if single
                else inv.wplus + strength * motion.offsets)
        paste = paste_for(inv.aligned, paste_back)
        video = self.render_latents(path, out, out_fps, size, _left(inv.aligned, paste,
                                                                    side_by_side),
                                    progress=progress, paste=paste)
        meta = {"source": "transfer", "driver": name,
                "fps": out_fps, "frames": len(path), "layers": motion.layers,
                "energy": [round(e, 4) for e in motion.energy], "rank": motion.rank,
                "smoothing": 0 if single else smoothing, "notes": notes + (paste.notes if paste else [])}
        return Transferred(video, inv.aligned, motion, path, meta)

    def _driver_latents(self, clip: Clip, progress: Progress | None
                        ) -> tuple[torch.Tensor, list[str]]:
        """W+ ``[T, L, D]`` of every frame of the clip; a frame without the face holds the
        nearest frame that has one. Several people in most frames is an error. A frame the clip
        repeats (read faster than it runs) is aligned and inverted once."""
        first = {}  # each distinct frame → the first place it shows
        slot = [first.setdefault(id(f), k) for k, f in enumerate(clip.frames)]
        distinct = sorted(set(slot))
        a = video_anchors(self.encoder, dataclasses.replace(
            clip, frames=[clip.frames[k] for k in distinct],
            indices=[clip.indices[k] for k in distinct]), dtype=self.dtype,
            progress=lambda stage, i, n: _report(progress, stage, i, n))
        crowded = sum(n > 1 for n in a.people)
        if 2 * crowded > len(a.people):
            raise VideoError(f"{clip.name} shows several people ({max(a.people)} faces in "
                             f"{crowded} of {len(a.people)} frames); the driver must be one "
                             f"person: crop the clip to one face")
        kept, times = torch.tensor(a.times, dtype=torch.float64), clip.times
        nearest = [int((kept - times[k]).abs().argmin()) for k in slot]
        return a.latents[nearest], a.notes


def paste_for(aligned: AlignedFace, paste_back: bool | None = None) -> PasteBack | None:
    """The paste-back of an aligned face into its photo, or None: ``paste_back`` False, or
    None and the photo no larger than about the face's crop (under 1.5× its area)."""
    if paste_back is False or aligned.photo is None:
        return None
    side = float(np.hypot(*(aligned.quad[3] - aligned.quad[0])))
    if paste_back is None and aligned.photo.width * aligned.photo.height < 1.5 * side ** 2:
        return None
    return PasteBack(aligned.photo, aligned.quad)


def _timeline(motion) -> list[Cue] | None:
    """The cues of a timeline motion (a non-empty list of ``Cue``), else None."""
    if isinstance(motion, (list, tuple)) and motion and all(isinstance(c, Cue) for c in motion):
        return list(motion)
    return None


def _left(aligned: AlignedFace, paste: PasteBack | None, side_by_side: bool) -> np.ndarray | None:
    """What goes beside the video: the photo (pasted back) or the aligned face, if asked."""
    if not side_by_side:
        return None
    return np.asarray(aligned.photo if paste else aligned.image)


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
