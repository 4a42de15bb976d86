"""How right the Run page's time-left estimate is on the teaching demo: measured, not asserted.

Starts the demo as the app does (`store.runs.start_run`, the analysis stage included), reads its status every
`--poll` seconds as the Run page does, asks `analysis.eta.time_left` what the page would say, and when the run is
complete compares each estimate with the real time that was left. Prints every sample and a summary: from the
first epoch report on, the share of estimates within +-25% of the truth, the worst error, and the error at three
points (first estimate after the first epoch, middle, last with at least 30 s left). `--root` picks the run store the estimate learns from (earlier runs'
histories and analysis stage): by default an empty temporary one, a first run on a fresh machine.

    .venv/bin/python scripts/eta_accuracy.py --out /tmp/eta.json            # cold: no earlier run
    .venv/bin/python scripts/eta_accuracy.py --root /tmp/store --runs 2     # then warm: the second learns from the first
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def measure(root: Path, poll: float) -> dict:
    """One demo run into `root`: every sample (seconds since start, stage message, estimate said or None) and the
    real seconds it took to complete."""
    os.environ["MOSECROT_RUNS"] = str(root)
    from mosecrot_viz.analysis import eta
    from mosecrot_viz.core.flops import matmul_gflops
    from mosecrot_viz.experiment.presets import DEMO
    from mosecrot_viz.io.tasks import load_task
    from mosecrot_viz.records import RunState
    from mosecrot_viz.store.runs import start_run

    cfg = DEMO.config()
    sizes = eta.RunSizes.of(cfg.to_dict(), lambda path: len(load_task(path)))
    rate = matmul_gflops("cpu")
    t0 = time.time()
    run = start_run(cfg, "eta-demo", root)
    observed, samples = eta.Observed(), []
    while True:
        s = run.status()
        now = time.time()
        if s.state in (RunState.COMPLETE, RunState.FAILED, RunState.CANCELLED):
            break
        if s.state in (RunState.RUNNING, RunState.ANALYSING) and s.elapsed is not None:
            left = eta.time_left(run.config() or {}, s, observed, sizes=sizes, runs_root=root, now=now,
                                 rate_gflops=rate)
            samples.append({"t": round(now - t0, 1), "message": s.message, "state": s.state.value,
                            "epoch_reports": sum(r[3] >= 1 for r in observed.reports), "tuning": left.tuning, "analysis": left.analysis,
                            "said": left.total if left.total is not None else left.tuning})
        time.sleep(poll)
    if s.state is not RunState.COMPLETE:
        raise SystemExit(f"the demo run ended {s.state.value}: {s.message}")
    end = round(time.time() - t0, 1)
    from mosecrot_viz.analysis.stored import analysis_seconds

    stages = {"mapping": observed.mapping_seconds(), "analysis": analysis_seconds(run.path)}
    for x in samples:
        x["real"] = round(end - x["t"], 1)
        x["error"] = None if x["said"] is None or x["real"] <= 0 else round((x["said"] - x["real"]) / x["real"], 3)
    return {"seconds": end, "samples": samples, "matmul_gflops": rate, "sizes": vars(sizes), "stages": stages}


LONG_S = 60  # the last minute is judged apart: there a few seconds' error is a large share of what is left
LATE_S = 30  # the third point: the last estimate with at least this many seconds left (at 2 s, +-25% is +-0.5 s)


def summary(m: dict) -> dict:
    """From the first epoch report on: share within +-25% (all, and while at least `LONG_S` s were left), worst
    error (relative, and in seconds), and three points: the first estimate after the first epoch, the middle one,
    and the last with at least `LATE_S` s left."""
    on = [x for x in m["samples"] if x["epoch_reports"] >= 1 and x["error"] is not None]
    if not on:
        return {"within_25": None, "n": 0, "worst": None, "points": []}
    late = [x for x in on if x["real"] >= LATE_S] or on
    points = [on[0], on[len(on) // 2], late[-1]]
    long = [x for x in on if x["real"] >= LONG_S]
    return {"within_25": round(sum(abs(x["error"]) <= 0.25 for x in on) / len(on), 3), "n": len(on),
            "worst": max((x["error"] for x in on), key=abs), "points": points,
            "within_25_long": round(sum(abs(x["error"]) <= 0.25 for x in long) / len(long), 3) if long else None,
            "worst_seconds": max((x["said"] - x["real"] for x in on), key=abs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", help="run store the estimate learns from (default: an empty temporary one)")
    ap.add_argument("--runs", type=int, default=1, help="demo runs one after another into the same store")
    ap.add_argument("--poll", type=float, default=2.0, help="seconds between status reads (the Run page: 2)")
    ap.add_argument("--out", help="write every sample and the summary as JSON")
    args = ap.parse_args(argv)
    root = Path(args.root or tempfile.mkdtemp(prefix="mosecrot-eta-"))
    root.mkdir(parents=True, exist_ok=True)
    report = []
    for i in range(args.runs):
        m = measure(root, args.poll)
        m["summary"] = summary(m)
        report.append(m)
        st = m["stages"]
        ratio = (f", analysis / mapping {st['analysis'] / st['mapping']:.2f} (eta.ANALYSIS_PER_MAPPING)"
                 if st["analysis"] and st["mapping"] else "")
        print(f"run {i + 1}: {m['seconds']:.0f} s; matmul {m['matmul_gflops']:.0f} GFLOP/s; mapping stage "
              f"{st['mapping']} s, analysis stage {st['analysis']} s{ratio}")
        for x in m["samples"]:
            said = "-" if x["said"] is None else f"{x['said']:.0f}"
            err = "" if x["error"] is None else f" ({x['error']:+.0%})"
            print(f"  t={x['t']:6.1f}  said {said:>5} s  real {x['real']:5.0f} s{err}  {x['message'][:60]}")
        s = m["summary"]
        if s["n"]:
            print(f"  from the first epoch on: {s['within_25']:.0%} of {s['n']} estimates within +-25% "
                  f"({s['within_25_long']:.0%} while {LONG_S} s or more were left), worst {s['worst']:+.0%} "
                  f"({s['worst_seconds']:+.0f} s); at three points: " + ", ".join(
                      f"t={p['t']:.0f} s said {p['said']:.0f} s, real {p['real']:.0f} s ({p['error']:+.0%})"
                      for p in s["points"]))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
