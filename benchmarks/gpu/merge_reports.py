"""Merge the report.json files of several `aikg bench` runs (e.g. one per family, run in
separate calls on a GPU machine) into one report with its chart. Rows in family "other"
(reports written before KernelBench files were placed by name) are placed by name.

    python benchmarks/gpu/merge_reports.py OUT_DIR part1/report.json part2/report.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aikg.bench.report import BenchRow, RunMeta, write_report
from aikg.bench.suite import family_from_name


def _placed(row: dict[str, object]) -> dict[str, object]:
    """A row of a report written before files without FAMILY were placed by name."""
    if row.get("family") == "other":
        return {**row, "family": family_from_name(str(row["op_name"]))}
    return row


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, parts = Path(argv[0]), [json.loads(Path(p).read_text()) for p in argv[1:]]
    rows = [BenchRow(**_placed(row)) for part in parts for row in part["rows"]]
    rows.sort(key=lambda r: r.op_name)
    meta = RunMeta(**parts[0]["meta"])
    files = write_report(rows, meta, out_dir)
    print(files.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
