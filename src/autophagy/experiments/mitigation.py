"""The mitigation sweeps and the arena: every mitigation measured on the same uncontrolled web.

Each sweep runs a base experiment once per value of a knob (one stage each, resumable; see
:mod:`.stages`); its ``metrics.parquet`` has the knob columns first, then the base experiment's.

- ``mixing-sweep``: the Gaussian in ``fresh`` mode across real fractions (Bertrand et al.;
  the fixed point of ``autophagy.theory.fresh_fixed_point``);
- ``detector-sweep``: the Gaussian on the web, screened by simulated detectors across
  true- and false-positive rates;
- ``provenance-sweep``: the Gaussian on the web, with a share of producers labelling their output;
- ``watermark-sweep``: the n-gram language model on the web, watermarking its text, with and
  without the scraper dropping watermarked text;
- ``curation-sweep``: the Gaussian's fully synthetic loop, curated by a narrow reward (Ferbach
  et al.) or screened by a verifier of given accuracy (Feng et al.).

``arena`` puts every mitigation side by side on one web, for the Gaussian, the text model
and (optionally) the MNIST DDPM, in a long table (see :data:`ARENA_COLUMNS`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..params import ParameterError, choice, integer, number
from . import registry
from .loops import WEB_PARAMS
from .registry import Experiment, register, resolve_config
from .stages import Stage


def _size_params(generations: int, samples: int, replicates: int) -> list:
    return [
        integer("generations", generations, "generations of every run", low=1, high=10**5),
        integer("samples", samples, "training samples per generation (N)", low=2, high=10**7),
        integer("replicates", replicates, "independent repetitions of every run", low=1, high=10**5),
    ]


def sub_params(name: str, overrides: dict[str, Any], profile: str = "default") -> dict[str, Any]:
    """The resolved parameters of experiment ``name`` (its ``profile``, then ``overrides``),
    checked: resolve every stage before running one, so bad input stops before anything is written."""
    try:
        return resolve_config(name, profile, **overrides)[1]["params"]
    except ParameterError as err:
        raise ParameterError(f"{name}: {err}") from None


@dataclass
class Sweep:
    """A base experiment run once per row of ``values`` (values of the ``knobs``)."""

    base: str
    fixed: dict[str, Any]
    knobs: tuple[str, ...]
    values: list[tuple]

    def stages(self, params: dict[str, Any]) -> list[Stage]:
        """One stage per row of knob values, its base parameters resolved (and so checked)."""
        out = []
        for row in self.values:
            place = dict(zip(self.knobs, row))
            out.append(Stage(place, self.base, sub_params(self.base, {**self.fixed, **params, **place})))
        return out

    def check(self, params: dict[str, Any]) -> None:
        """Refuse ``params`` when one of its stages' parameters would be refused."""
        self.stages(params)


def register_sweep(name: str, summary: str, sweep: Sweep, params: list, profiles: dict) -> Experiment:
    base = registry.get(sweep.base)
    columns = {knob: f"the swept value of {sweep.base}'s {knob}" for knob in sweep.knobs}
    columns.update(base.columns)
    return register(
        Experiment(
            name=name,
            summary=summary,
            params=params,
            columns=columns,
            profiles=profiles,
            stages=sweep.stages,
            check=sweep.check,
            stage_columns=sweep.knobs,
            figures=functools.partial(sweep_figures, knobs=sweep.knobs, metrics=list(base.columns)[:MAX_PANELS]),
        )
    )


MAX_PANELS = 3  # metrics drawn per sweep figure


def _last_generation(history) -> pd.DataFrame:
    frame = history.frame
    return frame[frame["generation"] == frame["generation"].max()]


def sweep_figures(history, knobs: tuple[str, ...], metrics: list[str]) -> dict[str, Any]:
    """The last generation's metrics (mean over replicates, with its standard error) against
    the first knob, one line per value of the second when the stages form a grid of the two;
    otherwise one point per stage, labelled by its knob values."""
    from .. import plotting

    last = _last_generation(history)
    metrics = [m for m in metrics if m in last and last[m].notna().any()]
    if last.empty or not metrics:
        return {}
    stages = last[list(knobs)].drop_duplicates()
    grid = len(stages) == np.prod([stages[k].nunique() for k in knobs])
    fig, axes = plotting.panels(len(metrics), height=3.0 if grid else 3.6)
    for ax, metric in zip(axes, metrics):
        if grid:
            lines = [(None, last)] if len(knobs) == 1 else list(last.groupby(knobs[1]))
            for i, (value, rows) in enumerate(lines):
                stats = rows.groupby(knobs[0])[metric].agg(["mean", "sem"])
                ax.errorbar(
                    stats.index,
                    stats["mean"],
                    yerr=stats["sem"].fillna(0),
                    marker="o",
                    capsize=3,
                    color=plotting.color(i),
                    label=None if value is None else f"{knobs[1]} = {value:g}",
                )
            plotting.knob_axis(ax, stats.index, knobs[0])
        else:
            stats = last.groupby(list(knobs), sort=False)[metric].agg(["mean", "sem"])
            ax.errorbar(
                range(len(stats)),
                stats["mean"],
                yerr=stats["sem"].fillna(0),
                fmt="o",
                capsize=3,
                color=plotting.color(0),
            )
            ax.set_xticks(
                range(len(stats)),
                ["\n".join(f"{k}={v:g}" for k, v in zip(knobs, row)) for row in stats.index],
                rotation=90,
            )
        ax.set_title(f"{metric} at generation {int(last['generation'].iloc[0])}")
    if grid and len(knobs) > 1:
        plotting.legend(fig)
    return {"by-" + "-".join(knobs): fig}


GAUSSIAN_SIZES = {
    "smoke": {"generations": 30, "samples": 100, "replicates": 100},
    "default": {"generations": 60, "samples": 100, "replicates": 500},
    "full": {"generations": 200, "samples": 100, "replicates": 2000},
}
REAL_FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
DETECTOR_RATES = [(tpr, fpr) for tpr in (0.0, 0.5, 0.8, 0.9, 0.99) for fpr in (0.0, 0.1, 0.3)]
ADOPTIONS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
WATERMARKS = [(0.0, 0.0), (2.0, 0.0), (1.0, 4.0), (2.0, 4.0), (4.0, 4.0)]
CURATIONS = [(1.0, 0.0), (0.8, 0.0), (0.5, 0.0), (1.0, 0.1), (1.0, 0.25), (1.0, 0.5), (1.0, 0.9), (1.0, 1.0)]

MIXING_SWEEP = register_sweep(
    "mixing-sweep",
    "the Gaussian in fresh mode across real fractions (Bertrand et al.)",
    Sweep("gaussian", {"mode": "fresh"}, ("real_fraction",), [(a,) for a in REAL_FRACTIONS]),
    _size_params(60, 100, 500),
    GAUSSIAN_SIZES,
)
DETECTOR_SWEEP = register_sweep(
    "detector-sweep",
    "the Gaussian on the web, screened by detectors of given error rates",
    Sweep("gaussian", {"mode": "web", "method": "sample"}, ("detector_tpr", "detector_fpr"), DETECTOR_RATES),
    _size_params(60, 100, 500) + WEB_PARAMS,
    GAUSSIAN_SIZES,
)
PROVENANCE_SWEEP = register_sweep(
    "provenance-sweep",
    "the Gaussian on the web, with a share of producers labelling their output",
    Sweep("gaussian", {"mode": "web", "method": "sample"}, ("provenance",), [(a,) for a in ADOPTIONS]),
    _size_params(60, 100, 500) + WEB_PARAMS,
    GAUSSIAN_SIZES,
)
WATERMARK_SWEEP = register_sweep(
    "watermark-sweep",
    "the n-gram model on the web, watermarking its text; the scraper drops text above a z-score",
    Sweep(
        "text",
        {"mode": "web", "model": "ngram", "semantic": False, "eval_samples": 32},
        ("watermark_delta", "watermark_z"),
        WATERMARKS,
    ),
    _size_params(8, 1000, 1) + WEB_PARAMS,
    {
        "smoke": {"generations": 3, "samples": 200},
        "default": {"generations": 6, "samples": 500},
        "full": {"generations": 12, "samples": 2000, "replicates": 3},
    },
)
CURATION_SWEEP = register_sweep(
    "curation-sweep",
    "the Gaussian's own samples curated by a narrow reward or screened by a verifier",
    Sweep("gaussian", {"mode": "replace", "method": "sample"}, ("reward_fraction", "verifier_accuracy"), CURATIONS),
    _size_params(60, 100, 500),
    GAUSSIAN_SIZES,
)


# --- the arena ---------------------------------------------------------------------------

ARENA_COLUMNS = {
    "modality": "gaussian, text or mnist",
    "mitigation": "the mitigation (see MITIGATIONS); none and real-only are the references",
    "metric": "the modality's headline metric: w2 (gaussian), perplexity_real and distinct_2 (text), fid (mnist)",
    "value": "the metric's value",
    "real_samples_used": "real samples drawn so far in this run (scraped real data included)",
}
HEADLINE = {"gaussian": ("w2",), "text": ("perplexity_real", "distinct_2"), "mnist": ("fid",)}
HIGHER_IS_BETTER = {"distinct_2"}
REFERENCES = ("none", "real-only")
REFERENCE_COLOUR = "0.6"
BASE = {"gaussian": "gaussian", "text": "text", "mnist": "mnist-ddpm"}
MITIGATIONS = {
    "none": "train on the web scrape as it comes",
    "real-only": "train on n new real samples each generation (what it costs: all real)",
    "accumulate": "keep every scrape so far (Gerstgrasser et al.)",
    "budget": "keep every scrape, train on n drawn from them: a fixed data budget (Kazdan et al.)",
    "mix": "a guaranteed real share real_fraction, the rest the model's own output (Bertrand et al.)",
    "detector": "drop what a detector (detector_tpr, detector_fpr) flags, scrape again",
    "provenance": "drop what carries an origin label (a share provenance of producers label)",
    "watermark": "text: every model watermarks; the scraper drops text with z > watermark_z",
    "self-correction": "gaussian: each synthetic sample moved self_correction of the way to the truth (Gillman et al.)",
    "verification": "gaussian: a verifier fitted to verifier_knowledge real samples, informed with probability "
    "verifier_accuracy, screens the scrape (Feng et al.)",
}
ONLY = {
    "watermark": "text",
    "self-correction": "gaussian",
    "verification": "gaussian",
}  # mitigations that exist for one modality


def _mitigation_overrides(mitigation: str, params: dict[str, Any]) -> dict[str, Any]:
    web = {"mode": "web", **{k: params[k] for k in ("web_start", "web_growth", "web_max")}}
    return {
        "none": web,
        "real-only": {"mode": "fresh", "real_fraction": 1.0},
        "accumulate": {**web, "mode": "web-accumulate"},
        "budget": {**web, "mode": "web-accumulate-subsample"},
        "mix": {"mode": "fresh", "real_fraction": params["real_fraction"]},
        "detector": {**web, "detector_tpr": params["detector_tpr"], "detector_fpr": params["detector_fpr"]},
        "provenance": {**web, "provenance": params["provenance"]},
        "watermark": {**web, "watermark_delta": params["watermark_delta"], "watermark_z": params["watermark_z"]},
        "self-correction": {**web, "self_correction": params["self_correction"]},
        "verification": {
            **web,
            "verifier_accuracy": params["verifier_accuracy"],
            "verifier_knowledge": params["verifier_knowledge"],
        },
    }[mitigation]


def _modality_overrides(modality: str, params: dict[str, Any]) -> dict[str, Any]:
    if modality == "gaussian":
        return {"method": "sample", "samples": params["gaussian_samples"], "replicates": params["gaussian_replicates"]}
    if modality == "text":
        return {
            "model": "ngram",
            "semantic": False,
            "samples": params["text_samples"],
            "replicates": params["text_replicates"],
            "eval_samples": 32,
        }
    return {}


def arena_runs(params: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(modality, mitigation, profile, resolved base parameters) of every arena run."""
    modalities = ["gaussian", "text"] + (["mnist"] if params["mnist"] != "off" else [])
    runs = []
    for modality in modalities:
        profile = params["mnist"] if modality == "mnist" else "default"
        for mitigation in MITIGATIONS:
            if ONLY.get(mitigation, modality) != modality:
                continue
            overrides = {
                **_modality_overrides(modality, params),
                **_mitigation_overrides(mitigation, params),
                "generations": params["generations"],
            }
            runs.append((modality, mitigation, profile, sub_params(BASE[modality], overrides, profile)))
    return runs


def _long(frame: pd.DataFrame, modality: str) -> pd.DataFrame:
    """A run's records as (generation, replicate, metric, value, real_samples_used) rows."""
    frame = frame.sort_values(["replicate", "generation"])
    used = frame.groupby("replicate")["real_drawn"].cumsum()
    rows = [
        pd.DataFrame(
            {
                "generation": frame["generation"],
                "replicate": frame["replicate"],
                "metric": metric,
                "value": frame[metric],
                "real_samples_used": used,
            }
        )
        for metric in HEADLINE[modality]
    ]
    return pd.concat(rows, ignore_index=True)


def _expected_cost(modality: str, mitigation: str) -> int:
    """The arena's stages ranked by how long they run, for a cluster to start the longest first:
    an MNIST stage fine-tunes a DDPM (minutes); the watermark stage decodes each token through
    the n-gram's whole distribution and the green lists (64 s at default on one worker, against
    at most 6 s for the other text stages and under 1 s for the Gaussian's)."""
    if modality == "mnist":
        return 2
    return 1 if mitigation == "watermark" else 0


def arena_stages(params: dict[str, Any]) -> list[Stage]:
    """One stage per (modality, mitigation), its records as the arena's long table."""
    return [
        Stage(
            {"modality": modality, "mitigation": mitigation},
            BASE[modality],
            stage_params,
            profile,
            priority=_expected_cost(modality, mitigation),
            reshape=functools.partial(_long, modality=modality),
        )
        for modality, mitigation, profile, stage_params in arena_runs(params)
    ]


def arena_figures(history) -> dict[str, Any]:
    """The ranking: each modality's headline metrics at the last generation, one bar per
    mitigation (median over replicates), best first; the references (none, real-only) in grey."""
    from .. import plotting

    last = _last_generation(history)
    panels = list(last.groupby(["modality", "metric"], sort=False))
    if not panels:
        return {}
    fig, axes = plotting.panels(len(panels), height=2.8)
    for ax, ((modality, metric), rows) in zip(axes, panels):
        median = rows.groupby("mitigation")["value"].median()
        median = median.sort_values(ascending=metric not in HIGHER_IS_BETTER)
        colours = [REFERENCE_COLOUR if m in REFERENCES else plotting.color(0) for m in median.index]
        ax.barh(range(len(median)), median.to_numpy(), color=colours)
        ax.set_yticks(range(len(median)), list(median.index))
        ax.invert_yaxis()  # the best at the top
        ax.set_title(f"{modality}: {metric}")
        ax.set_xlabel(("higher" if metric in HIGHER_IS_BETTER else "lower") + " is better")
    fig.suptitle(f"the mitigations at generation {int(last['generation'].max())}")
    return {"ranking": fig}


def _check_arena(params: dict[str, Any]) -> None:
    if not arena_runs(params):
        raise ParameterError("the arena has nothing to run")


ARENA = register(
    Experiment(
        name="arena",
        summary="every mitigation on the same uncontrolled web, for the Gaussian, text and MNIST",
        params=[
            integer("generations", 8, "generations of every run", low=2, high=10**4),
            integer("gaussian_samples", 100, "Gaussian: samples per generation", low=10, high=10**6),
            integer("gaussian_replicates", 300, "Gaussian: replicates", low=1, high=10**5),
            integer("text_samples", 500, "text (n-gram): blocks per generation", low=50, high=10**6),
            integer("text_replicates", 1, "text: replicates", low=1, high=100),
            choice(
                "mnist",
                "off",
                "MNIST DDPM: off, or the mnist-ddpm profile to run it at",
                ["off", "smoke", "default", "full"],
            ),
            *WEB_PARAMS,
            number("real_fraction", 0.2, "mix: the guaranteed real share", low=0, high=1, low_open=True),
            number("detector_tpr", 0.9, "detector: share of synthetic samples caught", low=0, high=1),
            number(
                "detector_fpr", 0.05, "detector: share of real samples wrongly dropped", low=0, high=1, high_open=True
            ),
            number("provenance", 0.5, "provenance: share of producers labelling their output", low=0, high=1),
            number("watermark_delta", 2.0, "watermark: logit bias on green tokens", low=0, high=20, low_open=True),
            number(
                "watermark_z",
                4.0,
                "watermark: z-score above which scraped text is dropped",
                low=0,
                high=100,
                low_open=True,
            ),
            number(
                "self_correction",
                0.5,
                "self-correction: the fraction of the way to the truth",
                low=0,
                high=1,
                low_open=True,
            ),
            number(
                "verifier_accuracy",
                0.9,
                "verification: how often the verifier's verdict is informed",
                low=0,
                high=1,
                low_open=True,
            ),
            integer(
                "verifier_knowledge",
                1000,
                "verification: the real samples the verifier learned the truth from (0: it knows the truth)",
                low=0,
                high=10**7,
            ),
        ],
        columns=ARENA_COLUMNS,
        profiles={
            "smoke": {"generations": 3, "gaussian_replicates": 100, "text_samples": 200},
            "default": {},
            "full": {
                "generations": 10,
                "gaussian_replicates": 2000,
                "text_samples": 4000,
                "text_replicates": 3,
                "mnist": "full",
            },
        },
        stages=arena_stages,
        neural=lambda params: params["mnist"] != "off",
        check=_check_arena,
        figures=arena_figures,
        stage_columns=("modality", "mitigation", "metric"),
        loop_keys=False,
    )
)
