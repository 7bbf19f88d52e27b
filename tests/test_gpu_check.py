"""`make gpu-check` says so and exits 0 without a GPU; its timing path runs (tiny, on the CPU)."""
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "tools/gpu_check.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: make gpu-check runs it")
def test_without_a_gpu_it_says_so():
    r = run()
    assert r.returncode == 0 and "no CUDA GPU on this machine" in r.stdout


def test_its_path_runs_tiny_on_the_cpu():
    r = run("--device", "cpu", "--small", "--frames", "2", "--steps", "1")
    assert r.returncode == 0, r.stderr
    assert "| 2-frame 1024 px video, photo → mp4, fp32 |" in r.stdout
    assert "| 2-frame 1024 px video, photo → mp4, bf16 |" in r.stdout
    assert "| ReStyle-pSp inversion (5 iterations), bf16 |" in r.stdout
    assert "| text anchors, 11 degrees × 1 steps, bf16 |" in r.stdout
    assert "precision: auto means" in r.stdout
