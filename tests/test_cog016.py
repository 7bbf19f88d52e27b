"""The same predict.py and cog.yaml under old Cog: 0.16's FastAPI server (what most published
models were built with), from its own venv (.venv-cog016, made by `make test`) with the runtime
requirements. It serves a video, fails a bad input with one sentence, and its run-time schema
(`python -m cog.command.openapi_schema`) is the request table's."""
import json
import subprocess

import pytest
from PIL import Image

from conftest import ROOT, read_back
from micromotion.fields import FIELDS
from micromotion.doors.cog_inputs import COG_INPUTS
from test_cog_server import data_url, decode_output, post, predict, synthetic_server

PYTHON = ROOT / ".venv-cog016" / "bin" / "python"
pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason=f"{PYTHON} is absent (make test makes it)")


def test_old_cog_version():
    out = subprocess.run([str(PYTHON), "-c", "import cog; print(cog.__version__)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith("0.16.")


@pytest.fixture(scope="module")
def server(reference, tmp_path_factory):
    yield from synthetic_server(tmp_path_factory.mktemp("cog016"), reference, str(PYTHON))


def test_old_cog_serves_a_video(server, astronaut, tmp_path):
    photo = tmp_path / "astronaut.jpg"
    astronaut.save(photo)
    body = predict(server, image=data_url(photo, "image/jpeg"), micromotion="smile", scale=3,
                   frames=4, output_size=256, paste_back="off")
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    meta, frames = read_back(decode_output(body, tmp_path))
    assert frames.shape == (4, 256, 256, 3) and meta["fps"] == 30
    assert "note: precision auto: rendering on " in body["logs"]  # on a pretend AVX2-only CPU
    assert "bf16 not used: oneDNN has no bf16 on this CPU (torch reports AVX2)" in body["logs"]
    body = predict(server, image=data_url(photo, "image/jpeg"), timeline="smile:abc")
    assert body["status"] == "failed" and "'abc' is not a scale" in body["error"]
    # a user's mistake is logged in one line: no traceback with the server's paths
    assert body["logs"] == f"micromotion.errors.OptionError: {body['error']}\n", body["logs"]
    status, _ = post(server.url + "/predictions", {"input": {"image": "/etc/hostname"}})
    assert status == 422  # Cog 0.16 takes no plain path for a Path (coglet: ServerPathError)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "gray").save(blank)
    body = predict(server, image=data_url(blank, "image/png"))
    assert body["status"] == "failed" and body["error"].startswith("no face found in the photo;")
    assert body["logs"].startswith("align: 0/1\n")  # a failed prediction keeps its log lines
    assert server.wait(("READY",), timeout=30)["status"] == "READY"


def test_old_cogs_schema_is_the_table():
    out = subprocess.run([str(PYTHON), "-m", "cog.command.openapi_schema"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    schemas = json.loads(out.stdout)["components"]["schemas"]
    shipped = json.loads((ROOT / ".cog" / "openapi_schema.json").read_text())
    for name, schema in shipped["components"]["schemas"].items():  # what coglet 0.23 reads
        assert schemas[name] == schema, name
    props = schemas["Input"]["properties"]
    assert sorted(props, key=lambda k: props[k]["x-order"]) == list(COG_INPUTS)
    assert not schemas["Input"].get("required")  # every input has a default
    for name in COG_INPUTS:
        f, p = FIELDS[name], props[name]
        assert p["description"] == f.help and p.get("default") == f.default, name
        if f.choices is not None:
            enum = schemas[p["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
            assert enum == list(f.choices), name
        elif f.lo is not None:
            assert (p["minimum"], p["maximum"]) == (f.lo, f.hi), name
        if "allOf" not in p:  # choices are an enum of their own
            kind = {int: "integer", float: "number", bool: "boolean"}.get(f.type, "string")
            assert p["type"] == kind, name
