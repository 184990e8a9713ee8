"""The ``ccinsight`` command line.

Exit codes (``EXIT_CODES``, also in ``--help``): 0 done, or nothing to do (a deck already
in place is kept); 1 a notebook failed (its executed copy shows the error); 2 bad input or
usage: bad data, parameters or paths, printed as one message (``--debug`` shows the
traceback instead), including a notebook cell that raised a data or parameter error.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from ccinsight import __version__
from ccinsight.config import DEFAULT_SEED, HOME_ENV, SYNTHETIC, cli_path, display_path, synthetic_dir
from ccinsight.errors import CCInsightError, NotebookFailed, ParameterError

#: What each exit code means, for schedulers (printed by ``--help``).
EXIT_CODES = {0: "done, or up to date (nothing a deck depends on changed; rebuild with --force)",
              1: "a notebook failed; its executed copy and report show the error",
              2: "bad input or usage: data, parameters, paths; one message says what and where"}

#: Parameters that are paths: given on the command line, they start at the current folder.
PATH_PARAMETERS = ("data",)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _cmd_synth(args: argparse.Namespace) -> int:
    from ccinsight import synth

    out = cli_path(args.out) if args.out else synthetic_dir()
    if args.if_stale and synth.is_current(out, args.seed, args.scale):
        print(f"Synthetic data in {display_path(out)} is up to date (seed {args.seed}, scale {args.scale:g}).")
        return 0
    started = time.perf_counter()
    result = synth.generate(out, seed=args.seed, scale=args.scale)
    rows = ", ".join(f"{n} {k:,}" for n, k in result.rows.items())
    print(f"Wrote the synthetic contact center to {display_path(out)} in "
          f"{time.perf_counter() - started:.1f} s: {rows} rows; planted effects in truth.json.")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from ccinsight import data

    folder, sources = (str(cli_path(args.data)) if args.data else str(synthetic_dir())), None
    if args.params:
        from ccinsight.params import read_params_file

        values = read_params_file(cli_path(args.params))
        folder, sources = str(values.get("data", folder)), values.get("sources")
    if sources:
        from ccinsight.sources import parse

        sources = parse(sources, f"params file {display_path(cli_path(args.params))}")
        ds = data.load(folder, list(sources), validate=False, sources=sources, report_only=True)
        for line in ds.notes:
            print(f"note: {line}")
    else:
        ds = data.load(folder, validate=False)
    print(ds.report)
    if ds.report.ok:
        needed = {"agents", "training", "performance", "outbound_calls"}
        if needed <= set(ds.rows()):
            from ccinsight.analyses.overview import describe

            print(describe(data.cut(ds, None)).text())
        return 0
    return 2


def _cmd_run(args: argparse.Namespace) -> int:
    from ccinsight import params, runner

    given = {}
    where = "command line"
    if args.params:
        path = cli_path(args.params)
        where = f"params file {display_path(path)}"
        values = params.read_params_file(path)
        if "notebooks" in values:  # a deck-shaped file: shared values plus this notebook's section
            from ccinsight import deck
            from ccinsight.runner import resolve_notebook

            plan = deck.load_plan(path)
            name = resolve_notebook(args.notebook).stem
            if name not in plan.runs:
                raise ParameterError(f"{where} has no section for {name}; sections: {', '.join(plan.runs)}.")
            values = {**plan.runs[name], **({"month": str(plan.months[0])} if plan.months else {})}
        given.update(values)
    assigned = params.parse_assignments(args.set or [])
    for key in PATH_PARAMETERS:  # a path typed on the command line starts at the current folder
        if isinstance(assigned.get(key), str):
            assigned[key] = str(cli_path(assigned[key]))
    given.update(assigned)
    if args.data:
        given["data"] = str(cli_path(args.data))
    print(f"Running {args.notebook} ...", flush=True)
    out = cli_path(args.out) if args.out else None
    from ccinsight.privacy import DEFAULT_KEY_WARNING, KEY_ENV

    if not os.environ.get(KEY_ENV):
        print(DEFAULT_KEY_WARNING, file=sys.stderr)
    result = runner.run_or_raise(args.notebook, given, out, where=where, timeout_s=args.cell_timeout)
    print(f"Done in {result.duration_s:.1f} s: " + ", ".join(display_path(p) for p in result.files.values()))
    return 0


def _cmd_deck(args: argparse.Namespace) -> int:
    from ccinsight import deck

    started = time.perf_counter()
    results = deck.run_deck(args.params, month=args.month, months=args.months, out=args.out, jobs=args.jobs,
                            force=args.force, scheduler=args.scheduler, timeout_s=args.cell_timeout,
                            pdf=args.pdf)
    code = 0
    for r in results:
        if r.kept_existing and r.up_to_date:
            print(f"{r.month}: the deck in {display_path(r.folder)} is up to date (every notebook's inputs, "
                  "parameters and code are unchanged); kept as it is (pass --force to rebuild it).")
        elif r.kept_existing:
            print(f"{r.month}: a deck is already in {display_path(r.folder)}; kept as it is "
                  "(pass --force to rebuild it).")
        elif r.kept_as is not None:
            print(f"{r.month}: {', '.join(r.failed)} failed; the existing deck {display_path(r.folder)} is kept "
                  f"and the new one is in {display_path(r.kept_as)}.", file=sys.stderr)
            code = 1
        elif r.failed:
            print(f"{r.month}: deck written to {display_path(r.folder)} with failures: {', '.join(r.failed)}; "
                  "open index.html for the errors.", file=sys.stderr)
            code = 1
        else:
            again = sum(1 for x in r.results if x.get("reused"))
            print(f"{r.month}: deck written to {display_path(r.folder / 'index.html')}"
                  + (f" ({again} of {len(r.results)} notebooks reused: their inputs, parameters and code are "
                     "unchanged)" if again else ""))
    print(f"Done in {time.perf_counter() - started:.1f} s.")
    return code


def _cmd_list(args: argparse.Namespace) -> int:
    from ccinsight.analyses import REGISTRY
    from ccinsight.params import notebook_parameters

    for a in REGISTRY.values():
        print(f"{a.name}: {a.title}")
        print(f"  {a.question}")
        tables = ", ".join(a.tables) + (f" (optional: {', '.join(a.optional_tables)})" if a.optional_tables else "")
        print(f"  tables: {tables}")
        if a.tracked:
            print(f"  tracked month to month: {', '.join(t.label for t in a.tracked)}")
        print("  parameters:")
        for p in notebook_parameters(a.notebook).values():
            print(f"    {p.name}: {p.type_text} = {p.default!r}  # {p.help}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccinsight",
        description="Contact-center analytics notebooks: generate data, validate it, run analyses.",
        epilog="exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + ".")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    parser.add_argument("--project", metavar="DIR",
                        help="project folder holding data/, params/, outputs/ (default: the nearest folder at or "
                             "above the current one holding params/ and notebooks/, else the current folder); "
                             f"also ${HOME_ENV}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="generate the embedded synthetic contact center",
                       description="Generate the synthetic contact center (Parquet tables plus "
                                   "truth.json with the planted effects).")
    p.add_argument("--out", help=f"output folder (default: {SYNTHETIC} in the project folder)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    p.add_argument("--scale", type=float, default=1.0,
                   help="size relative to the default (about 2,500 hires, 1 million calls); "
                        "0.05 makes a small set for unit tests")
    p.add_argument("--if-stale", action="store_true",
                   help="do nothing when OUT already holds data from this generator, seed and scale")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("validate", help="check data against the data contract",
                       description="Check every contract table in a data folder, or every table a params "
                                   "file's sources section maps, and the rules between them; exit 0 when "
                                   "clean, 2 with a report of every problem (including mapping mistakes).")
    p.add_argument("--data", help=f"folder with one file per table (default: {SYNTHETIC} in the project folder)")
    p.add_argument("--params", help="params file: its 'sources' section (your own files or database, mapped "
                                    "onto the contract) or its 'data' folder")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("list", help="list the analyses, their questions and parameters",
                       description="List every registered analysis: its question, the tables it reads, the "
                                   "metrics the deck tracks month to month and its notebook's parameters.")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("run", help="run one notebook with checked parameters",
                       description="Execute a notebook with papermill and write NOTEBOOK.ipynb, "
                                   "NOTEBOOK.html (for reviewers) and findings.json into --out.")
    p.add_argument("notebook", help="notebook name in notebooks/ (e.g. data_overview) or a path")
    p.add_argument("--data", help="data folder, relative to the current folder (the notebook's `data` "
                                  "parameter; default: its own, data/synthetic in the project folder)")
    p.add_argument("--params", help="YAML file of parameter values, or a deck params file (its shared values "
                                    "and the notebook's section are used)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="set one parameter (repeatable); values are read as YAML")
    p.add_argument("--out", help="output folder (default: outputs/NOTEBOOK in the project folder)")
    p.add_argument("--cell-timeout", type=positive_int, metavar="SECONDS",
                   help="stop a cell that runs longer than this and mark the notebook failed")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("deck", help="run every analysis for a month into a deck with an index page",
                       description="Run every analysis notebook for a month (in parallel) into "
                                   "OUT/<deck>/<YYYY-MM>/: executed notebooks, reviewer HTML, findings.json, "
                                   "manifest.json and index.html, the page a manager reads.")
    p.add_argument("--params", help="deck params file (default: params/monthly.yaml in the project folder)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--month", help="YYYY-MM (default: the params file's month, else the latest complete "
                                      "month in the data)")
    when.add_argument("--months", help="a range YYYY-MM:YYYY-MM to backfill, one deck per month (every month's "
                      "notebooks share the workers)")
    p.add_argument("--out", help="output folder (default: outputs in the project folder)")
    p.add_argument("--jobs", type=positive_int, help="notebooks run at once (default: the number of cores)")
    p.add_argument("--force", action="store_true",
                   help="rerun every notebook and replace the deck for the month (without it, notebooks whose "
                        "inputs, parameters and code are unchanged since the deck in place are reused, and a deck "
                        "with nothing changed is kept as it is, exit 0)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on a Dask distributed cluster")
    p.add_argument("--pdf", action="store_true",
                   help="also write deck.pdf (the index page, then each report) through headless Chromium")
    p.add_argument("--cell-timeout", type=positive_int, metavar="SECONDS",
                   help="stop a cell that runs longer than this and mark its notebook failed")
    p.set_defaults(func=_cmd_deck)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.project:  # workers and kernels inherit it
        os.environ[HOME_ENV] = str(cli_path(args.project))
    from ccinsight import memory

    memory.tune()
    try:
        return args.func(args)
    except CCInsightError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except NotebookFailed as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        from ccinsight.runner import USER_ERRORS

        return 2 if getattr(err, "error_name", None) in USER_ERRORS else err.exit_code
    except OSError as err:  # disk full, no permission, read-only file system
        if args.debug or err.errno is None:
            raise
        where = f"{display_path(err.filename)}: " if err.filename else ""
        print(f"error: {where}{err.strerror}; nothing was half-written.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
