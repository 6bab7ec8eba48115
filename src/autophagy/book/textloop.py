"""Chapter 4's claims on the text loops, checked on their records, and the records' helpers.

The chapter runs the text loop three ways (``replace``, ``fresh`` with a tenth of real data,
``accumulate``) beside the real-only control (``control``: the same fine-tuning on fresh real
data only); :func:`text_claims` checks its claims (showing each card) and returns them with
the numbers the chapter quotes (:class:`TextClaims`); the chapter picks the words for each
verdict. :func:`per_replicate`, :func:`texts_of` and :func:`median_log` read one value per
replicate or per text from the records (chapters 3 to 5 use them), and :func:`fig1b_split`
splits the texts' perplexity under the generation-1 model into their own model's perplexity
and the rest (Shumailov et al.'s Figure 1b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import claims

MODES = ("replace", "fresh", "accumulate")
NEAR = 1.5  # a control "stays near generation 1" when its perplexity ends within this factor of it


def per_replicate(frame: pd.DataFrame, metric: str, generation: int) -> np.ndarray:
    """One value per replicate: ``metric`` at ``generation`` (replicates in order)."""
    rows = frame[frame["generation"] == generation].sort_values("replicate")
    return rows[metric].to_numpy(dtype=float)


def texts_of(saved: dict, generation: int, field: str) -> np.ndarray:
    """Every saved text's ``field`` at ``generation``, pooled over replicates: one value per text
    (``"distinct_2"`` is measured on each text; other fields are read from the saved record)."""
    from ..metrics.text import distinct_n

    out: list[float] = []
    for (g, _), record in sorted(saved.items()):
        if g == generation:
            out += [distinct_n([t], 2) for t in record["samples"]] if field == "distinct_2" else list(record[field])
    return np.array(out, dtype=float)


def median_log(saved: dict, generation: int, field: str = "perplexity_gen1") -> np.ndarray:
    """One value per replicate: the median over its saved texts at ``generation`` of log ``field``."""
    return np.array(
        [
            np.median(np.log(np.asarray(record[field], dtype=float)))
            for (g, _), record in sorted(saved.items())
            if g == generation
        ]
    )


def fig1b_split(saved: dict, generation: int) -> dict[str, np.ndarray]:
    """Per replicate, the median text's log perplexity under the generation-1 model (``total``)
    at ``generation``, split as log perplexity under the text's own model (``entropy``: how
    predictable the model finds what it wrote) plus the per-token log-ratio of the two models'
    probabilities (``divergence``, whose mean over a model's own samples is KL(q || p0) per token)."""
    total, entropy = median_log(saved, generation), median_log(saved, generation, "perplexity_self")
    return {"total": total, "entropy": entropy, "divergence": total - entropy}


@dataclass(frozen=True)
class TextClaims:
    """The text loops' claims, and the numbers the chapter quotes beside them.

    ``values`` maps each quoted number to the name the chapter glues it under; ``avoided`` is
    the share of replace's move from generation 1 to the last that fresh avoids, by measure
    ("perplexity": in log perplexity of real text, "distinct-2"; NaN where replace's
    perplexity did not rise or its distinct-2 did not fall); ``gaps`` is how far each loop's
    last generation ends from its generation 1, by measure ("perplexity": abs log ratio,
    "distinct-2", "semantic diversity": abs difference) and mode (means over the replicates).
    """

    rises: claims.Claim  # replace: the perplexity of real text rises
    narrows: claims.Claim  # replace: distinct-2 falls
    poorer: claims.Claim  # replace: semantic diversity falls
    repeats: claims.Claim  # replace: each text repeats itself more
    fresh_helps: claims.Claim  # fresh ends with a lower perplexity than replace
    control_near: claims.Claim  # control: the perplexity stays within NEAR times generation 1's
    beyond_control: claims.Claim  # replace's rise exceeds the control's
    accumulate_closer: claims.Claim  # accumulate's perplexity ends closer to generation 1's than replace's
    values: dict[str, float]
    avoided: dict[str, float]
    gaps: dict[str, dict[str, float]]


def text_claims(
    frame: pd.DataFrame, saved: dict, source: str, evidence_line: str = claims.THIS_RUN, show: bool = True
) -> TextClaims:
    """Check the text loops' claims and return them with the numbers the chapter quotes.

    ``frame`` holds the records of the three loops and the control (a ``mode`` column:
    replace, fresh, accumulate, control), ``saved`` the replace loop's saved texts
    (``experiments.text.load_samples``), ``source`` the paper the perplexity claim is held
    against, ``evidence_line`` where the records come from (the cards say it).
    """
    last = int(frame["generation"].max())
    means = {
        m: frame.groupby(["mode", "generation"])[m].mean().unstack(0)
        for m in ("distinct_2", "semantic_diversity", "perplexity_real", "self_bleu")
    }
    d2, sem, ppl, bleu = (means[m] for m in ("distinct_2", "semantic_diversity", "perplexity_real", "self_bleu"))

    # the claims: one value per replicate (the change of a run's measure), or per text where the texts are the samples
    by_mode = dict(tuple(frame.groupby("mode")))

    def change(mode, metric, log=False):
        end, start = per_replicate(by_mode[mode], metric, last), per_replicate(by_mode[mode], metric, 1)
        return np.log(end / start) if log else end - start

    def check(*args, **kw):
        return claims.check(*args, evidence=evidence_line, show=show, **kw)

    rises = check(
        "text_ppl_rises",
        f"replace: the perplexity of real text rises from generation 1 to {last} (log ratio, per replicate)",
        source,
        change("replace", "perplexity_real", log=True),
        above=0.0,
    )
    narrows = check(
        "text_d2_falls",
        f"replace: distinct-2 falls from generation 1 to {last} (per replicate)",
        "Guo et al. (2024)",
        change("replace", "distinct_2"),
        below=0.0,
    )
    poorer = check(
        "text_sem_falls",
        f"replace: semantic diversity falls from generation 1 to {last} (per replicate)",
        "Guo et al. (2024)",
        change("replace", "semantic_diversity"),
        below=0.0,
    )
    repeats = check(
        "text_repeats",
        f"replace: each text repeats itself more at generation {last} than at "
        "generation 1 (per text: the share of distinct word pairs within it)",
        "Shumailov et al. (2024)",
        claims.difference(texts_of(saved, last, "distinct_2"), texts_of(saved, 1, "distinct_2")),
        below=0.0,
    )
    fresh_helps = check(
        "text_fresh_ppl",
        "10% fresh data ends with a lower perplexity of real text than replace (per replicate)",
        "Shumailov et al. (2024)",
        claims.difference(
            np.log(per_replicate(by_mode["fresh"], "perplexity_real", last)),
            np.log(per_replicate(by_mode["replace"], "perplexity_real", last)),
        ),
        below=0.0,
    )
    # the control: the same fine-tuning on real data only, so that drift from fine-tuning is not read as autophagy
    control_near = check(
        "text_control_near",
        f"control (real data only): the perplexity of real text at generation "
        f"{last} stays within {NEAR:g} times generation 1's (log ratio, per replicate)",
        "Shumailov et al. (2024)",
        change("control", "perplexity_real", log=True),
        below=float(np.log(NEAR)),
    )
    beyond_control = check(
        "text_replace_beyond_control",
        f"replace's rise in (log) perplexity of real text from generation 1 to "
        f"{last} exceeds the control's (per replicate)",
        "Shumailov et al. (2024)",
        claims.difference(
            change("replace", "perplexity_real", log=True), change("control", "perplexity_real", log=True)
        ),
        above=0.0,
    )
    # accumulate: is its last generation closer to generation 1 than the loops that drop data?
    accumulate_closer = check(
        "text_accumulate_closer",
        "accumulate's perplexity of real text ends closer to generation 1's "
        "than replace's (|log ratio|, per replicate)",
        "Gerstgrasser et al. (2024)",
        claims.difference(
            np.abs(change("accumulate", "perplexity_real", log=True)),
            np.abs(change("replace", "perplexity_real", log=True)),
        ),
        below=0.0,
    )

    values: dict[str, float] = {}
    for mode in MODES:
        values.update(
            {
                f"d2_first_{mode}": d2.loc[1, mode],
                f"d2_last_{mode}": d2.loc[last, mode],
                f"sem_last_{mode}": sem.loc[last, mode],
                f"ppl_last_{mode}": ppl.loc[last, mode],
            }
        )
    control_rise = float(np.mean(change("control", "perplexity_real", log=True)))
    replace_rise = float(np.mean(change("replace", "perplexity_real", log=True)))
    values.update(
        ppl_first=ppl.loc[1, "replace"],
        sem_first=sem.loc[1, "replace"],
        sem_first_fresh=sem.loc[1, "fresh"],
        bleu_first=bleu.loc[1, "replace"],
        bleu_last_replace=bleu.loc[last, "replace"],
        d2_real=d2.loc[0, "replace"],
        last_generation=last,
        ppl_first_control=ppl.loc[1, "control"],
        ppl_last_control=ppl.loc[last, "control"],
        control_share=control_rise / replace_rise if replace_rise > 0 else float("nan"),
    )
    # how much of replace's move fresh avoids, and how far each loop ends from its generation 1
    ppl_rise = {m: float(np.log(ppl.loc[last, m] / ppl.loc[1, m])) for m in MODES}
    d2_loss = {m: float(d2.loc[1, m] - d2.loc[last, m]) for m in MODES}
    avoided = {
        "perplexity": 1 - ppl_rise["fresh"] / ppl_rise["replace"] if ppl_rise["replace"] > 0 else float("nan"),
        "distinct-2": 1 - d2_loss["fresh"] / d2_loss["replace"] if d2_loss["replace"] > 0 else float("nan"),
    }
    gaps = {
        "perplexity": {m: abs(ppl_rise[m]) for m in MODES},
        "distinct-2": {m: abs(d2_loss[m]) for m in MODES},
        "semantic diversity": {m: float(abs(sem.loc[last, m] - sem.loc[1, m])) for m in MODES},
    }
    return TextClaims(
        rises,
        narrows,
        poorer,
        repeats,
        fresh_helps,
        control_near,
        beyond_control,
        accumulate_closer,
        values,
        avoided,
        gaps,
    )
