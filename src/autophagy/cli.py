"""The command line: ``autophagy list``, ``run``, ``show``, ``export``, ``sweep`` and ``pretrain``.

Bad input ends with one line on stderr and exit status 2, and nothing written. Only ``sys``
is imported with the module: everything else is imported inside :func:`main`, so a Ctrl-C
while the command line starts meets the same one-line handler as one during a run.
"""

from __future__ import annotations

import sys

EXIT_BAD_INPUT = 2
INTERRUPTED = "autophagy: interrupted; run the same command again to resume"


def _parser():
    import argparse

    from . import weights
    from .params import ParameterError

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str):  # one line, exit 2 (argparse would print the usage too)
            raise ParameterError(message)

    parser = _Parser(prog="autophagy", description="Self-consuming generative loops (model collapse).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    lst = sub.add_parser("list", help="experiments, their parameters and defaults")
    lst.add_argument("experiment", nargs="?", help="show only this experiment")
    run = sub.add_parser("run", help="run an experiment into a directory (resumes if interrupted)")
    run.add_argument("experiment")
    run.add_argument("--out", required=True, help="run directory")
    run.add_argument("--profile", default="default", help="smoke, default or full")
    run.add_argument("--seed", default="0", help="random seed (an integer >= 0)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a parameter")
    spread = run.add_mutually_exclusive_group()
    spread.add_argument("--workers", help="sweeps and the arena: run their runs on this many local Dask workers")
    spread.add_argument(
        "--scheduler", metavar="ADDRESS", help="sweeps and the arena: run their runs on this Dask cluster"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    show = sub.add_parser("show", help="print the summary table of a finished run or sweep")
    show.add_argument("dir")
    exp = sub.add_parser("export", help="write a run's or sweep's record as CSV (default: DIR/metrics.csv)")
    exp.add_argument("dir")
    exp.add_argument("--format", default="csv", help="csv (the only format)")
    exp.add_argument(
        "--out", metavar="FILE", help="where to write it: a file, or - for stdout (default: DIR/metrics.csv)"
    )
    swp = sub.add_parser("sweep", help="run a grid of runs as Dask tasks (resumes if interrupted)")
    swp.add_argument("experiment")
    swp.add_argument("--out", required=True, help="sweep directory")
    swp.add_argument("--profile", default="default", help="smoke, default or full")
    swp.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...", help="values of a parameter")
    swp.add_argument("--seeds", default="1", help="seeds 0 .. N-1 for every grid point")
    swp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a parameter")
    where = swp.add_mutually_exclusive_group()
    where.add_argument("--workers", help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://HOST:8786")
    swp.add_argument("--quiet", action="store_true", help="no progress bar")
    pre = sub.add_parser("pretrain", help="(re)build a shipped starting model from real data (resumes if interrupted)")
    shipped = sorted(path.stem for path in weights.FOLDER.glob("*.json"))  # one card per shipped model
    pre.add_argument("name", help=", ".join(shipped[:-1]) + " or " + shipped[-1])
    pre.add_argument("--out", help="folder for NAME.safetensors and NAME.json (default: the package's own)")
    pre.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def cmd_pretrain(args) -> None:
    from .pretrain import pretrain

    card = pretrain(args.name, args.out, progress=not args.quiet)
    quality = ", ".join(f"{k} {v}" for k, v in card["quality"].items())
    print(
        f"{card['name']}: {card['parameters']:,} parameters, {card['wall_seconds']:.0f} s on {card['hardware']}; "
        f"held-out quality: {quality}"
    )


def _pairs(pairs: list[str], flag: str = "--set", form: str = "KEY=VALUE") -> dict[str, str]:
    """``["KEY=VALUE", ...]`` (the values of a repeated ``flag``) as ``{KEY: VALUE}``."""
    from .params import ParameterError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ParameterError(f"{flag} {pair!r} is invalid: expected {form}")
        if key in out:
            raise ParameterError(f"{flag} {key} is given twice")
        out[key] = value
    return out


def _grid(pairs: list[str]) -> dict[str, list[str]]:
    """``--grid KEY=V1,V2`` options as ``{KEY: [V1, V2]}``."""
    return {key: values.split(",") for key, values in _pairs(pairs, "--grid", "KEY=V1,V2,...").items()}


def _seed(text: str) -> int:
    from .params import ParameterError

    try:
        return int(text, 10)
    except ValueError:
        raise ParameterError(f"--seed {text!r} is invalid: expected an integer in [0, 2^63)") from None


def cmd_list(name: str | None) -> None:
    import textwrap

    from .experiments import all_experiments, get
    from .runs.history import KEY_DOCS, KEYS

    print(
        textwrap.fill(
            "Every loop's record (metrics.parquet) has the key columns "
            + "; ".join(f"{k} ({v})" for k, v in KEY_DOCS.items())
            + ", then the columns listed below.",
            width=96,
        )
        + "\n"
    )
    experiments = [get(name)] if name else all_experiments()
    params = [p for exp in experiments for p in exp.params]  # columns aligned across the listing
    name_width = max([len(p.name) for p in params], default=0) + 2
    default_width = max([len(str(p.default)) for p in params], default=0) + 1
    profile_width = max([len(k) for exp in experiments for k in exp.profiles], default=0) + 2
    for exp in experiments:
        print(f"{exp.name}: {exp.summary}")
        print("  parameters:" + ("" if exp.params else " none"))
        for p in exp.params:
            print(f"    {p.name:<{name_width}}default {p.default!s:<{default_width}}{p.allowed()}: {p.help}")
        print("  profiles:" + ("" if exp.profiles else " none (every run uses the defaults)"))
        for profile, values in exp.profiles.items():
            settings = ", ".join(f"{k}={v}" for k, v in values.items()) or "the defaults above"
            print(f"    {profile:<{profile_width}}{settings}")
        keys = KEYS if exp.loop_keys else KEYS[:2]
        print("  record columns: " + ", ".join([*keys, *exp.columns]))
        for col, text in exp.columns.items():
            print(textwrap.fill(f"{col}: {text}", width=96, initial_indent="    ", subsequent_indent="      "))
        print()


def cmd_run(args) -> None:
    from .params import ParameterError
    from .runs.runner import run

    overrides = _pairs(args.set)
    for key in sorted(set(overrides) & {"name", "out", "profile", "seed", "progress", "workers", "scheduler"}):
        # run() takes these as arguments: passed as parameters they would raise a TypeError
        raise ParameterError(
            f"unknown parameter {key!r}: use --out, --profile, --seed, --workers, --scheduler or --quiet"
        )
    history = run(
        args.experiment,
        out=args.out,
        profile=args.profile,
        seed=_seed(args.seed),
        progress=not args.quiet,
        workers=_count(args.workers, "--workers"),
        scheduler=args.scheduler,
        **overrides,
    )
    print(f"wrote {args.out}/metrics.parquet ({len(history.frame)} rows), config.json and figures/")


def _count(text: str | None, flag: str) -> int | None:
    from .params import ParameterError

    if text is None:
        return None
    try:
        return int(text, 10)
    except ValueError:
        raise ParameterError(f"{flag} {text!r} is invalid: expected a positive integer") from None


def cmd_sweep(args) -> None:
    from .params import ParameterError
    from .sweeps import sweep

    overrides = _pairs(args.set)
    for key in sorted(
        set(overrides) & {"experiment", "out", "grid", "seeds", "profile", "workers", "scheduler", "progress"}
    ):
        raise ParameterError(f"unknown parameter {key!r}: use the option --{key} (or --quiet)")
    result = sweep(
        args.experiment,
        args.out,
        _grid(args.grid),
        seeds=_count(args.seeds, "--seeds"),
        profile=args.profile,
        workers=_count(args.workers, "--workers"),
        scheduler=args.scheduler,
        progress=not args.quiet,
        **overrides,
    )
    print(
        f"wrote {args.out}/metrics.parquet ({len(result.frame)} rows from {len(result.spec.cells())} cells), "
        "manifest.json, figures/ and cells/"
    )


def cmd_show_sweep(path: str) -> None:
    from .sweeps import load

    result = load(path)
    spec = result.spec
    grid = "; ".join(f"{k}={','.join(map(str, v))}" for k, v in spec.grid.items()) or "no grid"
    settings = ", ".join(f"{k}={v}" for k, v in spec.settings.items())
    done = sum(c["status"] == "finished" for c in result.manifest.get("cells", []))
    print(
        f"sweep of {spec.experiment} (profile {spec.profile}): {grid}; seeds {spec.seeds}"
        + (f"; {settings}" if settings else "")
    )
    print(
        f"{done} of {len(spec.cells())} cells finished"
        + ("" if result.manifest.get("finished") else " (run the same command again to finish)")
    )
    if not result.frame.empty:
        print(result.summary().to_string(float_format=lambda x: f"{x:.4g}"))


def _load_run(path: str):
    """The History of the run in ``path``; ParameterError when it holds none or a damaged one."""
    from pathlib import Path

    from .params import ParameterError
    from .runs.history import History
    from .runs.store import RECORDS

    folder = Path(path)
    try:
        if not (folder / "config.json").is_file() or not (
            (folder / "manifest.json").is_file() or (folder / RECORDS).is_file()
        ):
            raise ParameterError(f"{path} holds no run (no config.json and {RECORDS} or manifest.json)")
        history = History.load(folder)
    except OSError as err:  # a name too long, a file we may not read
        from .files import display_path

        raise ParameterError(f"{display_path(folder)} cannot be read: {err.strerror or err}") from None
    except ParameterError:
        raise
    except ValueError as err:  # damaged records or config.json, checksum mismatch
        raise ParameterError(
            f"{path} holds a damaged run: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from None
    problem = history.problem()
    if problem:
        raise ParameterError(f"{path} holds a damaged run: {problem}")
    return history


def _is_sweep(path: str) -> bool:
    from pathlib import Path

    try:
        return (Path(path) / "sweep.json").is_file()
    except (OSError, ValueError):  # a name the system refuses: _load_run reports it
        return False


def cmd_show(path: str) -> None:
    if _is_sweep(path):
        return cmd_show_sweep(path)
    history = _load_run(path)
    cfg = history.config
    settings = ", ".join(f"{k}={v}" for k, v in cfg["params"].items())
    print(f"{cfg['experiment']} (profile {cfg['profile']}, seed {cfg['seed']}): {settings}")
    print(history.summary().to_string(float_format=lambda x: f"{x:.4g}"))


def cmd_export(args) -> None:
    """Write the record of the run or sweep in ``args.dir`` as CSV: every float64 written so
    that it reads back as the same number, into ``--out`` (default ``DIR/metrics.csv``, ``-``
    for stdout) through a temporary file and a rename."""
    from pathlib import Path

    from .files import atomic_write, display_path
    from .params import ParameterError

    if args.format != "csv":
        raise ParameterError(f"--format {args.format!r} is not supported: choose csv")
    if _is_sweep(args.dir):
        from .sweeps import load

        frame = load(args.dir).frame
    else:
        frame = _load_run(args.dir).frame
    text = frame.to_csv(index=False)
    if args.out == "-":
        sys.stdout.write(text)
        return
    out = Path(args.out) if args.out else Path(args.dir) / "metrics.csv"
    try:
        if out.is_dir():
            raise ParameterError(f"--out {display_path(out)} is a directory: name a file")
        atomic_write(out, text.encode())
    except OSError as err:
        raise ParameterError(f"--out {display_path(out)} cannot be written: {err.strerror or err}") from None
    print(f"wrote {out} ({len(frame)} rows)")


def _one_line(text: str) -> str:
    """``text`` with control characters escaped, so an error is always one printable line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush meets no closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, ValueError, OSError):  # stdout is not a file (captured, closed)
        pass


def main(argv: list[str] | None = None) -> int:
    try:
        from .params import ParameterError

        args = _parser().parse_args(argv)
        if args.command == "list":
            cmd_list(args.experiment)
        elif args.command == "run":
            cmd_run(args)
        elif args.command == "sweep":
            cmd_sweep(args)
        elif args.command == "pretrain":
            cmd_pretrain(args)
        elif args.command == "export":
            cmd_export(args)
        else:
            cmd_show(args.dir)
        sys.stdout.flush()  # a closed pipe is found here, not at the interpreter's exit
    except KeyboardInterrupt:  # first: ParameterError may not be imported yet
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:  # `autophagy show DIR | head -1`: the reader left, say nothing more
        _silence_stdout()
        return 1
    except ParameterError as err:
        print(f"autophagy: error: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
