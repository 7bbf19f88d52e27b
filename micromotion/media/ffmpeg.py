"""ffmpeg on a file a user gave, held to that one file: its container is judged from its own
bytes (never its name), and ffmpeg is told to use that container's demuxer alone, with no
protocol but ``file`` — so a playlist (HLS, DASH), a concat list, an image pattern or any other
file that names more files is refused before ffmpeg opens it, whatever it names, and a real
clip can name nothing else (a QuickTime reference to another file is not followed either).

    fmt = demuxer("clip.mp4", "clip.mp4")          # "mov", or a VideoError
    read = packets(path, fmt, "0:0", 60.0, 18000)  # each frame's time, its keyframes
    with cancelled_by(check): ...                    # every run in it stops on a cancel
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import VideoError

READ = "mp4, mov, webm, mkv, avi, mpg, ts, mts or gif"  # the containers read, in words
# imageio-ffmpeg warns whenever frames are read at another size than stored: ours on purpose
# (a large clip read smaller, a phone's sideways video read upright), not a user's concern
logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)
POLL = 0.2  # seconds between looks at a cancel while ffmpeg runs
Poll = Callable[[], None]  # raises to cancel
_POLL: contextvars.ContextVar[Poll | None] = contextvars.ContextVar("poll", default=None)


@contextlib.contextmanager
def cancelled_by(check: Poll | None):
    """Within it (one request's work, in its own thread), every ffmpeg run calls ``check``
    before it starts and every ``POLL`` s while it works; a raise there stops ffmpeg at once
    and goes on up — a cancel is never kept waiting by a long read."""
    token = _POLL.set(check)
    try:
        yield
    finally:
        _POLL.reset(token)


def poll() -> None:
    """The current request's cancel check (``cancelled_by``), if any."""
    check = _POLL.get()
    if check is not None:
        check()


def exe() -> str:
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def demuxer(path: str | os.PathLike, name: str) -> str:
    """The ffmpeg demuxer of the clip at ``path``, from its first bytes: ``mov`` (mp4, mov),
    ``matroska`` (mkv, webm), ``avi``, ``mpeg`` (program stream), ``mpegts`` (a camcorder's
    .mts) or ``gif`` — containers that hold their streams and name no other file; anything else
    is a ``VideoError`` naming the file as ``name``, the same sentence whatever it holds."""
    with open(path, "rb") as f:
        head = f.read(3 * 192 + 1)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"):
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"\x00\x00\x01\xba":
        return "mpeg"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:  # TS sync bytes
        return "mpegts"
    if len(head) > 388 and head[4] == head[196] == head[388] == 0x47:  # (a camcorder's AVCHD
        return "mpegts"  # .MTS, .m2ts: each packet after a 4-byte time, which ffmpeg reads)
    raise VideoError(f"{name} could not be read as a video: only {READ} files are read (not "
                     f"playlists, lists of files or image sequences)")


def input_options(fmt: str) -> list[str]:
    """ffmpeg's input options that hold it to demuxer ``fmt`` and the one file it opens."""
    own = ["-enable_drefs", "0", "-use_absolute_path", "0"] if fmt == "mov" else []
    return ["-protocol_whitelist", "file", "-format_whitelist", fmt, *own, "-f", fmt]


def input_args(path: str | os.PathLike, fmt: str) -> list[str]:
    """ffmpeg's options to open ``path`` with demuxer ``fmt`` and nothing else."""
    return [*input_options(fmt), "-i", str(path)]


def run(args: list[str], timeout: float = 120.0) -> tuple[int, str]:
    """ffmpeg with ``args`` → (exit status, its messages); the request's cancel is looked at
    before and every ``POLL`` s while it runs (``cancelled_by``: a raise there stops ffmpeg at
    once and is raised on), and ffmpeg is stopped past ``timeout`` s (status -9)."""
    poll()  # cancelled already: nothing starts
    proc = subprocess.Popen([exe(), "-hide_banner", "-nostdin", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.monotonic()
    try:
        err = _wait(proc, start + timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode, err


def _wait(proc: subprocess.Popen, deadline: float) -> str:
    """ffmpeg's messages once it ends (read as they come, so a full pipe never stalls it)."""
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    while True:
        try:
            proc.wait(timeout=POLL)
            break
        except subprocess.TimeoutExpired:
            poll()
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                break
    reader.join(timeout=5)
    return b"".join(chunks).decode(errors="replace")


@dataclass(frozen=True)
class Packets:
    """A clip's video stream as its packets tell it, without decoding."""
    times: tuple[float, ...]  # when each frame shows, in showing order (s, from the file's start)
    keys: tuple[int, ...]  # the frames (numbered in showing order) a decoder may start at;
    # none where the container leaves showing times out
    complete: bool  # the read went to the stream's end, within its bounds


def packets(path: str | os.PathLike, fmt: str, stream: str, max_seconds: float,
            max_frames: int) -> Packets:
    """The ``Packets`` of the clip's video ``stream`` (a ``-map``): each frame's time, as
    ffmpeg counts it from the file's start (a video may start after its sound), and its
    keyframes — from its packets without decoding, at most ``max_seconds`` + 1 s or
    ``max_frames`` + 1 of them, so a stream whose header says no length costs a bounded read
    (not ``complete``: it goes on past a bound). A packet its container marks as not shown
    (one before an edit list's start, as a trim without re-encoding leaves) is not a frame.
    Unreadable: ``RuntimeError`` with ffmpeg's last lines."""
    with tempfile.TemporaryDirectory() as folder:
        listed = Path(folder) / "packets.crc"
        status, err = run([*input_args(path, fmt), "-map", stream, "-c", "copy",
                           "-t", f"{max_seconds + 1:.3f}", "-frames:v", str(max_frames + 1),
                           "-f", "framecrc", str(listed)])
        if status != 0:
            raise RuntimeError(err.strip()[-400:] or f"ffmpeg stopped ({status})")
        text = listed.read_text(errors="replace")
    base = re.search(r"^#tb 0: (\d+)/(\d+)", text, re.M)
    tb = int(base[1]) / int(base[2]) if base and int(base[2]) else 0.0
    shown = [(int(dts), int(pts), int(step), int(flags or "1", 16))  # (no flags: a keyframe)
             for dts, pts, step, flags in _PACKET.findall(text)]
    shown = [p for p in shown if not p[3] & _DISCARD]
    if all(pts != _NO_TIME for _, pts, _, _ in shown):
        order = sorted(range(len(shown)), key=lambda i: shown[i][1])
        ticks = [shown[i][1] for i in order]
        keys = tuple(k for k, i in enumerate(order) if shown[i][3] & _KEY)
    else:  # a container that stores no showing time for some frames (avi, MPEG program
        # streams) films at a steady rate: a frame each packet's usual length
        ticks, keys = [k * _usual_step(shown) for k in range(len(shown))], ()
    first = min(ticks[0], 0) if ticks else 0  # (no frame before the start)
    times = tuple((t - first) * tb for t in ticks)
    return Packets(times, keys,
                   len(times) <= max_frames and (not times or times[-1] <= max_seconds))


def _usual_step(shown: list[tuple[int, int, int, int]]) -> int:
    """The median of the packets' lengths (dts, pts, length, flags), or of the steps between
    their decoding times where they give no length."""
    steps = [step for _, _, step, _ in shown if step > 0] or \
        [b[0] - a[0] for a, b in zip(shown, shown[1:]) if b[0] > a[0]] or [0]
    return sorted(steps)[len(steps) // 2]


# framecrc's line a packet: stream, dts, pts, duration, size, hash[, F=flags]
_PACKET = re.compile(r"^\d+,\s*(-?\d+),\s*(-?\d+),\s*(\d+),\s*\d+,\s*0x[0-9a-f]+"
                     r"(?:,\s*F=0x([0-9A-Fa-f]+))?", re.M)
_KEY, _DISCARD = 0x1, 0x4  # AV_PKT_FLAG_KEY, AV_PKT_FLAG_DISCARD
_NO_TIME = -(1 << 63)  # AV_NOPTS_VALUE


def runs(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted, distinct frame numbers as runs of consecutive ones: [1, 2, 3, 7] → [(1, 3),
    (7, 7)]."""
    out: list[list[int]] = []
    for i in indices:
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return [(a, b) for a, b in out]


def select(indices: list[int]) -> str:
    """ffmpeg's ``select`` expression for frames numbered ``indices`` (sorted, distinct): runs
    of consecutive numbers as ``between``, summed as a balanced tree — a flat sum of more than
    about 100 terms is past ffmpeg's expression depth ("Cannot allocate memory")."""
    terms = [f"eq(n\\,{a})" if a == b else f"between(n\\,{a}\\,{b})"
             for a, b in runs(indices)]
    return _tree(terms) if terms else "0"


def _tree(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return f"({_tree(terms[:half])}+{_tree(terms[half:])})"


TICK = 90000  # ticks a second of a video written at its frames' own times


def shown_at(times: list[float] | tuple[float, ...]) -> str | None:
    """ffmpeg's filters that give frame N the time ``times[N] - times[0]`` (s, in ``1 / TICK``
    ticks; the encoder must keep them: ``-fps_mode passthrough -enc_time_base 1/TICK``), or
    None where the frames come at a steady rate (within half a millisecond): a variable rate's
    frames keep their own times, so the sound stays with them. Runs of frames a step apart
    are one term each, the runs a balanced tree of ``if`` (as ``select``: ffmpeg's
    expressions nest only so deep)."""
    steps = [b - a for a, b in zip(times, times[1:])]
    if not steps or max(steps) - min(steps) <= 5e-4:
        return None
    ticks = [round((t - times[0]) * TICK) for t in times]
    starts = [0] + [k for k in range(1, len(ticks) - 1)
                    if ticks[k + 1] - ticks[k] != ticks[k] - ticks[k - 1]]
    terms = [(k, f"{ticks[k]}+{ticks[k + 1] - ticks[k]}*(N-{k})" if k + 1 < len(ticks)
              else str(ticks[k])) for k in starts]
    return f"settb=1/{TICK},setpts='{_choose(terms)}'"


def _choose(terms: list[tuple[int, str]]) -> str:
    """``terms`` (first frame, expression) as one expression: each from its first frame on."""
    if len(terms) == 1:
        return terms[0][1]
    half = len(terms) // 2
    return f"if(lt(N,{terms[half][0]}),{_choose(terms[:half])},{_choose(terms[half:])})"


def without_path(text: str, path: str | os.PathLike, name: str) -> str:
    """ffmpeg's words with the file's path on this machine replaced by the user's name for it."""
    return text.replace(str(Path(path).resolve()), name).replace(str(path), name)
