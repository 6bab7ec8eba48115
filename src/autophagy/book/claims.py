"""Claims a chapter makes, checked against the run it is reading: a value with a confidence
interval from the replicates, held against a closed form or a direction, and a verdict.

A chapter states a claim with :func:`check`, which shows a compact *claim card* under the
figure, glues the value, its interval and the verdict for the prose, and tags the card so that
tools/build_site.py collects every card of the book on one page ("What this run confirmed")::

    c = claims.check("central_factor", "keeping the central 80% shrinks the variance by a "
                     "fixed factor a generation", "Xing et al. (2025), Sec. 3",
                     samples=ratios, target=theory.central_selection_factor(0.8))
    glue("central_word", c.word("shrinks", "does not shrink", "may shrink"))

Intervals are Student-t intervals on the estimate's degrees of freedom (n - 1 for a mean of
n replicates, Welch's for a difference), so a handful of replicates decides a large effect
honestly and a large sample gives the normal interval. Verdicts: a closed form *holds* when the
estimate is within the t quantile as improbable as :data:`TOLERANCE` normal standard errors
(4.5 for many replicates, wider for few) and *does not hold* otherwise; a direction
(``below=`` or ``above=`` a threshold) holds when the whole 95% interval lies on its side and
does not hold when it lies on the other. Anything else, fewer than :data:`MIN_SAMPLES`
replicates, an interval wider than the claim's ``precision``, or a run that cannot test it
(``untestable=``), is *too few samples to tell*. A card names its evidence (``evidence=``:
"this run" or a recorded run and its scale).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

HOLDS, FAILS, UNCLEAR = "holds", "does not hold", "too few samples at this profile to tell"
TOLERANCE = 4.5  # normal standard errors: a true closed form is this far off by chance < 1 in 100,000
TAIL = float(stats.norm.sf(TOLERANCE))  # the one-sided chance the tolerance stands for
LEVEL = 0.95  # the shown interval
MIN_SAMPLES = 3  # replicates: fewer leave a t interval too wide to decide anything
THIS_RUN = "this run"
METADATA_KEY = "autophagy/claim"  # where a card's record sits in the notebook's output


@dataclass(frozen=True)
class Estimate:
    """A statistic of the replicates (``value``), its standard error, the replicate count and
    the degrees of freedom of its t interval (``None``: n - 1, as for a mean of n replicates)."""

    value: float
    se: float
    n: int
    df: float | None = None

    @property
    def dof(self) -> float:
        """The degrees of freedom its intervals use (at least 1)."""
        return max(1.0, self.n - 1.0) if self.df is None else max(1.0, self.df)

    def quantile(self, tail: float) -> float:
        """The Student-t quantile leaving ``tail`` above it, on :attr:`dof` degrees of freedom."""
        return float(stats.t.isf(tail, self.dof))

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% confidence interval (Student-t)."""
        half = self.quantile((1 - LEVEL) / 2) * self.se
        return self.value - half, self.value + half


def estimate(samples, statistic: str | Callable = "mean", resamples: int = 1000) -> Estimate:
    """The ``statistic`` of ``samples`` (one number per replicate; NaNs dropped) and its
    standard error: s/sqrt(n) for the mean, a seeded bootstrap for anything else ("median",
    "std", "var" or a function of an array)."""
    x = np.asarray(samples, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    if statistic == "mean":
        se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        return Estimate(float(x.mean()), se, n)
    stat = {"median": np.median, "std": lambda a: np.std(a, ddof=1), "var": lambda a: np.var(a, ddof=1)}.get(
        statistic, statistic
    )
    if n < 2:
        return Estimate(float(stat(x)), math.nan, n)
    rng = np.random.default_rng(0)  # the same interval on every build of the same run
    boot = [stat(x[rng.integers(0, n, n)]) for _ in range(resamples)]
    return Estimate(float(stat(x)), float(np.std(boot, ddof=1)), n)


def difference(a, b, statistic: str | Callable = "mean") -> Estimate:
    """statistic(a) - statistic(b) for two independent sets of replicates, with its standard
    error and Welch-Satterthwaite degrees of freedom (for claims that one setting ends above
    or below another)."""
    ea, eb = estimate(a, statistic), estimate(b, statistic)
    se = math.hypot(ea.se, eb.se)
    parts = ea.se**4 / ea.dof + eb.se**4 / eb.dof
    df = se**4 / parts if parts > 0 else ea.dof + eb.dof
    return Estimate(ea.value - eb.value, se, min(ea.n, eb.n), df)


@dataclass(frozen=True)
class Claim:
    """One claim of a chapter and what this run says about it."""

    name: str
    statement: str
    source: str
    estimate: Estimate
    target: float | None = None
    below: float | None = None
    above: float | None = None
    precision: float | None = None
    untestable: str | None = None
    evidence: str = THIS_RUN

    def __post_init__(self):
        kinds = sum(v is not None for v in (self.target, self.below, self.above))
        if kinds != 1:
            raise ValueError("a claim needs exactly one of target=, below= or above=")

    @property
    def tolerance(self) -> float:
        """How many standard errors from the closed form the estimate may lie and still hold
        (the t quantile as improbable as :data:`TOLERANCE` normal ones, about 4.5 for many replicates)."""
        return self.estimate.quantile(TAIL)

    @property
    def z(self) -> float:
        """Distance from the closed form in standard errors (NaN for a direction)."""
        e = self.estimate
        if self.target is None:
            return math.nan
        if e.se > 0:
            return abs(e.value - self.target) / e.se
        return 0.0 if e.value == self.target else math.inf

    @property
    def verdict(self) -> str:
        """HOLDS, FAILS or UNCLEAR (see the module's docstring)."""
        e = self.estimate
        if self.untestable or e.n < MIN_SAMPLES or not math.isfinite(e.value) or not e.se >= 0:
            return UNCLEAR
        lo, hi = e.interval
        if self.precision is not None and (hi - lo) / 2 > self.precision:
            return UNCLEAR
        if self.target is not None:
            return HOLDS if self.z <= self.tolerance else FAILS
        if self.below is not None:
            return HOLDS if hi < self.below else FAILS if lo > self.below else UNCLEAR
        return HOLDS if lo > self.above else FAILS if hi < self.above else UNCLEAR

    def word(self, holds: str, fails: str, unclear: str) -> str:
        """The prose word for this verdict (e.g. "shrinks", "does not shrink", "may shrink")."""
        return {HOLDS: holds, FAILS: fails, UNCLEAR: unclear}[self.verdict]

    def expected(self) -> str:
        """The target in words: the closed form's value or the direction."""
        if self.target is not None:
            return f"closed form {_fmt(self.target)}"
        return f"below {_fmt(self.below)}" if self.below is not None else f"above {_fmt(self.above)}"

    def record(self) -> dict:
        """Everything on the card, as plain JSON values (the claims page reads it)."""
        lo, hi = self.estimate.interval
        out = {k: v for k, v in asdict(self).items() if k != "estimate"}
        out.update(
            value=self.estimate.value,
            se=self.estimate.se,
            n=self.estimate.n,
            df=self.estimate.dof,
            low=lo,
            high=hi,
            expected=self.expected(),
            verdict=self.verdict,
        )
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}

    def summary(self) -> str:
        """This run's value, interval and replicate count in words."""
        e = self.estimate
        if e.n == 0:
            return "no replicate reached it"
        lo, hi = e.interval
        interval = f" (95% CI {_fmt(lo)} to {_fmt(hi)})" if math.isfinite(e.se) else ""
        return f"{_fmt(e.value)}{interval}, n = {e.n}"

    def _evidence(self) -> str:
        return self.evidence[:1].upper() + self.evidence[1:]

    def _repr_markdown_(self) -> str:
        note = f" ({self.untestable})" if self.untestable else ""
        return (
            f"> **Claim.** {self.statement} *({self.source})*  \n"
            f"> Expected: {self.expected()}. {self._evidence()}: {self.summary()}.  \n"
            f"> **{SYMBOL[self.verdict]} {self.verdict}**{note}"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        note = f" <span>({esc(self.untestable)})</span>" if self.untestable else ""
        z = f", {self.z:.1f} standard errors from it" if math.isfinite(self.z) else ""
        return (
            f'<div class="claim-card claim-{self.verdict.split()[0]}" style="border-left:4px solid '
            f"{COLOUR[self.verdict]};padding:0.35em 0.8em;margin:0.4em 0 1em;font-size:0.9em;"
            f'background:rgba(127,127,127,0.07)">'
            f"<strong>Claim.</strong> {esc(self.statement)} <em>({esc(self.source)})</em><br>"
            f"Expected: {esc(self.expected())}. {esc(self._evidence())}: {esc(self.summary())}{z}.<br>"
            f"<strong>{SYMBOL[self.verdict]} {esc(self.verdict)}</strong>{note}</div>"
        )


SYMBOL = {HOLDS: "\u2713", FAILS: "\u2717", UNCLEAR: "?"}
COLOUR = {HOLDS: "#009E73", FAILS: "#D55E00", UNCLEAR: "#999999"}  # Okabe-Ito; symbols carry it too


def _fmt(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.4g}"


def check(
    name: str,
    statement: str,
    source: str,
    samples,
    *,
    statistic: str | Callable = "mean",
    target: float | None = None,
    below: float | None = None,
    above: float | None = None,
    precision: float | None = None,
    untestable: str | None = None,
    evidence: str = THIS_RUN,
    show: bool = True,
) -> Claim:
    """State a claim, measure it on ``samples`` (one value per replicate, or an
    :class:`Estimate` such as :func:`difference`'s), show its card and glue ``NAME`` (the
    value), ``NAME_low``/``NAME_high`` (95% interval; each only when finite) and ``NAME_verdict``.
    ``evidence`` names where the samples come from ("this run", or a recorded run and its scale)."""
    from .glue import glue

    measured = samples if isinstance(samples, Estimate) else estimate(samples, statistic)
    claim = Claim(
        name,
        statement,
        source,
        measured,
        target=target,
        below=below,
        above=above,
        precision=precision,
        untestable=untestable,
        evidence=evidence,
    )
    if show:
        from IPython.display import publish_display_data

        publish_display_data(
            {
                "text/html": claim._repr_html_(),
                "text/markdown": claim._repr_markdown_(),
                "text/plain": f"{claim.statement}: {claim.verdict}",
            },
            metadata={METADATA_KEY: claim.record()},
        )
        low, high = claim.estimate.interval
        for key, value in ((name, claim.estimate.value), (f"{name}_low", low), (f"{name}_high", high)):
            if math.isfinite(value):  # no interval from one replicate: nothing to print
                glue(key, value)
        glue(f"{name}_verdict", claim.verdict)
    return claim


def collected(cells: list[dict]) -> list[dict]:
    """The claim records in a notebook's cells (as stored by :func:`check`), in order."""
    return [
        out["metadata"][METADATA_KEY]
        for cell in cells
        for out in cell.get("outputs", [])
        if METADATA_KEY in out.get("metadata", {})
    ]
