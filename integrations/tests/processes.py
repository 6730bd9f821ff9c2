"""Helpers of tests that run the project's own commands as separate processes."""

import json
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "manage", "shell"]

ROOT = Path(__file__).resolve().parents[2]


def manage(env, *args, timeout=120) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def shell(env, code: str) -> dict:
    out = manage(env, "shell", "-c", f"import json\n{code}\nprint('RESULT=' + json.dumps(result, default=str))")
    return json.loads(out.split("RESULT=", 1)[1])
