"""The pure cores import nothing from Django (STYLE habit 5): checked by importing each in a fresh interpreter."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules() -> list[str]:
    out = []
    for line in (REPO / "scripts" / "pure-cores.txt").read_text().split():
        path = REPO / line
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        out += [".".join(f.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__") for f in files]
    return out


def test_pure_cores_do_not_import_django():
    modules = _modules()
    assert len(modules) > 40
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Django imported by a pure core: {result.stdout}"
