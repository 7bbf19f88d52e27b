"""From latents to pixels and videos.

A motion is a path ``w + t_i · scale · d`` (``latent_path``); frames are rendered in batches,
clamped to [-1, 1] and quantised (never min-max normalised per frame, which makes videos
flicker), and streamed into an H.264 yuv420p mp4 (ffmpeg from ``imageio-ffmpeg``, encoding in
its own process; pasting back and feeding the encoder in a thread while later batches render).
"""
from __future__ import annotations

import math
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from PIL import Image

from stylegan2.paths import RenderPath

from . import ffmpeg
from ..errors import OptionError, ServerError
from ..fields import FIELDS, check
from ..precision import DEFAULT

CURVES = FIELDS["curve"].choices


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """images ``[N, 3, H, W]`` float in [-1, 1] → ``uint8 [N, H, W, 3]`` (clamped, linear)."""
    x = (images.detach().float().clamp(-1, 1) + 1) * 127.5
    return x.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def curve_weights(n_frames: int, curve: str = "linear") -> torch.Tensor:
    """t_i ``[n_frames]``: ``linear`` i/n (the original's i/100 for 100 frames: 0 → 0.99),
    ``ease`` an ease-in-out from 0 to 1, ``loop`` 0 → 1 → back towards 0, seamless when looped."""
    check("frames", n_frames)
    check_curve(curve)
    i = torch.arange(n_frames, dtype=torch.float64)
    return curve_shape(i / (n_frames - 1 if curve == "ease" else n_frames), curve).float()


def curve_shape(u: torch.Tensor, curve: str) -> torch.Tensor:
    """A curve's value at ``u`` in [0, 1]: ``linear`` u, ``ease`` (1 − cos πu)/2, ``loop``
    (1 − cos 2πu)/2 (0 at both ends, 1 half-way)."""
    check_curve(curve)
    if curve == "linear":
        return u
    return (1 - torch.cos((math.pi if curve == "ease" else 2 * math.pi) * u)) / 2


def check_curve(curve: str) -> None:
    if curve not in CURVES:
        raise OptionError(f"curve must be one of {', '.join(CURVES)}, got {curve!r}")


def latent_path(w: torch.Tensor, direction: torch.Tensor, scale: float = 5.0,
                n_frames: int = 100, curve: str = "linear") -> torch.Tensor:
    """w ``[L, D]`` or ``[1, L, D]`` and direction ``[L, D]`` → W+ ``[n_frames, L, D]``
    (``scale``'s limits are the request's; here it only has to be a number)."""
    check_number("scale", scale, -math.inf, math.inf)
    if w.numel() != direction.numel():
        raise OptionError(f"latent {list(w.shape)} and direction {list(direction.shape)} differ "
                          f"in size: they must come from the same generator")
    w = w.reshape(direction.shape)
    t = curve_weights(n_frames, curve).to(direction.device)
    return w[None] + (t * scale)[:, None, None] * direction[None]


@torch.no_grad()
def render_frames(generator, latents: torch.Tensor, batch_size: int = 4, size: int | None = None,
                  path: RenderPath = DEFAULT,
                  progress: Callable[[int, int], None] | None = None) -> Iterator[np.ndarray]:
    """W+ ``[T, L, D]`` → batches of ``uint8 [B, R, R, 3]`` frames, R = ``size`` or the
    generator's (smaller sizes stop the generator early), rendered along ``path``."""
    check_int("batch_size", batch_size, 1, 64)
    total = latents.shape[0]
    for start in range(0, total, batch_size):
        batch = latents[start:start + batch_size]
        yield to_uint8(path.synthesis(generator, batch, noise_mode="const", max_res=size))
        if progress:
            progress(min(start + batch_size, total), total)


@torch.no_grad()
def render_faces(generator, paths: list[torch.Tensor], sizes: list[int], batch_size: int = 4,
                 path: RenderPath = DEFAULT,
                 progress: Callable[[int, int], None] | None = None
                 ) -> Iterator[list[np.ndarray]]:
    """Several faces' W+ paths ``[T, L, D]`` (one each, of one length) → for each stretch of
    frames, each face's ``uint8 [B, R_k, R_k, 3]``, R_k = ``sizes[k]``: the faces of one size
    rendered in one batch (about ``batch_size`` W+ a batch, whole frames at a time)."""
    check_int("batch_size", batch_size, 1, 64)
    total = paths[0].shape[0]
    groups = {size: [k for k, s in enumerate(sizes) if s == size] for size in sorted(set(sizes))}
    step = max(1, batch_size // len(paths))
    for start in range(0, total, step):
        out: list[np.ndarray] = [np.empty(0)] * len(paths)
        for size, faces in groups.items():
            batch = torch.cat([paths[k][start:start + step] for k in faces])
            frames = to_uint8(path.synthesis(generator, batch, noise_mode="const", max_res=size))
            for k, part in zip(faces, np.split(frames, len(faces))):
                out[k] = part
        yield out
        if progress:
            progress(min(start + step, total), total)


class VideoWriter:
    """H.264 yuv420p mp4 writer fed with ``uint8 [B, H, W, 3]`` batches (ffmpeg in its own
    process), at ``fps`` — or, given ``times`` (s, one a frame, as a clip's were filmed), each
    frame at its own time; given ``max_rate`` (bits a second), never above it (a clip's frames
    re-encoded: not far above the size it came in). ``close`` checks ffmpeg's exit: a file it
    could not finish (a full disk, a killed encoder) is removed and raised as a
    ``ServerError``, never returned as a video."""

    def __init__(self, path: str | os.PathLike, fps: float = 30, quality: int = 8,
                 times: Sequence[float] | None = None, max_rate: float | None = None):
        check_number("fps", fps, 1, FIELDS["fps"].hi)  # a clip's own rate may be fractional
        self.path, self.fps, self.quality = Path(path), fps, quality
        self.max_rate = max_rate
        self.times = None if times is None else ffmpeg.shown_at(list(times))
        self._proc: subprocess.Popen | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self.frames = 0

    def _start(self, w: int, h: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rate = Fraction(self.fps).limit_denominator()
        crf = int((1 - self.quality / 10) * 51)  # imageio-ffmpeg's quality scale, kept
        self._log_file = tempfile.TemporaryFile()  # ffmpeg's words, read if it fails
        even = f"scale={w + w % 2}:{h + h % 2}" if w % 2 or h % 2 else None  # yuv420p
        filters = ["-vf", even] if even else []
        if self.times:  # (a script file: a long clip's times are past a command line's size)
            self._folder = tempfile.TemporaryDirectory()
            script = Path(self._folder.name) / "filters.txt"
            script.write_text(",".join(f for f in (self.times, even) if f))
            filters = ["-/vf", str(script), "-fps_mode", "passthrough",
                       "-enc_time_base:v", f"1/{ffmpeg.TICK}"]
        if self.max_rate:  # CRF's quality up to the cap, over x264's buffer of a second
            cap = str(int(self.max_rate))
            filters += ["-maxrate", cap, "-bufsize", cap]
        # x264's veryfast preset: 3× medium's speed at CRF 10 (a 5 s 1080p clip with film grain
        # 12.9 s against 37.5 s on a 2-core Zen 4; a 20 s 720p edit 87 s against 100 s in all),
        # 1–2 dB lower at 47–54 dB PSNR, files no larger: an edit of a long clip is mostly its
        # frames outside the span, re-encoded
        self._proc = subprocess.Popen(
            [ffmpeg.exe(), "-y", "-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo",
             "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(rate), "-i", "-", *filters,
             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-crf", str(crf),
             "-movflags", "+faststart", "-f", "mp4", str(self.path)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log_file)

    def write(self, frames: np.ndarray) -> None:
        if self._proc is None:
            self._start(frames.shape[2], frames.shape[1])
        for frame in frames:
            try:
                self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
            except (BrokenPipeError, OSError):
                self._failed()
            self.frames += 1

    def close(self) -> None:
        if self._proc is None:
            return self._tidy()
        proc, self._proc = self._proc, None
        try:
            proc.stdin.close()
        except OSError:
            pass
        if proc.wait() != 0:
            self._proc = proc
            self._failed()
        self._log_file.close()
        self._tidy()

    def _tidy(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def _failed(self) -> None:
        """ffmpeg stopped before the video was whole: its reason, in the operator's words."""
        proc, self._proc = self._proc, None
        proc.kill()
        proc.wait()
        self._tidy()
        self._log_file.seek(0)
        said = self._log_file.read().decode(errors="replace").strip()
        self.path.unlink(missing_ok=True)
        if "No space left" in said or _disk_full(self.path.parent):
            raise ServerError("the server's disk is full, so the video could not be written; "
                              "nothing was made (the server's operator needs to free space "
                              "in its temporary folder)")
        raise ServerError(f"the video encoder stopped before the video was whole (ffmpeg: "
                          f"{said.splitlines()[-1][:200] if said else proc.returncode}); "
                          f"nothing was made")

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is not None and self._proc is not None:  # stop: no need to finish it
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        self.close()
        if exc_type is not None:  # nothing half-written is left behind
            self.path.unlink(missing_ok=True)


def _disk_full(folder: Path, margin: int = 1 << 20) -> bool:
    try:
        return shutil.disk_usage(folder).free < margin
    except OSError:
        return False


def side_by_side(left: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """``uint8 [H, W, 3]`` beside each of ``[B, H', W', 3]`` (left resized to height H', its
    width rounded to even)."""
    h = frames.shape[1]
    w = round(left.shape[1] * h / left.shape[0] / 2) * 2
    if left.shape[:2] != (h, w):
        left = np.asarray(Image.fromarray(left).resize((w, h), Image.LANCZOS))
    return np.concatenate([np.broadcast_to(left, (len(frames),) + left.shape), frames], axis=2)


def write_video(batches: Iterable, path: str | os.PathLike, fps: float = 30,
                left: np.ndarray | None = None, gif_path: str | os.PathLike | None = None,
                paste: Callable[[list[np.ndarray]], np.ndarray] | None = None) -> Path:
    """Stream frame batches (``uint8 [B, H, W, 3]``; with ``paste``, each face's:
    ``render_faces``) into ``path`` (mp4), pasted back into the photo by ``paste``
    (``paste.PasteBack``) where given, beside ``left``, and also as a GIF. Pasting and encoding
    a batch run in a worker thread while the next batch renders (``overlapped``)."""
    gif: list[Image.Image] = []
    with VideoWriter(path, fps) as out:
        def finish(frames: np.ndarray) -> None:
            if paste is not None:
                frames = paste(frames)
            if left is not None:
                frames = side_by_side(left, frames)
            out.write(frames)
            if gif_path is not None:
                gif.extend(Image.fromarray(f) for f in frames)

        overlapped(batches, finish)
    if gif_path is not None:
        gif[0].save(gif_path, save_all=True, append_images=gif[1:], loop=0,
                    duration=round(1000 / fps))
    return Path(path)


def overlapped(items: Iterable, consume: Callable[[object], None], depth: int = 2) -> None:
    """``consume(item)`` for each item, in order, in a worker thread while the next items are
    produced (at most ``depth`` wait); an error on either side stops both and is raised here."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    errors: list[BaseException] = []
    done = object()

    def work() -> None:
        while (item := waiting.get()) is not done:
            if not errors:
                try:
                    consume(item)
                except BaseException as exc:  # handed to the producing thread below
                    errors.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        for item in items:
            if errors:
                break
            waiting.put(item)
    finally:
        waiting.put(done)
        worker.join()
    if errors:
        raise errors[0]


def check_int(name: str, value, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise OptionError(f"{name} must be an integer from {lo} to {hi}, got {value!r}")


def check_number(name: str, value, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) or not lo <= value <= hi:
        raise OptionError(f"{name} must be a number from {lo} to {hi}, got {value!r}")
