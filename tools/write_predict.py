"""Writes predict.py, the Cog door, from the request table (micromotion/fields.py).

Cog reads the input schema statically from predict.py's source (Cog 0.19 and later parse it
with tree-sitter; no Python runs), so every ``Input(...)`` must be literal: ``default``, ``ge``
and ``le`` inline literals, ``choices`` a list literal, ``description`` one plain string. This
script spells the table out in that form; tests/test_doors.py holds predict.py to the table.

    python tools/write_predict.py        # after changing a cog field in micromotion/fields.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from micromotion.fields import FIELDS  # noqa: E402
from micromotion.request import COG_INPUTS  # noqa: E402

HEAD = '''"""Cog predictor: a thin door on ``micromotion`` (written by tools/write_predict.py from the
request table in micromotion/fields.py; edit the table, then run the script).

The Replicate inputs of the original (``image``, ``micromotion``, ``scale``) keep their names,
meaning and defaults, and the output is an mp4. ``BasePredictor.predict`` and cog.yaml's
``predict:`` are served by Cog 0.16 (FastAPI) and by Cog 0.20 and later (coglet), where they
are the deprecated names of ``BaseRunner.run`` and ``run:``. ``MICROMOTION_SYNTHETIC=1`` serves
synthetic weights (abstract patterns, not faces); ``MICROMOTION_WEIGHTS`` names the weights
folder.
"""
from typing import Optional

from cog import BasePredictor, Input, Path

from micromotion import request, serving
from micromotion.models import Models


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Weights fetched (first run) and verified, CUDA ops built, models loaded and warm."""
        self.models = Models.for_serving(progress=_log_download)
        self.outputs = serving.Outputs()

    def predict(
        self,
'''

TAIL = '''    ) -> Path:
        inputs = {k: v for k, v in locals().items() if k != "self"}  # exactly the inputs above
        req = request.from_cog(inputs)
        with self.outputs.request(serving.file_name(req)) as out:
            result = serving.serve(req, self.models, out, progress=_log_progress)
        for note in result.notes:
            print(f"note: {note}", flush=True)
        print(f"made with {serving.describe(result)}", flush=True)
        return Path(result.video)


def _log_progress(stage: str, done: int, total: int) -> None:
    print(f"{stage}: {done}/{total}", flush=True)  # Cog streams stdout into the logs


def _log_download(name: str, done: int, total: int | None) -> None:
    if done == total or done % (64 << 20) < (1 << 20):
        print(f"fetching {name}: {done >> 20} MB" + (f" of {total >> 20} MB" if total else ""),
              flush=True)
'''


def annotation(f) -> str:
    return "Optional[Path]" if f.type is Path else f.type.__name__


def literal(value) -> str:
    """A Python literal Cog's parser reads: strings double-quoted without escapes."""
    if isinstance(value, str):
        if '"' in value or "\\" in value:
            raise ValueError(f"a Cog string literal cannot hold quotes or backslashes: {value!r}")
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(literal, value)) + "]"
    return repr(value)


def input_line(f) -> str:
    args = [f"description={literal(f.help)}"]
    if f.choices is not None:
        args.append(f"choices={literal(f.choices)}")
    if f.lo is not None:
        args += [f"ge={literal(f.lo)}", f"le={literal(f.hi)}"]
    args.append(f"default={literal(f.default)}")
    body = ",\n            ".join(args)
    return f"        {f.name}: {annotation(f)} = Input(\n            {body},\n        ),\n"


def source() -> str:
    return HEAD + "".join(input_line(FIELDS[n]) for n in COG_INPUTS) + TAIL


if __name__ == "__main__":
    (ROOT / "predict.py").write_text(source())
    print(ROOT / "predict.py")
