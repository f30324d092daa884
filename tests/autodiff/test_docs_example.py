"""The example of docs/how-gradients-are-computed.md runs and its two gradients agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tape_vs_backward_example_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "tape_vs_backward.py")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "largest difference" in line]
    assert len(lines) == 2
    assert all(float(line.split(":")[-1]) < 1e-5 for line in lines)
