"""`make gpu-check` says so and exits 0 without a GPU; its timing path runs (tiny, on the CPU),
with the photo's landmarks saved beforehand as on the GPU machine; a failing check is a row."""
import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "tools/gpu_check.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: make gpu-check runs it")
def test_without_a_gpu_it_says_so():
    r = run()
    assert r.returncode == 0 and "no CUDA GPU on this machine" in r.stdout


def test_its_path_runs_tiny_on_the_cpu_with_landmarks_given(tmp_path):
    saved = tmp_path / "landmarks.json"
    r = run("--save-landmarks", str(saved))
    assert r.returncode == 0, r.stderr
    face = json.loads(saved.read_text())["astronaut.jpg"]
    assert len(face["landmarks"]) == 68 and len(face["faces"][0][0]) == 4

    table = tmp_path / "out" / "gpu-check.md"
    # one frame a batch and the whole run's time to do it (a 2-core CPU takes minutes)
    r = run("--device", "cpu", "--small", "--frames", "2", "--steps", "1", "--batch", "1",
            "--tune-steps", "1", "--budget", "560", "--landmarks", str(saved),
            "--out", str(table))
    assert r.returncode == 0, r.stderr
    # the fp32 rows on any CPU; bf16's where this CPU verified it (the plan's own rows say)
    for row in ("| 2-frame 1024 px video, photo → mp4 (landmarks given), fp32 (",
                "| generator alone, 1024 px, batch 1, fused fp32 |",
                "| 1024 px frame on the CPU (fused) against the reference on the CPU, fp32 |",
                "| ReStyle-pSp inversion (5 iterations), fp32 |",
                "| video edit, a frame's inversion (warm) and two 256 px renders, fp32 |",
                "| four faces, inverted and 2 frames each at 256 px, fp32 |",
                "| text anchors, 11 degrees × 1 steps, auto (",
                "| pivotal tuning (fidelity faithful), 1 steps at 256 px, fp32 |",
                "| path at load: render, ref fp32 |", "| path at load: render, fused bf16 |"):
        assert row in r.stdout
    plan_row = next(line for line in r.stdout.splitlines()
                    if line.startswith("| path at load: render, fused bf16 |"))
    bf16_served = plan_row.endswith("| serves |")
    assert ("| generator alone, 1024 px, batch 1, fused bf16 |" in r.stdout) == bf16_served
    assert "FAILED" not in r.stdout, r.stderr
    written = table.read_text()
    assert written.startswith("gpu-check on CPU") and written.count("\n| ") >= 14


def test_given_landmarks_stand_in_for_dlib_and_are_put_back(gpu_check, tmp_path):
    from micromotion.media import align
    real = align.detect_faces, align.landmarks_at
    path = tmp_path / "lm.json"
    lm = [[float(i), float(2 * i)] for i in range(68)]
    path.write_text(json.dumps({"astronaut.jpg": {"landmarks": lm,
                                                  "faces": [[[1, 2, 3, 4], 1.0]]}}))
    with gpu_check.given_landmarks(path):
        assert align.detect_faces(None) == [((1, 2, 3, 4), 1.0)]
        got = align.landmarks_at(None, (1, 2, 3, 4))
        assert got.shape == (68, 2) and got[5].tolist() == [5.0, 10.0]
    assert (align.detect_faces, align.landmarks_at) == real


def test_a_failing_check_is_a_row_and_the_rest_still_run(gpu_check, tmp_path, capsys):
    def broken():
        raise RuntimeError("the kernel\nfell over")

    table = gpu_check.Table(tmp_path / "t.md", "title")
    gpu_check.run_checks(table, [("first", broken), ("second", lambda: [("second", "ok", "—")])],
                         budget=60)
    written = (tmp_path / "t.md").read_text()
    assert "| first | FAILED: RuntimeError: the kernel fell over | — |" in written
    assert "| second | ok | — |" in written
    assert "Traceback" in capsys.readouterr().err

    table = gpu_check.Table(None, "title")
    gpu_check.run_checks(table, [("late", lambda: [("late", "ran", "—")])], budget=-1)
    assert table.lines[-1] == "| late | skipped: the -1 s budget was spent | — |"
