"""Without Ray installed, asking for it is a one-line error naming the extra."""

from __future__ import annotations

import subprocess
import sys

HIDE_RAY = "import sys; sys.modules['ray'] = None\n"


def test_missing_ray_is_one_line_naming_the_extra(tmp_path) -> None:
    code = HIDE_RAY + "from aikg.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    task = tmp_path / "t.py"
    task.write_text("class Model:\n    pass\n")
    proc = subprocess.run(
        [sys.executable, "-c", code, "batch", str(task), "--cluster", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr == "aikg: error: Ray is not installed: pip install 'aikg[ray]'\n"
