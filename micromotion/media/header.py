"""What a clip's container says, read without decoding a frame (ffmpeg opens the file and
stops): which video stream every read then takes — the one a player shows, the default of the
video streams that are not a cover picture, else the first of them — and its codec, its size as
it shows, length, rate and HDR transfer, and the sound's codec. A file that is no video, whose
frames are too large or which is too long is refused here, before a frame is decoded.

    head = header("clip.mp4", "clip.mp4", 60.0)   # a VideoError if refused
    ["-map", head.map]                             # every read of its frames or packets
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import ffmpeg
from ..errors import VideoError

MAX_SECONDS = 60.0  # anchors describe one motion: a minute is plenty
MAX_SIDE = 4096  # a frame's longer side: 4K clips pass; an 8192² frame is 200 MB decoded
HDR = {"arib-std-b67": "HLG", "smpte2084": "PQ"}  # ffmpeg's names of the HDR transfers


@dataclass(frozen=True)
class Header:
    """What a clip's container says of the video stream read, without decoding; its size as
    it shows (a video stored sideways with a rotation to show it upright: turned; one stored
    with pixels wider or narrower than tall: as wide as it shows)."""
    codec: str
    width: int
    height: int
    seconds: float | None  # None where the container does not say
    rate: float | None  # frames per second, where it says
    sounds: tuple[str, ...] = ()  # each sound track's codec, in the file's order
    hdr: str | None = None  # an HDR video's transfer: "HLG" (phones' default) or "PQ" (HDR10)
    stream: int = 0  # the video stream's number in the file

    @property
    def map(self) -> str:
        """ffmpeg's ``-map`` of the video stream read."""
        return f"0:{self.stream}"


def header(path: str | os.PathLike, name: str | None = None,
           max_seconds: float = MAX_SECONDS) -> Header:
    """The clip's header: a file that is no video, or whose frames are larger than
    ``MAX_SIDE`` or whose length is over ``max_seconds``, is refused here."""
    path, name = Path(path), name or Path(path).name
    if not path.is_file():
        raise VideoError(f"{name} does not exist")
    stat = path.stat()
    head = _header_text(str(path.resolve()), stat.st_size, stat.st_mtime_ns,
                        ffmpeg.demuxer(path, name))
    shown = _shown_stream(head)
    if shown is None:  # a file of sound or subtitles alone, or one ffmpeg found no stream in
        why = "no video stream in it" if "Stream #" in head else "it is damaged or cut short"
        raise VideoError(f"{name} could not be read as a video ({why}); use an {ffmpeg.READ} "
                         f"file")
    stream = _VIDEO.match(shown)
    length = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", head)
    seconds = None if length is None else \
        int(length[1]) * 3600 + int(length[2]) * 60 + float(length[3])
    line = shown.split("\n")[0]
    rate = re.search(r", (\d+(?:\.\d+)?) fps", line)
    sounds = re.findall(r"Stream #\d+:\d+[^\n]*?: Audio: (\w+)", head)
    w, h = int(stream[3]), int(stream[4])
    sar = re.findall(r"\bSAR (\d+):(\d+)", line)  # the last: the container's, where it says
    across, tall = map(int, sar[-1]) if sar else (1, 1)
    if across and tall and across != tall:  # an anamorphic frame (HDV's 1440 × 1080 showing
        w = max(2, round(w * across / tall))  # 1920 wide, a DV's 720 × 576): as it shows
    transfer = re.search(r"\b(" + "|".join(HDR) + r")\b", line)
    turn = re.search(r"(?i)display ?matrix: rotation of (-?\d+(?:\.\d+)?)", shown)
    if turn and round(float(turn[1]) / 90) % 2:  # a phone's upright video, stored sideways:
        w, h = h, w  # ffmpeg turns its frames upright as it reads them
    out = Header(stream[2], w, h, seconds, float(rate[1]) if rate else None,
                 tuple(sounds), HDR[transfer[1]] if transfer else None, int(stream[1]))
    if max(out.width, out.height) > MAX_SIDE:
        raise VideoError(f"{name} is {out.width}×{out.height}; clips up to {MAX_SIDE} pixels a "
                         f"side are read: scale it down first")
    if seconds is not None and seconds > max_seconds:
        raise too_long(name, seconds, max_seconds)
    return out


# a video stream's line: its number, codec and stored size
_VIDEO = re.compile(r"\s*Stream #\d+:(\d+)[^:\n]*: Video: (\w+)[^\n]*?, (\d+)x(\d+)")


def _shown_stream(head: str) -> str | None:
    """ffmpeg's text on the video stream a player shows (its line, and the lines under it: a
    rotation), or None where there is none. Read otherwise, a file with two video streams
    had its header and count taken from one and its frames from the other."""
    streams = [s for s in re.split(r"\n(?=\s*Stream #)", head) if _VIDEO.match(s)]
    videos = [s for s in streams if "(attached pic)" not in s.split("\n")[0]]
    return next((s for s in videos if "(default)" in s.split("\n")[0]),
                videos[0] if videos else None)


@functools.lru_cache(maxsize=32)
def _header_text(path: str, size: int, mtime_ns: int, fmt: str) -> str:
    """ffmpeg's description of the file's streams (it reads the header, then stops: no
    output is asked for), keyed by the file's size and time (an edited file is read anew)."""
    return ffmpeg.run(ffmpeg.input_args(path, fmt), timeout=30)[1]


def too_long(name: str, seconds: float, most: float) -> VideoError:
    return VideoError(f"{name} is {seconds:.0f} s long; clips of at most {most:.0f} s are "
                      f"read here: trim it")
