"""`make bench [NAME=<name>]`: run one benchmark (bench/<name>.py) or all of them, in order.

Each benchmark prints its figures and ends with one line ``BENCH <name> key=value ...``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = [a for a in argv if a]
    scripts = [HERE / f"{n}.py" for n in names] if names else sorted(
        p for p in HERE.glob("*.py") if p.name not in {"run.py", "__init__.py"} and not p.name.startswith("_")
        and not p.stem.endswith("_series")  # data generators (bench/forecast_series.py), not benchmarks
    )
    missing = [s.name for s in scripts if not s.exists()]
    if missing:
        print(f"unknown benchmark(s): {', '.join(missing)}; have: "
              f"{', '.join(sorted(p.stem for p in HERE.glob('*.py') if p.stem not in {'run', '__init__'}))}")
        return 2
    status = 0
    for script in scripts:
        print(f"== bench {script.stem}", flush=True)
        status |= subprocess.call([sys.executable, str(script)])
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
