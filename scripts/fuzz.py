#!/usr/bin/env python
"""Differential fuzzing of Rosenblatt against PyTorch, as long as one likes.

    .venv/bin/python scripts/fuzz.py --seed 1 --minutes 30
    .venv/bin/python scripts/fuzz.py --seed 7 --cases 20000
    .venv/bin/python scripts/fuzz.py --recheck findings.md   # which saved repros still fail

Prints each distinct failure once, as a one-line repro (`T` is the library), then a summary
line; exits 1 if anything failed. The same seed always generates the same programs.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from pathlib import Path

# one BLAS thread: the programs are tiny, and threads only add overhead (see tests/conftest.py)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzz.compare import Failure, compare, fuzz  # noqa: E402
from tests.fuzz.generate import Stmt  # noqa: E402


def _print_failure(failure: Failure) -> None:
    print(f"[{' '.join(failure.signature)}] seed {failure.seed} case {failure.case}")
    print(f"  {failure.repro()}", flush=True)


def recheck(path: Path) -> int:
    """Re-run every repro line of a file (anything before ' :: torch '); print what still fails."""
    failing = fixed = 0
    for line in path.read_text().splitlines():
        if " :: torch " not in line:
            continue
        code = line.split(" :: torch ")[0].split("`")[-1].strip()
        try:
            body = ast.parse(code).body
        except SyntaxError:
            continue
        stmts = [Stmt(ast.unparse(node)) for node in body]
        if isinstance(body[-1], ast.Expr):  # the observed expression: compare its value too
            stmts[-1] = Stmt(f"observed = {ast.unparse(body[-1])}")
        found = compare(stmts)
        if found:
            failing += 1
            m = found[0]
            print(f"FAILS  {code[:160]}\n   {m.kind} {m.expr[:80]} :: torch {m.torch[:80]} vs "
                  f"rosenblatt {m.other[:80]}")
        else:
            fixed += 1
            print(f"FIXED  {code[:160]}")
    print(f"{fixed} fixed, {failing} still failing")
    return 1 if failing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds from --seed")
    parser.add_argument("--cases", type=int, help="programs per seed")
    parser.add_argument("--minutes", type=float, help="time for all seeds together")
    parser.add_argument("--recheck", type=Path, help="re-run the repro lines in this file")
    args = parser.parse_args()
    if args.recheck:
        return recheck(args.recheck)
    if args.cases is None and args.minutes is None:
        args.cases = 2000
    report = None
    seconds = None if args.minutes is None else args.minutes * 60 / args.seeds
    for seed in range(args.seed, args.seed + args.seeds):
        report = fuzz(seed, cases=args.cases, seconds=seconds, report=report,
                      on_new=_print_failure)
        print(f"seed {seed} done: {report.summary()}", flush=True)
    for seed, case, error in report.errors:
        print(f"fuzzer error at seed {seed} case {case}: {error}")
    print(f"summary: {report.summary()}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
