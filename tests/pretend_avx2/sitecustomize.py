"""On PYTHONPATH, makes every Python process started with it a pretend AVX2-only CPU
(tests/pretend_cpu.py), before anything imports the product."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pretend_cpu  # noqa: E402

for _patch in pretend_cpu.patches():
    _patch.start()
sys.path.pop(0)
