"""The video edit's last pass: every frame of the clip written, in order — a frame where a face
moves with that face rendered at the size it fills and blended in (several faces of one frame
pasted back together, each within its own mask), the rest as read.

    written = write_edit(models, clip, a, faces, "change", Path("silent.mp4"), run)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..media.align import warp_quad
from ..media.paste import PasteBack
from ..media.preview import PREVIEW_SIZE, from_images, show, spread
from ..media.render import VideoWriter, overlapped, render_frames
from ..media.stream import Footage, frames
from ..media.track import Track
from ..nets.encoders import preprocess
from ..nets.identity import MEASURE_RES, Identity, measure, similarity
from ..nets.models import Models
from ..precision import Precision
from ..run import Run

CHUNK = 8  # frames written a batch; the moving faces among them render together


@dataclass
class Moving:
    """One face the edit moves: its number (from the left), its track through frames a..b,
    its W+ ``[b - a, L, D]`` as filmed (on the encoder's device; empty until the clip is
    inverted), the motion's offsets there (on the CPU; 0 where it does not move) and the size
    it renders at."""
    number: int
    track: Track
    w: torch.Tensor
    offsets: torch.Tensor
    size: int

    @property
    def moves(self) -> np.ndarray:
        """bool ``[b - a]``: the frames where it moves."""
        return (self.offsets.flatten(1).abs().amax(1) > 0).numpy()


@dataclass
class Written:
    """What writing the edit did: how many frames moved, and each face as filmed and as
    edited (aligned crops at ArcFace's ``MEASURE_RES``) at the first, middle and last of its
    moved frames (``at``: their rows, from frame a)."""
    moved: int
    at: list[list[int]]
    looks: list[list[tuple[Image.Image, Image.Image]]]


def write_edit(models: Models, clip: Footage, a: int, faces: list[Moving], blend: str,
               out: Path, run: Run) -> Written:
    """Every frame of the clip to ``out`` (no sound), ``CHUNK`` at a time: in frames a.. each
    face with an offset rendered and blended in, the rest as read — a chunk pasted and encoded
    in a worker thread while the next renders (``render.overlapped``)."""
    moves = [f.moves for f in faces]
    total = sum(int(m.sum()) for m in moves)
    at = [np.flatnonzero(m)[spread(int(m.sum()))].tolist() if m.any() else [] for m in moves]
    looks: list[list] = [[] for _ in faces]

    def rendered():
        done = 0
        for start, chunk in _chunks(frames(clip), CHUNK):
            made = []  # each face's rows in the chunk and their renders (moved, still)
            for face, move in zip(faces, moves):
                rows = [k - a for k in range(start, start + len(chunk))
                        if 0 <= k - a < len(move) and move[k - a]]
                made.append((rows, _render(models, face, rows, blend, run) if rows else None))
            count = sum(len(rows) for rows, _ in made)
            done += count
            if count:
                run.report("render", done, total)
            else:
                run.report("write", start + len(chunk), clip.n_frames)  # (Stop looks here)
            yield start, chunk, made

    with VideoWriter(out, clip.fps, times=clip.times, max_rate=clip.max_rate) as writer:
        def finish(item) -> None:
            start, chunk, made = item
            for k in range(len(chunk)):
                row = start + k - a
                here = [(face, rows.index(row), renders) for face, (rows, renders)
                        in zip(faces, made) if row in rows]
                if here:
                    filmed = chunk[k]
                    chunk[k] = _paste(filmed, row, here, blend)
                    _look(faces, at, looks, row, filmed, chunk[k])
            writer.write(np.stack(chunk))

        overlapped(rendered(), finish)
    return Written(int(np.any(np.stack(moves), axis=0).sum()), at, looks)


def _look(faces: list[Moving], at: list[list[int]], looks: list[list], row: int,
          filmed: np.ndarray, edited: np.ndarray) -> None:
    """Into ``looks``, each face whose look is kept at ``row``, as filmed and as edited."""
    for face, rows, kept in zip(faces, at, looks):
        if row in rows:
            quad = face.track.quads[row]
            kept.append(tuple(warp_quad(Image.fromarray(f), quad, MEASURE_RES)
                              for f in (filmed, edited)))


def _chunks(items, n: int):
    """(index of the first, a list of up to ``n`` items) in turn."""
    chunk, start = [], 0
    for k, item in enumerate(items):
        chunk.append(item)
        if len(chunk) == n:
            yield start, chunk
            chunk, start = [], k + 1
    if chunk:
        yield start, chunk


def _render(models: Models, face: Moving, rows: list[int], blend: str,
            run: Run) -> tuple[np.ndarray, np.ndarray | None]:
    """The face at ``rows`` moved → ``uint8 [B, S, S, 3]``, and for blend change the same
    unmoved, rendered in one batch."""
    still = face.w[rows]
    moved = still + face.offsets[rows].to(still)
    latents = torch.cat([moved, still]) if blend == "change" else moved
    out = next(render_frames(models.generator, latents, len(latents), face.size,
                             run.precision.render))
    return (out[:len(rows)], out[len(rows):]) if blend == "change" else (out, None)


def _paste(frame: np.ndarray, row: int, here: list, blend: str) -> np.ndarray:
    """The faces moving in one frame (``here``: each face, its place in its batch and its
    renders) blended into it together, each through its quad."""
    paste = PasteBack(frame, [face.track.quads[row] for face, _, _ in here])
    moved = [renders[0][i:i + 1] for _, i, renders in here]
    if blend == "change":
        return paste.change(moved, [renders[1][i:i + 1] for _, i, renders in here])[0]
    return paste(moved)[0]


def first_look(models: Models, clip: Footage, a: int, faces: list[Moving], blend: str,
               run: Run, tuned: bool = False) -> None:
    """A look at the edit in seconds, before the clip is inverted (minutes on a CPU): the
    frame where the motion is strongest, its faces inverted on their own (from the average
    face, as a photo is) and moved and blended in as every frame will be — shown as each face
    there as filmed and as edited (``tuned``: before the generator is tuned to the clip, which
    the captions say). Only for a door that shows glimpses."""
    if run.preview is None:
        return
    strength = sum(f.offsets.flatten(1).norm(dim=1) for f in faces)
    row = int(strength.argmax())
    here = [f for f in faces if f.moves[row]]
    if not here:
        return
    filmed = next(frames(clip, a + row, a + row + 1))
    crops = [warp_quad(Image.fromarray(filmed), f.track.quads[row], models.encoder.input_size)
             for f in here]
    w = models.encoder.invert(models.encoder.preprocess(crops), precision=run.precision)
    here = [replace(f, w=w[i:i + 1].expand(len(f.offsets), -1, -1)) for i, f in enumerate(here)]
    edited = _paste(filmed, row, [(f, 0, _render(models, f, [row], blend, run)) for f in here],
                    blend)
    at = f"{clip.at(a + row):.1f} s"
    looks, captions = [], []
    for f in here:
        looks += [warp_quad(Image.fromarray(x), f.track.quads[row], PREVIEW_SIZE)
                  for x in (filmed, edited)]
        face = "the face" if len(faces) == 1 else f"face {f.number}"
        captions += [f"{face} at {at}, as filmed", f"{face} at {at}, as edited" +
                     (" (before the tuning)" if tuned else "")]
    show(run.preview, "look", from_images(looks), captions)


def identities(models: Models, faces: list[Moving], written: Written, precision: Precision
               ) -> list[Identity | None]:
    """Each face's ``Identity`` in the edit (None where it never moved): ``frames``, how alike
    ArcFace finds it as filmed and as edited at the first, middle and last of its moved
    frames, pair by pair (what the video shows); ``reconstruction``, the filmed face at the
    middle one against its inversion's render (what blend face puts in)."""
    said: list[Identity | None] = []
    for face, rows, looks in zip(faces, written.at, written.looks):
        if not looks:
            said.append(None)
            continue
        filmed, edited = (preprocess([look[k] for look in looks], MEASURE_RES) for k in (0, 1))
        m = len(rows) // 2
        rebuilt = measure(models.arcface(), models.generator, filmed[m:m + 1],
                          face.w[rows[m]:rows[m] + 1], face.w[:0], precision.render)
        alike = similarity(models.arcface(), filmed, edited)
        said.append(Identity(rebuilt.reconstruction, tuple(round(float(c), 4) for c in alike)))
    return said
