"""Writes predict.py, the Cog door, from the request table (micromotion/fields.py).

Cog reads the input schema statically from predict.py's source (Cog 0.19 and later parse it
with tree-sitter; no Python runs), so every ``Input(...)`` must be literal: ``default``, ``ge``
and ``le`` inline literals, ``choices`` a list literal, ``description`` one plain string. This
script spells the table out in that form between ``def predict(self,`` and ``) -> Path:``,
and the explicit ``inputs = dict(name=name, …)`` that ``predict`` hands on (the rest of
predict.py is written by hand), and writes the OpenAPI schema a ``cog build`` would put beside
it. tests/test_doors.py holds both to the table (and to Cog 0.16's own).

    python tools/write_predict.py        # after changing a cog field in micromotion/fields.py
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from micromotion.fields import FIELDS  # noqa: E402
from micromotion.doors.cog_inputs import COG_INPUTS  # noqa: E402

START = "    def predict(\n        self,\n"  # the generated inputs lie between these
END = "    ) -> Path:\n"
MAPPING, MAPPING_END = "        inputs = dict(\n", "\n        try:\n"  # the mapping lies between
SCHEMA = ROOT / ".cog" / "openapi_schema.json"


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


def source(current: str) -> str:
    """predict.py with its inputs spelt from the table, and the explicit mapping of them that
    ``predict`` hands on; the rest, written by hand, kept."""
    head, rest = current.split(START, 1)
    tail = rest[rest.index(END):]
    before, after = tail.split(MAPPING, 1)
    after = after[after.index(MAPPING_END):]
    return (head + START + "".join(input_line(FIELDS[n]) for n in COG_INPUTS) + before +
            MAPPING + mapping() + after)


def mapping() -> str:
    """``name=name, …)`` for every input, wrapped at 99 columns inside ``dict(``."""
    return textwrap.fill(", ".join(f"{n}={n}" for n in COG_INPUTS) + ")", width=99,
                         initial_indent=" " * 12, subsequent_indent=" " * 12,
                         break_long_words=False, break_on_hyphens=False)


def schema() -> dict:
    """The OpenAPI document a ``cog build`` puts in the image (``.cog/openapi_schema.json``,
    which coglet reads at start to validate inputs, as Cog 0.16 builds it at run time): the
    inputs from the table, their limits and choices, the mp4 output."""
    props, enums = {}, {}
    for order, name in enumerate(COG_INPUTS):
        f = FIELDS[name]
        p = {"title": name.replace("_", " ").title(), "description": f.help}
        if f.type is Path:
            p.update({"x-order": order, "type": "string", "format": "uri", "nullable": True})
        elif f.choices is not None:
            enums[name] = {"type": JSON_TYPES[f.type], "enum": list(f.choices), "title": name,
                           "description": "An enumeration."}
            p = {"description": f.help, "default": f.default, "x-order": order,
                 "allOf": [{"$ref": f"#/components/schemas/{name}"}]}
        else:
            p = {"type": JSON_TYPES[f.type], **({"maximum": float(f.hi), "minimum": float(f.lo)}
                                                if f.lo is not None else {}),
                 **p, "default": f.default, "x-order": order}
        props[name] = p
    return {"openapi": "3.0.2", "info": {"title": "Cog", "version": "0.1.0"}, "paths": {},
            "components": {"schemas": {
                "Input": {"properties": props, "type": "object", "title": "Input"},
                "Output": {"type": "string", "format": "uri", "title": "Output"}, **enums}}}


JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}


if __name__ == "__main__":
    predict = ROOT / "predict.py"
    predict.write_text(source(predict.read_text()))
    SCHEMA.parent.mkdir(exist_ok=True)
    SCHEMA.write_text(json.dumps(schema(), indent=2) + "\n")
    print(predict, SCHEMA, sep="\n")
