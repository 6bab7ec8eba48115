"""Chapter 4's words and verdicts on the text loops, from their records.

The chapter runs the text loop three ways (``replace``, ``fresh`` with a tenth of real data,
``accumulate``) beside the real-only control (``control``: the same fine-tuning on fresh real
data only); :func:`loop_verdicts` checks its claims (showing each card) and returns every
value the prose quotes; :func:`fig1b_split` splits the texts' perplexity under the
generation-1 model into their own model's perplexity and the rest (Shumailov et al.'s
Figure 1b). The small helpers turn a run's move of a measure into words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import claims

MODES = ("replace", "fresh", "accumulate")
NEAR = 1.5  # a control "stays near generation 1" when its measure ends within this factor of it


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


def evidence(
    claim: claims.Claim,
    holds: str = "",
    fails: str = " (the replicates do not confirm it)",
    unclear: str = " (too few replicates to confirm it)",
) -> str:
    """A qualifier for a sentence that reports this run's move of a measure."""
    return claim.word(holds, fails, unclear)


def moved(
    first: float, last: float, up: str = "rises", down: str = "falls", same: str = "barely moves", tol: float = 0.02
) -> str:
    """How a measure went from ``first`` to ``last``, in words (within ``tol``, relative: ``same``)."""
    if abs(last - first) <= tol * abs(first):
        return same
    return up if last > first else down


def compared(value: float, other: float, tol: float = 0.02) -> str:
    """``value`` against ``other``, in words: far below (under half), below, about, above, far above."""
    ratio = value / other
    if abs(ratio - 1) <= tol:
        return "about the same as"
    if ratio < 1:
        return "far below" if ratio < 0.5 else "below"
    return "far above" if ratio > 2 else "above"


def _fresh_lesson(ppl: pd.DataFrame, d2: pd.DataFrame, last: int, confirmed: bool) -> str:
    """How much of replace's damage a tenth of fresh data avoids, in a sentence."""
    if not confirmed:
        return (
            "With the replace loop's loss not confirmed by the replicates, how much of it fresh data "
            "avoids cannot be said."
        )
    ppl_saved = 1 - np.log(ppl.loc[last, "fresh"] / ppl.loc[1, "fresh"]) / np.log(
        ppl.loc[last, "replace"] / ppl.loc[1, "replace"]
    )
    d2_saved = 1 - (d2.loc[1, "fresh"] - d2.loc[last, "fresh"]) / (d2.loc[1, "replace"] - d2.loc[last, "replace"])
    lesson = (
        "a little real data slows the forgetting of real text more than it protects variety"
        if ppl_saved > d2_saved + 0.1
        else "a little real data protects variety more than it slows the forgetting of real text"
        if d2_saved > ppl_saved + 0.1
        else "a little real data protects variety about as much as it slows the forgetting of real text"
    )
    return (
        f"It avoids {ppl_saved:.0%} of the replace loop's rise in (log) perplexity "
        f"and {d2_saved:.0%} of its loss of distinct-2: {lesson}."
    )


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


def loop_verdicts(
    frame: pd.DataFrame, saved: dict, source: str, evidence_line: str = claims.THIS_RUN, show: bool = True
) -> dict[str, Any]:
    """Check the text loops' claims and return the values the chapter's prose glues (by name).

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
    out: dict[str, Any] = {}
    for mode in MODES:
        out.update(
            {
                f"d2_first_{mode}": d2.loc[1, mode],
                f"d2_last_{mode}": d2.loc[last, mode],
                f"sem_last_{mode}": sem.loc[last, mode],
                f"ppl_last_{mode}": ppl.loc[last, mode],
            }
        )
    out.update(
        ppl_first=ppl.loc[1, "replace"],
        sem_first=sem.loc[1, "replace"],
        bleu_first=bleu.loc[1, "replace"],
        bleu_last_replace=bleu.loc[last, "replace"],
        d2_real=d2.loc[0, "replace"],
        last_generation=last,
    )

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
    beyond = check(
        "text_replace_beyond_control",
        f"replace's rise in (log) perplexity of real text from generation 1 to "
        f"{last} exceeds the control's (per replicate)",
        "Shumailov et al. (2024)",
        claims.difference(
            change("replace", "perplexity_real", log=True), change("control", "perplexity_real", log=True)
        ),
        above=0.0,
    )
    control_rise = float(np.mean(change("control", "perplexity_real", log=True)))
    replace_rise = float(np.mean(change("replace", "perplexity_real", log=True)))
    out.update(
        ppl_first_control=ppl.loc[1, "control"],
        ppl_last_control=ppl.loc[last, "control"],
        control_share=control_rise / replace_rise if replace_rise > 0 else float("nan"),
    )
    out["control_verdict"] = (
        "the control "
        + control_near.word(
            f"stays within {NEAR:g} times generation 1's perplexity",
            f"drifts beyond {NEAR:g} times generation 1's perplexity",
            f"may or may not stay within {NEAR:g} times generation 1's perplexity",
        )
        + ", and replace's rise "
        + beyond.word(
            "exceeds the control's: the loss comes from the loop, not from fine-tuning",
            "does not exceed the control's: fine-tuning alone explains it",
            "cannot be told from the control's with these replicates",
        )
    )
    out["sem_evidence"] = evidence(poorer)
    out.update(ppl_evidence=evidence(rises), d2_evidence=evidence(narrows), fresh_evidence=evidence(fresh_helps))
    out["repeat_word"] = repeats.word(
        "repeats itself more than generation 1",
        "does not repeat itself more than generation 1",
        "may repeat itself more or less than generation 1: its texts cannot tell",
    )
    ppl_rose, d2_fell = rises.verdict == claims.HOLDS, narrows.verdict == claims.HOLDS
    out["ppl_move_replace"] = moved(ppl.loc[1, "replace"], ppl.loc[last, "replace"], up="climbs")
    out["ppl_meaning"] = ": the model forgets what real text looks like." if ppl_rose else "."
    for name, table in (("d2", d2), ("sem", sem), ("bleu", bleu)):
        out[f"{name}_move_replace"] = moved(table.loc[1, "replace"], table.loc[last, "replace"])
    out["variety_meaning"] = (
        ": the texts draw on a shrinking stock of words and phrases and say more similar things."
        if d2_fell and bleu.loc[last, "replace"] > bleu.loc[1, "replace"]
        else "."
    )
    out["ppl_fresh_vs_replace"] = compared(ppl.loc[last, "fresh"], ppl.loc[last, "replace"])
    out["d2_move_fresh"] = moved(d2.loc[1, "fresh"], d2.loc[last, "fresh"])
    out["sem_move_fresh"] = moved(sem.loc[1, "fresh"], sem.loc[last, "fresh"])
    out["fresh_lesson"] = _fresh_lesson(ppl, d2, last, ppl_rose and d2_fell)

    # accumulate: is its last generation closer to generation 1 than the loops that drop data?
    def gap(table, mode, log=False):
        a, b = table.loc[1, mode], table.loc[last, mode]
        return abs(np.log(b / a)) if log else abs(b - a)

    measures = {"perplexity": (ppl, True), "distinct-2": (d2, False), "semantic diversity": (sem, False)}
    closer = {
        name: gap(t, "accumulate", log) < min(gap(t, m, log) for m in ("replace", "fresh"))
        for name, (t, log) in measures.items()
    }
    far = all(
        gap(t, "accumulate", log) < 0.5 * min(gap(t, m, log) for m in ("replace", "fresh"))
        for t, log in measures.values()
    )
    yes, no = [n for n, c in closer.items() if c], [n for n, c in closer.items() if not c]
    stays = check(
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
    out["accumulate_verdict"] = (
        ("far closer" if far else "closer") + " to generation 1 than either loop that drops data"
        if not no
        else "no closer to generation 1 than the loops that drop data"
        if not yes
        else f"closer to generation 1 than either loop that drops data in {' and '.join(yes)}, "
        f"but not in {' and '.join(no)}"
    ) + evidence(
        stays,
        fails=" (though its perplexity is not confirmed closer by the replicates)",
        unclear=" (in these means: too few replicates to confirm it)",
    )
    return out
