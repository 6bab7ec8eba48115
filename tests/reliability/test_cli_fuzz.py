"""The command line fuzzed: any command line exits 0 or 2, with one line and nothing written on error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import EXPERIMENTS, NAMES, cli, gaussian_argv

from autophagy.experiments import resolve_config
from autophagy.params import ParameterError

NASTY = [
    "",
    " ",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e309",
    "-0",
    "0x10",
    "1_000",
    "1e3",
    "٣",
    "true",
    "None",
    "[]",
    "{}",
    "=",
    "==",
    "\x00",
    "\u202e",
    "💥",
    "9" * 400,
    "-" + "9" * 30,
    "0.5",
    "1",
    "2",
    "exact",
    "sample",
    "replace",
    "fresh",
    "mle",
    "unbiased",
]


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


values = st.one_of(
    st.sampled_from(NASTY),
    text,
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(0, 3).map(str),
)


FUZZED = {"inputs": 0, "valid": 0}


FUZZ_EXAMPLES = int(os.environ.get("AUTOPHAGY_FUZZ_EXAMPLES", "300"))  # command lines hypothesis generates


OUT_NAME_MAX = 300  # --out names up to this many characters (past a file system's 255 bytes: refused in one line)


def out_dirs(tmp_path: Path):
    """A fresh --out per example; its name is fuzzed too, short or long."""
    long = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=13, max_size=OUT_NAME_MAX)
    return st.one_of(text, long).map(lambda name: str(tmp_path / f"{FUZZED['inputs']}-{name}"))


def _exists(path: str) -> bool:
    """Whether ``path`` exists: a name the system refuses (a NUL, over 255 bytes) does not."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


class _FuzzSummary:
    """Reports the fuzzing counts in pytest's terminal summary (shown with or without ``-s``)."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            f"CLI fuzzing: {FUZZED['inputs']} command lines tried, {FUZZED['valid']} of them valid runs"
        )


def _report_fuzz_counts(request) -> None:
    """The counts as the test's properties (junit XML, reports: under xdist too) and in the summary."""
    counts = {"command_lines_tried": FUZZED["inputs"], "valid_runs": FUZZED["valid"]}
    request.node.user_properties[:] = [p for p in request.node.user_properties if p[0] not in counts]
    request.node.user_properties.extend(counts.items())
    if not request.config.pluginmanager.has_plugin("autophagy-fuzz-summary"):
        request.config.pluginmanager.register(_FuzzSummary(), "autophagy-fuzz-summary")


@st.composite
def command_lines(draw, out: str) -> list[str]:
    command = draw(st.sampled_from(["run"] * 8 + ["list", "show"]))
    if command == "list":
        return ["list", *draw(st.lists(st.one_of(st.sampled_from(NAMES), text), max_size=2))]
    if command == "show":
        return ["show", draw(st.sampled_from([out, str(Path(out).parent)]))]
    name = draw(st.one_of(st.sampled_from(NAMES), text))
    known = [p.name for e in EXPERIMENTS if e.name == name for p in e.params]
    keys = st.one_of(st.sampled_from(known or ["generations"]), text)
    pairs = draw(st.lists(st.tuples(keys, values), max_size=4))
    argv = [
        "run",
        name,
        "--out",
        out,
        "--profile",
        draw(st.one_of(st.just("smoke"), text)),
        "--seed",
        draw(st.one_of(st.integers(-5, 2**70).map(str), st.sampled_from(NASTY))),
        "--quiet",
    ]
    for key, value in pairs:
        argv += ["--set", draw(st.sampled_from([f"{key}={value}", key, f"={value}"]))]
    extra = draw(st.sampled_from([[], [], ["--bogus"], ["--set"], ["--seed"], ["extra"], ["--out", out]]))
    return tiny(argv + extra, name)


def tiny(argv: list[str], name: str) -> list[str]:
    """``argv`` with the loop's sizes capped when its parameters are valid, so valid runs are quick."""
    experiment = {e.name: e for e in EXPERIMENTS}.get(name)
    if experiment is None:
        return argv
    sets = dict(argv[i + 1].partition("=")[::2] for i, a in enumerate(argv[:-1]) if a == "--set")
    try:
        _, config = resolve_config(name, "smoke", 0, **sets)
    except (ParameterError, TypeError):  # TypeError: a key named like an argument (seed=...)
        return argv
    caps = {
        p.name: int(p.low or 0) + 2
        for p in experiment.params
        if p.kind is int and p.name in sets and config["params"][p.name] > int(p.low or 0) + 2
    }
    if "generations" in config["params"] and "generations" not in sets:
        caps["generations"] = 1
    kept, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
        elif a == "--set" and i + 1 < len(argv) and argv[i + 1].partition("=")[0] in caps:
            skip = True
        else:
            kept.append(a)
    return kept + [x for k, v in caps.items() for x in ("--set", f"{k}={v}")]


@pytest.mark.parametrize("key", ["seed", "out", "profile", "progress", "name"])
def test_set_of_a_run_argument_is_an_unknown_parameter_not_a_traceback(tmp_path, key):
    code, err = cli(gaussian_argv(tmp_path / "x", 2) + ["--set", f"{key}=1"])
    assert code == 2 and err.count("\n") == 1 and f"unknown parameter '{key}'" in err
    assert not (tmp_path / "x").exists()


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_command_lines_exit_0_or_2_with_one_line_and_write_nothing_on_error(tmp_path, request, data):
    out = data.draw(out_dirs(tmp_path))
    argv = data.draw(command_lines(out))
    FUZZED["inputs"] += 1
    _report_fuzz_counts(request)
    existed = _exists(out)
    code, err = cli(argv)  # any exception fails the test
    assert code in (0, 2), (argv, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("autophagy: error:"), (argv, err)
        assert _exists(out) == existed, argv
    elif argv[0] == "run":
        FUZZED["valid"] += 1
        _report_fuzz_counts(request)
        assert (Path(out) / "metrics.parquet").is_file()
