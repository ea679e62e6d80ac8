"""Command line: `python -m efficientllm_harness --config FILE` or `--run-dir DIR [DIR ...]`."""
from __future__ import annotations

import argparse
import os
import sys

from .protocol import EventWriter


def parse_args(argv):
    p = argparse.ArgumentParser(prog="efficientllm_harness", description="EfficientLLM Profiler harness (protocol v1)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--config", metavar="FILE", help="run one resolved ProfileConfig; events on stdout")
    mode.add_argument("--run-dir", metavar="DIR", nargs="+",
                      help="run DIR/config.json for each DIR in one process; events in DIR/events.jsonl, status in DIR/exit")
    mode.add_argument("--rank-worker", metavar="FILE",
                      help="one rank of a data-parallel run of FILE (started by the harness itself, or by torchrun)")
    return p.parse_args(argv)


def claim_stdout():
    """Keep stdout for events only: events go to a private copy of fd 1, and fd 1 itself (print(),
    warnings from C extensions) is pointed at stderr."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def report_missing_torch(args, out, e: ImportError) -> int:
    """Without torch there is no hello to give; still end every run with an error event."""
    message = f"cannot import the harness's dependencies ({e}); install PyTorch for this Python ({sys.executable})"
    print(f"efficientllm harness: {message}", file=sys.stderr)
    if args.config is not None:
        EventWriter(out).error("crash", message)
        return 1
    for d in args.run_dir:
        try:
            with open(os.path.join(d, "events.jsonl"), "a", encoding="utf-8") as f:
                EventWriter(f).error("crash", message)
            with open(os.path.join(d, "exit"), "w") as f:
                f.write("1\n")
        except OSError:
            pass
    return 1


def main(argv=None, out=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.rank_worker is not None:
        from .distributed import worker_main
        return worker_main(args.rank_worker, out or claim_stdout())
    if args.config is not None and out is None:
        out = claim_stdout()
    try:
        from .runner import run_config, run_dirs  # imports torch, which may be missing
    except ImportError as e:
        return report_missing_torch(args, out, e)
    if args.config is not None:
        return run_config(args.config, out)
    return run_dirs(args.run_dir)


if __name__ == "__main__":
    sys.exit(main())
