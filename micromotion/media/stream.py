"""A clip edited in place: its size, rate, frame count and sound from its header (and a bounded
count), every frame read in order (an HDR clip's made SDR) — a stretch of them at a time, never
the clip whole in memory, a late stretch from the keyframe before it — and the edited video
given the clip's own sound back.

    clip = footage("me.mp4", "me.mp4")        # refused here if too long (most_frames) or large
    for frame in frames(clip, 30, 90): ...                  # uint8 [H, W, 3], frames 30-89
    notes = with_sound(Path("edited.mp4"), clip, Path("out.mp4"))
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from . import ffmpeg
from ..errors import VideoError
from ..fields import FIELDS, MAX_EDIT_FRAMES
from ..naming import listed
from .header import Header, header
from .video import READ_SIDE, end_time, probe, rgb_frames, shown

MOST_SOUNDS = 8  # sound tracks put back (each may be made AAC: a file of a thousand tiny
# tracks costs no more than eight)
MP4_AUDIO = ("aac", "mp3", "ac3", "eac3", "alac", "opus", "flac")  # copied into an mp4 as is


# (an H.264 clip written back at twice its bits kept 45 dB PSNR; an HEVC one, which holds a
# picture in fewer bits, 43.6 at twice and 44.5 at three times: both about as they came)
RATE_OVER = 2.5
MIN_BITS = 0.1  # a pixel a frame: a clip that came in smaller is written at that


@dataclass(frozen=True)
class Footage:
    """A clip to edit, as read: ``width`` × ``height`` (its own, or scaled to at most
    ``READ_SIDE`` a side, even for H.264), ``n_frames`` at ``fps`` on average, frame k
    showing at ``times[k]`` s (a phone films at a variable rate: its times are kept)."""
    path: Path
    name: str
    fmt: str  # its demuxer (``ffmpeg.demuxer``): ffmpeg opens it with that alone
    width: int
    height: int
    fps: float
    n_frames: int
    seconds: float
    times: tuple[float, ...]  # when each frame shows, in seconds from the file's start
    keys: tuple[int, ...]  # the frames a decoder may start at (``ffmpeg.Packets``)
    head: Header  # its header: the video stream read, its own size, sound and HDR transfer

    @property
    def own_size(self) -> tuple[int, int]:
        """Its frames' own size (as they show)."""
        return self.head.width, self.head.height

    @property
    def scaled(self) -> bool:
        return self.own_size != (self.width, self.height)

    @property
    def hdr(self) -> str | None:
        """HDR's transfer ("HLG", "PQ"), if it has one: its frames are read as SDR."""
        return self.head.hdr

    @property
    def end(self) -> float:
        """When the clip ends (s, from the file's start, as a player counts)."""
        return end_time(self.times)

    @property
    def max_rate(self) -> float:
        """The most bits a second its frames are written back at: ``RATE_OVER`` × the bits a
        second it came in (its file's size over its length, sound and all) for the pixels
        written, never under ``MIN_BITS`` a pixel. Its frames are re-encoded at CRF 10, which
        alone made a grainy 4 s phone clip 3.7× its size (47.8 dB), capped 2.7× (46.0 dB)."""
        came = self.path.stat().st_size * 8 / max(self.seconds, 1 / self.fps)
        written = self.width * self.height
        own = came * written / (self.own_size[0] * self.own_size[1])
        return max(RATE_OVER * own, MIN_BITS * written * self.fps)

    def at(self, k: int) -> float:
        """When frame ``k`` shows (s, from the file's start); one past the last: ``end``."""
        return self.times[k] if k < len(self.times) else self.end


def most_frames() -> int:
    """The most frames a clip to edit may have: ``MICROMOTION_EDIT_FRAMES`` where the operator
    set it, else ``MAX_EDIT_FRAMES``."""
    value = os.environ.get("MICROMOTION_EDIT_FRAMES", "").strip()
    return int(value) if value.isdigit() and int(value) > 1 else MAX_EDIT_FRAMES


def footage(path: str | os.PathLike, name: str, max_frames: int | None = None) -> Footage:
    """The clip at ``path`` (called ``name``), checked before any frame is decoded: a video
    (``header.header``) of at most ``max_frames`` frames (None: ``most_frames()``) — said from
    its header's length and rate where it gives them, else from a bounded count
    (``video.probe``)."""
    max_frames = max_frames or most_frames()
    head = header(path, name, float("inf"))
    if head.seconds is not None and head.rate and head.seconds * head.rate > max_frames + 1:
        raise _too_many(name, round(head.seconds * head.rate), head.seconds, max_frames)
    most_seconds = max(60.0, max_frames / 5)
    n_frames, seconds = probe(path, name, most_seconds)
    if n_frames > max_frames:
        raise _too_many(name, n_frames, seconds, max_frames)
    scale = min(1.0, READ_SIDE / max(head.width, head.height))
    w, h = (max(2, round(side * scale / 2) * 2) for side in (head.width, head.height))
    fps = head.rate or n_frames / max(seconds, 1e-9)
    if fps > FIELDS["fps"].hi + 0.5:
        raise VideoError(f"{name} runs at {fps:.3g} fps; videos of at most "
                         f"{FIELDS['fps'].hi} fps are edited (the rate is kept): convert it "
                         f"to 30 or 60 fps first")
    read = shown(path, name, most_seconds)
    return Footage(Path(path), name, ffmpeg.demuxer(path, name), w, h, fps, n_frames, seconds,
                   read.times, read.keys, head)


def _too_many(name: str, n: int, seconds: float, most: int) -> VideoError:
    return VideoError(f"{name} has {n:,} frames ({seconds:.1f} s); at most {most:,} frames are "
                      f"edited at once here: trim it, or edit it in parts")


def frames(clip: Footage, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Frames ``start`` to ``stop`` (exclusive; None: the last) of the clip, in order, each
    ``uint8 [height, width, 3]``; ffmpeg decodes no further than ``stop`` and stops when the
    reading does (a cancel is looked at between frames)."""
    import imageio_ffmpeg

    stop = clip.n_frames if stop is None else min(stop, clip.n_frames)
    if start >= stop:
        return
    seek, first = _seek(clip, start)
    reader = imageio_ffmpeg.read_frames(
        str(clip.path), input_params=[*ffmpeg.input_options(clip.fmt), *seek],
        output_params=rgb_frames(clip.head, list(range(start - first, stop - first)),
                                 clip.width, clip.height))
    shape = (clip.height, clip.width, 3)
    try:
        next(reader)  # its meta data
        for k, buf in enumerate(reader):
            if k >= stop - start:
                break
            yield np.frombuffer(buf, np.uint8).reshape(shape)
            ffmpeg.poll()
    finally:
        reader.close()


SEEKS = ("mov", "matroska")  # containers whose seeking lands where asked (mp4, mov, mkv,
# webm: tested against reading from the start); an MPEG stream's or an avi's does not


def _seek(clip: Footage, start: int) -> tuple[list[str], int]:
    """ffmpeg's input options that begin a read at the last keyframe up to frame ``start``
    without decoding the frames before it, and the frame the read then begins at (0 where the
    container's seeking is not to be trusted). A keyframe, not ``start`` itself: frames shown
    just before a keyframe may be decoded after it (B-frames, HEVC's open GOP), and a seek
    lands on the keyframe first decoded, past them."""
    if clip.fmt not in SEEKS:
        return [], 0
    times = clip.times
    first = max((k for k in clip.keys if k <= start and (k == 0 or times[k - 1] < times[k])),
                default=0)
    # (between the keyframe and the frame before: a time ffmpeg's rounding cannot move past it)
    return (["-ss", f"{(times[first - 1] + times[first]) / 2:.6f}"] if first else []), first


def with_sound(video: Path, clip: Footage, out: Path) -> list[str]:
    """``video`` (an mp4 without sound, its frames from 0 s) → ``out`` with the clip's sound,
    every track of it (a camera's second microphone, a commentary; the first stays the one a
    player plays): each copied as it is where an mp4 holds its codec, else made AAC (said in
    the notes), the frames from when the clip's first frame shows; a clip without sound:
    ``video`` moved to ``out``. Where the other tracks cannot be put in, the first alone is."""
    sounds = clip.head.sounds
    if not sounds:
        shutil.move(video, out)
        return []
    most = min(len(sounds), MOST_SOUNDS)
    for tracks in ([range(most), range(1)] if most > 1 else [range(1)]):
        if _mux(video, clip, out, tracks):
            video.unlink(missing_ok=True)
            return _kept(clip, tracks)
    out.unlink(missing_ok=True)
    shutil.move(video, out)
    return [f"the sound of {clip.name} ({listed(sorted(set(sounds)))}) could not be put in the "
            f"mp4, so the video has none"]


def _kept(clip: Footage, tracks: range) -> list[str]:
    """The notes on the clip's sound ``tracks`` put back: those left out, those made AAC."""
    sounds, notes = clip.head.sounds, []
    if len(tracks) < len(sounds):
        notes.append(f"{clip.name} has {len(sounds)} sound tracks: " + (
            "only the first could be put in the mp4" if len(tracks) < MOST_SOUNDS else
            f"the first {MOST_SOUNDS} were kept"))
    made = sorted({sounds[k] for k in _to_aac(clip, tracks)})
    if made:
        notes.append(f"the sound of {clip.name} ({listed(made)}) was made AAC, which an mp4 "
                     f"holds")
    return notes


def _to_aac(clip: Footage, tracks: range) -> list[int]:
    """Which of the clip's sound ``tracks`` an mp4 cannot hold as they are: made AAC."""
    return [k for k in tracks if clip.head.sounds[k] not in MP4_AUDIO]


def _mux(video: Path, clip: Footage, out: Path, tracks: range) -> bool:
    """``video`` with the clip's sound ``tracks`` → ``out``; whether ffmpeg could."""
    # its first frame when the clip's was, after its sound's start where the clip's was
    late = ["-itsoffset", f"{clip.times[0]:.6f}"] if clip.times[0] > 5e-4 else []
    made = _to_aac(clip, tracks)
    status, _ = ffmpeg.run([
        "-y", *late, *ffmpeg.input_args(video, "mov"), *ffmpeg.input_args(clip.path, clip.fmt),
        "-map", "0:v:0", *[a for k in tracks for a in ("-map", f"1:a:{k}")], "-c:v", "copy",
        "-c:a", "copy", *[a for k in made for a in (f"-c:a:{k}", "aac", f"-b:a:{k}", "192k")],
        "-movflags", "+faststart", "-f", "mp4", str(out)], timeout=300)
    return status == 0
