"""A clip's faces inverted in time order, warm: each frame refined from a frame just before it
(ReStyle refines from any start) instead of from the average face — a face a frame away from
its neighbour needs ``WARM_ITERATIONS`` refinements, not a photo's five.

Frames go in batches; frame t starts from frame t − batch (the batch before), so a batch is one
pass of the encoder; the first batch starts from the average face with the encoder's own
count. From a start of k refinements, n more are exactly k + n from the average
face (the encoder is the same function), which ``tests/test_edit.py`` checks.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from PIL import Image

from ...precision import FP32, Precision
from . import Encoder

WARM_ITERATIONS = 1  # refinements of a frame from a neighbour's W+: an encoder pass and a
# decode each (0.19 s and 0.35 s a face on a 2-core Xeon, bf16), against five from the average
# face; how far it lands from those five is bench/edit.py's to say, with the official weights
WARM_BATCH = {"cpu": 2, "cuda": 8}  # frames a pass: frame t starts from frame t − batch (on a
# CPU a batch is hardly faster a face, so the start stays near; a GPU needs the batch)


def invert_in_order(encoder: Encoder, faces: Iterable[Image.Image], batch: int | None = None,
                    iterations: int = WARM_ITERATIONS, precision: Precision = FP32,
                    progress: Callable[[int], None] | None = None, per_frame: int = 1
                    ) -> torch.Tensor:
    """Aligned faces in time order → W+ ``[T, n_latent, style_dim]``, warm-started as above
    (``batch`` frames a pass; None: ``WARM_BATCH`` for the encoder's device); ``progress(frames
    done)`` after each batch. ``per_frame`` faces a frame (several people, in the same order
    in every frame: ``T`` counts faces) go in the same passes, each warm from its own."""
    batch = (batch or WARM_BATCH.get(encoder.device.type, WARM_BATCH["cuda"])) * per_frame
    out: list[torch.Tensor] = []
    pending: list[Image.Image] = []

    def flush() -> None:
        start = _starts(out[-1] if out else None, len(pending))
        out.append(encoder.invert(encoder.preprocess(pending),
                                  None if start is None else iterations,
                                  precision=precision, start=start))
        pending.clear()
        if progress:
            progress(sum(map(len, out)) // per_frame)

    for face in faces:
        pending.append(face)
        if len(pending) == batch:
            flush()
    if pending:
        flush()
    return torch.cat(out) if out else torch.zeros(0)


def _starts(before: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """Where the next ``n`` frames start: each from the frame a batch before it (``before``:
    the batch before, position by position); the first batch from the average face (None)."""
    if before is None:
        return None
    return before[:n] if len(before) >= n else before[-1:].expand(n, -1, -1)
