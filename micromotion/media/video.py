"""Reading short clips: frame count, rate, and up to K evenly spaced frames (imageio-ffmpeg).

Only real media containers are opened, each by its own demuxer alone (``ffmpeg``: a playlist
or list naming other files is refused). The header is read first (size, length); frames are
counted by a bounded read (packets, not decoded frames), then only the picked frames are piped
out of ffmpeg through its ``select`` filter, so a long high-resolution clip never passes
through Python whole. Every ffmpeg run looks for a cancel while it works.
"""
from __future__ import annotations

import bisect
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import ffmpeg
from ..errors import VideoError
from ..fields import FIELDS
from .header import MAX_SECONDS, Header, header, too_long

READ_SIDE = 2048  # frames are read at most this large: a face's 1024 px crop fits in it
MAX_FPS = FIELDS["fps"].hi  # the highest output rate: a faster clip is read at 30 fps


@dataclass
class Clip:
    frames: list[Image.Image]  # the picked frames, RGB, in time order
    indices: list[int]  # their frame numbers in the clip
    fps: float
    n_frames: int
    duration: float  # seconds
    name: str

    @property
    def times(self) -> list[float]:
        return [i / self.fps for i in self.indices]

    @property
    def native_fps(self) -> float:
        """The clip's own rate (frames over seconds), whatever rate its frames were read at."""
        return _rate(self.n_frames, self.duration)


def _rate(n_frames: int, seconds: float) -> float:
    return n_frames / max(seconds, 1e-9)


def pick_indices(n_frames: int, k: int) -> list[int]:
    """``k`` evenly spaced frame numbers from 0 to ``n_frames - 1``, first and last included
    (one: the middle one; none: none)."""
    if n_frames <= k:
        return list(range(n_frames))
    if k <= 1:
        return [(n_frames - 1) // 2] * k
    return sorted({int(round(i * (n_frames - 1) / (k - 1))) for i in range(k)})


def read_clip(path: str | os.PathLike, max_frames: int = 16, max_seconds: float = MAX_SECONDS,
              name: str | None = None) -> Clip:
    """Up to ``max_frames`` evenly spaced frames of the video at ``path``; a missing,
    unreadable, empty or too long clip is a ``VideoError``."""
    if not isinstance(max_frames, int) or max_frames < 2:
        raise VideoError(f"max_frames must be an integer ≥ 2, got {max_frames!r}")
    path, name = Path(path), name or Path(path).name
    n_frames, seconds = probe(path, name, max_seconds)
    return _clip(path, name, pick_indices(n_frames, max_frames), n_frames, seconds)


def read_frames(path: str | os.PathLike, fps: float | None = None,
                max_frames: int = FIELDS["frames"].hi,
                max_seconds: float = MAX_SECONDS, name: str | None = None) -> Clip:
    """The clip's frames at ``fps`` (None: its own rate, or 30 when that is above
    ``MAX_FPS``): frame k is the one showing at k / fps s, so the timing is the clip's whatever
    its rate. More than ``max_frames`` is a ``VideoError`` (trim the clip or lower fps)."""
    path, name = Path(path), name or Path(path).name
    head = header(path, name, max_seconds)
    if head.seconds is not None and head.rate is not None:  # too many frames, from the header
        # (which gives the length to the hundredth of a second: half of that added back)
        _check_count(name, head.seconds + 0.005, fps or min(head.rate, 30.0), max_frames)
    n_frames, seconds = probe(path, name, max_seconds)
    own = _rate(n_frames, seconds)
    fps = fps or (own if own <= MAX_FPS else 30.0)
    count = _check_count(name, seconds, fps, max_frames)
    # the frame showing at k / fps is the last one to start by then (not the nearest by
    # rounding, whose ties to even would repeat frames unevenly), by the frames' own times:
    # a phone's rate varies
    times = _packets_of(path, name, head, max_seconds).times
    indices = [max(bisect.bisect_right(times, times[0] + k / fps + 1e-6) - 1, 0)
               for k in range(count)]
    clip = _clip(path, name, indices, n_frames, seconds)
    clip.fps = float(fps)  # the rate of the frames read, which is what the timing follows
    clip.indices = list(range(len(clip.frames)))  # so clip.times are k / fps
    return clip


# an HDR clip's frames made SDR (BT.709 transfer, primaries and matrix) by zimg, as an SDR
# screen shows them: HLG as its own design shows it on a 100-nit screen; PQ (absolute light)
# with BT.2408's reference white, 203 nits, as SDR's white (brighter highlights clip). Read
# as 8-bit RGB without this, a phone's HLG video comes out with its colours washed out.
_SDR = "zscale=pin=bt2020:min=bt2020nc:t=bt709:p=bt709:m=bt709:r=tv"  # (HLG and PQ come in
# BT.2020's primaries and matrix, BT.2100 says: told to zimg, which refuses untagged ones)
_TO_SDR = {"HLG": f"{_SDR},format=yuv420p,", "PQ": f"{_SDR}:npl=203,format=yuv420p,"}


# a camcorder's interlaced frames (AVCHD, HDV, DV: two fields of different instants woven into
# one frame) shown as a player shows them, one frame each, not combed wherever anything moves;
# a progressive frame passes untouched (frames flagged interlaced alone: a DV's header says
# nothing of its fields)
_WOVEN = "bwdif=mode=send_frame:parity=auto:deint=interlaced,"


def rgb_frames(head: Header, indices: list[int], width: int, height: int) -> list[str]:
    """ffmpeg's output options that give the frames numbered ``indices`` of the clip's video
    (``head``'s stream), once each and in order, as ``width`` × ``height`` RGB — deinterlaced
    where they are interlaced, made SDR where they are HDR."""
    return ["-map", head.map, "-vf", f"{_WOVEN}select={ffmpeg.select(indices)},"
            f"{_TO_SDR.get(head.hdr, '')}scale={width}:{height}", "-fps_mode", "passthrough",
            # ffmpeg stops at the last frame asked, not at the file's end (a reader that
            # closes early otherwise waits for it, or kills it, 1.5 s later)
            "-frames:v", str(max(1, len(indices)))]


def _check_count(name: str, seconds: float, fps: float, max_frames: int) -> int:
    """The frames a clip of ``seconds`` gives at ``fps``: more than ``max_frames`` is an error."""
    count = max(2, int(seconds * fps + 1e-6))
    if count > max_frames:
        raise VideoError(f"{name} is {seconds:.1f} s long: at {fps:.3g} fps that is {count} "
                         f"frames, more than {max_frames}; trim it or use a lower fps")
    return count


def probe(path: str | os.PathLike, name: str | None = None, max_seconds: float = MAX_SECONDS
          ) -> tuple[int, float]:
    """(frame count, seconds) of a readable clip no longer than ``max_seconds``, its header
    checked first (``header``); messages call it ``name`` (default: its file name). Frames
    are counted by a read of their packets that stops past the bounds (``ffmpeg.packets``),
    so a stream whose header gives no length costs no more than a clip at the limit (a cancel
    stops it: ``ffmpeg.cancelled_by``)."""
    path, name = Path(path), name or Path(path).name
    head = header(path, name, max_seconds)
    read = _packets_of(path, name, head, max_seconds)
    times, n_frames = read.times, len(read.times)
    # the last frame's time is when it starts: the rate gives the length
    seconds = n_frames / head.rate if head.rate else end_time(times) - (times or (0.0,))[0]
    if seconds > max_seconds or not read.complete:
        raise too_long(name, seconds, max_seconds) if seconds > max_seconds else \
            VideoError(f"{name} has more than {_most_frames(max_seconds):,} frames in "
                       f"{max_seconds:.0f} s; use a clip of at most {MAX_READ_RATE} fps")
    if n_frames < 2:
        raise _too_few(name, n_frames)
    return n_frames, seconds


def shown(path: str | os.PathLike, name: str | None = None,
          max_seconds: float = MAX_SECONDS) -> ffmpeg.Packets:
    """When each frame of the clip shows (a phone's variable rate as it is), in seconds from
    the file's start (ffmpeg's zero: its sound's too), and its keyframes — checked as ``probe``
    checks it, from the same read of its packets."""
    path, name = Path(path), name or Path(path).name
    probe(path, name, max_seconds)
    return _packets_of(path, name, header(path, name, max_seconds), max_seconds)


def end_time(times: list[float] | tuple[float, ...]) -> float:
    """When a clip of frames showing at ``times`` (s) ends: its last frame shows as long as its
    frames do on average."""
    n = len(times)
    return times[-1] + (times[-1] - times[0]) / (n - 1) if n > 1 else (times or [0.0])[0]


def _packets_of(path: Path, name: str, head: Header, max_seconds: float) -> ffmpeg.Packets:
    stat = path.stat()
    try:
        return _packets(str(path.resolve()), stat.st_size, stat.st_mtime_ns,
                        ffmpeg.demuxer(path, name), head.map, max_seconds)
    except _FFMPEG_ERRORS as exc:
        raise _unreadable(name, exc, path) from exc


MAX_READ_RATE = 240  # frames a second a clip may have (slow-motion phones film at 240)


@functools.lru_cache(maxsize=32)
def _packets(path: str, size: int, mtime_ns: int, fmt: str, stream: str, max_seconds: float
             ) -> ffmpeg.Packets:
    """``ffmpeg.packets`` of the file's video ``stream``, keyed like the header's read: a
    request's check and its read count it once (every caller gets the same)."""
    return ffmpeg.packets(path, fmt, stream, max_seconds, _most_frames(max_seconds))


def _most_frames(max_seconds: float) -> int:
    return int(max_seconds * MAX_READ_RATE) + 1


def _clip(path: Path, name: str, indices: list[int], n_frames: int, seconds: float) -> Clip:
    """The frames numbered ``indices`` (repeats allowed, in that order) as a ``Clip``."""
    unique = sorted(set(indices))
    head = header(path, name, float("inf"))  # probe has checked its length
    try:
        frames = _read_selected(path, head, unique, name)
    except _FFMPEG_ERRORS as exc:
        raise _unreadable(name, exc, path) from exc
    if len(frames) < 2:
        raise _too_few(name, len(frames))
    by_index = dict(zip(unique, frames))
    indices = [i for i in indices if i in by_index]
    fps = float(head.rate or _rate(n_frames, seconds))
    return Clip([by_index[i] for i in indices], indices, fps, n_frames, float(seconds), name)


def _read_selected(path: Path, head: Header, indices: list[int], name: str
                   ) -> list[Image.Image]:
    """The frames numbered ``indices``, decoded to RGB at most ``READ_SIDE`` pixels a side (a
    cancel looked at between frames)."""
    import imageio_ffmpeg

    scale = min(1.0, READ_SIDE / max(head.width, head.height))
    w, h = (round(side * scale / 2) * 2 for side in (head.width, head.height)) \
        if scale < 1 else (head.width, head.height)
    options = ffmpeg.input_options(ffmpeg.demuxer(path, name))
    reader = imageio_ffmpeg.read_frames(str(path), input_params=options,
                                        output_params=rgb_frames(head, indices, w, h))
    try:
        next(reader)  # its meta data
        frames = []
        for buf in reader:
            frames.append(Image.fromarray(np.frombuffer(buf, np.uint8).reshape(h, w, 3).copy()))
            ffmpeg.poll()
    finally:
        reader.close()  # ffmpeg stopped, whether the frames were all read or not
    return frames


_FFMPEG_ERRORS = (RuntimeError, OSError, StopIteration, KeyError, ValueError)


def _unreadable(name: str, exc: BaseException, path: Path) -> VideoError:
    """ffmpeg's complaint (its last line) as one sentence, the file called ``name`` (never
    by its path on this machine)."""
    lines = [ffmpeg.without_path(ln, path, name) for ln in str(exc).strip().splitlines()
             if ln.strip()]
    reason = lines[-1][:200] if lines else type(exc).__name__
    return VideoError(f"{name} could not be read as a video ({reason}); use an {ffmpeg.READ} "
                      f"file")


def _too_few(name: str, n_frames: int) -> VideoError:
    """A clip that shows fewer than the two frames any use of a clip needs (an edit list can
    hide every frame a file holds)."""
    return VideoError(f"{name} shows {('no frame', 'one frame')[n_frames]}; a video of at least "
                      f"2 frames is needed")
