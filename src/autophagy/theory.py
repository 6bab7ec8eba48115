"""Closed forms for the toy loops, used by the chapters' overlays and by the tests.

Notation: N samples a generation, ``ddof`` 0 for the maximum-likelihood variance and 1 for
the unbiased one, generation 0 is the truth N(0, 1). Sources: Shumailov et al. (2024),
Bertrand et al. (2024), Suresh et al. (2024), Alemohammad et al. (2024).
"""

from __future__ import annotations

import numpy as np


def variance_ratio(n: int, ddof: int) -> float:
    """r = (N - 1) / (N - ddof): E[sigma_{t+1}^2] = r sigma_t^2 in replace mode."""
    return (n - 1) / (n - ddof)


def expected_variance(t, n: int, ddof: int):
    """E[sigma_t^2] = r^t (replace mode)."""
    return variance_ratio(n, ddof) ** np.asarray(t, dtype=float)


def expected_sigma(t, n: int, ddof: int):
    """E[sigma_t] = a^t with a = sqrt(2 / (N - ddof)) Gamma(N/2) / Gamma((N-1)/2)."""
    from scipy import special

    log_a = 0.5 * np.log(2 / (n - ddof)) + special.gammaln(n / 2) - special.gammaln((n - 1) / 2)
    return np.exp(np.asarray(t, dtype=float) * log_a)


def log_variance_drift(n: int, ddof: int) -> float:
    """Mean step of the random walk log sigma_t^2: psi((N-1)/2) + ln(2/(N-ddof)) < 0."""
    from scipy import special

    return float(special.digamma((n - 1) / 2) + np.log(2 / (n - ddof)))


def log_variance_step_variance(n: int) -> float:
    """Variance of one step of log sigma_t^2: psi'((N-1)/2), about 2/N."""
    from scipy import special

    return float(special.polygamma(1, (n - 1) / 2))


def median_variance(t, n: int, ddof: int):
    """median(sigma_t^2) ~ exp(t * drift): the typical replicate collapses."""
    return np.exp(np.asarray(t, dtype=float) * log_variance_drift(n, ddof))


def mean_variance(t, n: int, ddof: int):
    """Var(mu_t) = (1/N) sum_{s<t} r^s: t/N unbiased, 1 - ((N-1)/N)^t for MLE."""
    t = np.asarray(t, dtype=float)
    r = variance_ratio(n, ddof)
    if r == 1.0:
        return t / n
    return (1 - r**t) / (1 - r) / n


def collapse_bound(t, n: int, eps: float, sigma0: float = 1.0):
    """Suresh et al.: P(sigma_t > eps) <= (sigma_0 / eps) exp(-t / (4N - 1))."""
    return np.minimum(1.0, sigma0 / eps * np.exp(-np.asarray(t, dtype=float) / (4 * n - 1)))


def mixing_moments(real_fractions, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(E[sigma_t^2], Var(mu_t)) for t = 0 .. len(real_fractions), MLE, when generation t >= 2
    trains on n samples of which a share ``real_fractions[t - 1]`` is new real data and the
    rest comes from generation t - 1 (``real_fractions[0]``, generation 1, is ignored: it is real).

    Conditioning on generation t, the sample mean of the mix has variance alpha/n +
    (1 - alpha) sigma_t^2 / n around (1 - alpha) mu_t, and the MLE variance has expectation
    c (alpha + (1 - alpha) sigma_t^2) + alpha (1 - alpha) mu_t^2, c = (n - 1)/n.
    """
    alphas = np.asarray(real_fractions, dtype=float)
    c = (n - 1) / n
    e, v = np.empty(len(alphas) + 1), np.empty(len(alphas) + 1)
    e[0], v[0] = 1.0, 0.0
    e[1], v[1] = c, 1.0 / n
    for s, alpha in enumerate(alphas[1:], start=1):
        e[s + 1] = alpha * c + (1 - alpha) * c * e[s] + alpha * (1 - alpha) * v[s]
        v[s + 1] = alpha / n + (1 - alpha) * e[s] / n + (1 - alpha) ** 2 * v[s]
    return e, v


def fresh_moments(t, n: int, alpha: float):
    """(E[sigma_t^2], Var(mu_t)) in fresh mode (real fraction alpha, MLE), by the recursion."""
    e, v = mixing_moments(np.full(int(np.max(t)), alpha), n)
    idx = np.asarray(t, dtype=int)
    return e[idx], v[idx]


def web_moments(generations: int, n: int, share) -> tuple[np.ndarray, np.ndarray]:
    """(E[sigma_t^2], Var(mu_t)), t = 0 .. generations, in web mode without screening:
    ``share(t)`` (e.g. ``LoopSettings.synthetic_share``) of generation t's scrape is synthetic."""
    alphas = [1 - round(share(t) * n) / n for t in range(1, generations + 1)]
    return mixing_moments(alphas, n)


def fresh_fixed_point(n: int, alpha: float) -> tuple[float, float]:
    """(E_inf, v_inf) = (1 - 1/D, 1/D), D = 1 - alpha + alpha n (2 - alpha)."""
    d = 1 - alpha + alpha * n * (2 - alpha)
    return 1 - 1 / d, 1 / d


def verified_moments(t, n: int, accuracy: float):
    """(E[sigma_t^2], Var(mu_t)) in ``replace`` mode when a verifier of ``accuracy`` a screens the
    synthetic samples (MLE). What passes is n draws from a * N(0, 1) + (1 - a) * generation t, a
    mixture of variance m_t = a + (1 - a) sigma_t^2 + a (1 - a) mu_t^2 and mean (1 - a) mu_t:
    E_{t+1} = c E[m_t], v_{t+1} = (1 - a)^2 v_t + E[m_t] / n, c = (n - 1)/n."""
    a, c = float(accuracy), (n - 1) / n
    steps = int(np.max(t))
    e, v = np.empty(steps + 1), np.empty(steps + 1)
    e[0], v[0] = 1.0, 0.0
    if steps:
        e[1], v[1] = c, 1.0 / n
    for s in range(1, steps):
        m = a + (1 - a) * e[s] + a * (1 - a) * v[s]
        e[s + 1], v[s + 1] = c * m, (1 - a) ** 2 * v[s] + m / n
    idx = np.asarray(t, dtype=int)
    return e[idx], v[idx]


def verified_fixed_point(n: int, accuracy: float) -> tuple[float, float]:
    """(E_inf, v_inf) of :func:`verified_moments`: with m = a / (1 - (1 - a)(c + 1/(n (2 - a)))),
    E_inf = c m and v_inf = m / (n a (2 - a)); for a > 0 (a = 0 is the unverified collapse)."""
    a, c = float(accuracy), (n - 1) / n
    m = a / (1 - (1 - a) * (c + 1 / (n * (2 - a))))
    return c * m, m / (n * a * (2 - a))


def verified_w2_squared(n: int, knowledge: int = 0) -> float:
    """E[W2^2] to the truth where a ``replace`` loop settles under a verifier of accuracy 1 that
    believes its maximum-likelihood fit N(m, s^2) to ``knowledge`` = M real samples (0: the truth
    itself). What passes is n draws from its belief, so each generation is a fit to them (from
    generation 2 with exact rejection sampling; the batch envelope of
    :class:`~autophagy.mitigations.curation.GaussianVerifier`
    gets there within a few generations):
    E W2^2 = E m^2 + E s^2 / n + E s^2 c2(n) - 2 E s c1(n) + 1, with E m^2 = 1/M, E s^2 = c2(M),
    E s = c1(M); and with M = 0 it is generation 1's, a fit to n real samples."""
    c1n, c2n = _chi_moments(n, 0)
    m2, s2, s1 = (0.0, 1.0, 1.0) if knowledge == 0 else (1 / knowledge, *_chi_moments(knowledge, 0)[::-1])
    return m2 + s2 / n + s2 * c2n - 2 * s1 * c1n + 1


def truncation_factor(psi: float) -> float:
    """Variance is multiplied by psi^2 each generation when sampling N(mu, (psi sigma)^2)."""
    return psi**2


def central_selection_factor(q: float) -> float:
    """Variance factor from keeping the central fraction q: 1 - 2 c phi(c) / (2 Phi(c) - 1)."""
    from scipy import stats

    c = stats.norm.ppf((1 + q) / 2)
    return float(1 - 2 * c * stats.norm.pdf(c) / (2 * stats.norm.cdf(c) - 1))


def reward_curation_moments(target: float, q: float) -> tuple[float, float]:
    """(mean, variance) of N(0, 1) samples after keeping the share q closest to ``target`` (the
    narrow reward ``-abs(x - target)``): N(0, 1) truncated to [target - d, target + d], the interval
    of mass q. For a model N(mu, sigma^2), use (target - mu) / sigma and rescale."""
    from scipy import optimize, stats

    def mass(d):
        return stats.norm.cdf(target + d) - stats.norm.cdf(target - d) - q

    d = optimize.brentq(mass, 0.0, abs(target) + 10.0)
    kept = stats.truncnorm(target - d, target + d)
    return float(kept.mean()), float(kept.var())


# -- categorical (Wright-Fisher drift of symbol frequencies) --------------------------------


def gini_simpson(p) -> np.ndarray:
    """H = 1 - sum_k p_k^2 over the last axis: the chance that two draws differ."""
    p = np.asarray(p, dtype=float)
    return 1.0 - (p**2).sum(axis=-1)


def expected_gini_simpson(t, n: int, h0: float):
    """E[H_t] = H_0 (1 - 1/N)^t (replace mode, N draws a generation)."""
    return h0 * (1 - 1 / n) ** np.asarray(t, dtype=float)


def survival_probability(p, n: int):
    """Chance 1 - (1 - p)^N that a symbol of probability p is drawn at least once in N draws."""
    return 1.0 - (1.0 - np.asarray(p, dtype=float)) ** n


def time_to_one_symbol(p, n: int) -> float:
    """Mean generations until one symbol is left, about -2N sum_k (1 - p_k) ln(1 - p_k).

    The diffusion approximation (Kimura) for N draws a generation; exact as N grows.
    """
    q = 1.0 - np.asarray(p, dtype=float)
    q = q[q > 0]
    return float(-2 * n * (q * np.log(q)).sum())


# A rare class among N labels, each generation's labels drawn from the last one's shares (neutral
# Wright-Fisher drift of its count): lost for good with probability 1 - p, the time to loss from
# the exact chain or, for large N, Kimura and Ohta's diffusion approximation.


def wright_fisher_transition(n: int) -> np.ndarray:
    """P[i, j]: the chance that a class with i of n labels has j in the next generation."""
    from scipy.stats import binom

    states = np.arange(n + 1)
    return binom.pmf(states[None, :], n, states[:, None] / n)


def _gone_along_chain(state: np.ndarray, generations: int) -> np.ndarray:
    """P(count 0) at each step of the Wright-Fisher chain started from the distribution ``state``."""
    move = wright_fisher_transition(len(state) - 1)
    gone = [state[0]]
    for _ in range(generations):
        state = state @ move
        gone.append(state[0])
    return np.array(gone)


def rare_class_gone_by(generations: int, n: int, count: int) -> np.ndarray:
    """P(the class is gone by generation g), g = 0..generations, from ``count`` of n labels
    (the exact chain)."""
    state = np.zeros(n + 1)
    state[count] = 1.0
    return _gone_along_chain(state, generations)


def rare_class_lost_by(generations: int, n: int, share: float) -> np.ndarray:
    """P(gone by generation g), g = 0..generations, for a class of share p in the real data:
    generation 1 counts n real labels, Binomial(n, p), and each later generation n labels
    drawn from the previous one's shares (the exact chain; 0 at g = 0)."""
    from scipy.stats import binom

    first = binom.pmf(np.arange(n + 1), n, share)
    return np.concatenate([[0.0], _gone_along_chain(first, generations - 1)])


def rare_class_loss_time_within(generations: int, n: int, share: float) -> float:
    """E[generation of loss | lost by ``generations``], from the exact chain of
    :func:`rare_class_lost_by` (what a run of that many generations can measure)."""
    gone = rare_class_lost_by(generations, n, share)
    return float(np.sum(np.arange(generations + 1)[1:] * np.diff(gone)) / gone[-1])


def argmax_share(share, separation: float):
    """The minority's share after one generation labelled by the Bayes classifier's argmax.

    Two classes with unit-variance Gaussian features, the minority's mean ``separation`` above
    the majority's: the classifier says "minority" above x* = L / separation (from the midpoint),
    L = ln((1 - p) / p), so the share becomes
    p Phi(separation/2 - L/separation) + (1 - p) Phi(-separation/2 - L/separation) < p
    (Taori and Hashimoto 2023: argmax labels amplify the majority; sampled labels keep p on average).
    """
    from scipy.stats import norm

    p = np.asarray(share, dtype=float)
    cut = np.log((1 - p) / p) / separation
    return p * norm.cdf(separation / 2 - cut) + (1 - p) * norm.cdf(-separation / 2 - cut)


def rare_class_loss_probability(share: float) -> float:
    """1 - p: neutral drift keeps a class for good only by taking over, with chance its share."""
    return 1.0 - share


def rare_class_loss_time(n: int, share: float) -> float:
    """E[generations to loss | loss] ~ -2 N p ln p / (1 - p) (Kimura and Ohta, for large N)."""
    return -2 * n * share * np.log(share) / (1 - share)


# -- linear regression with a fixed design (Gerstgrasser et al. 2024) ------------------------


def regression_error_one(d: int, rows: int, noise: float) -> float:
    """E||w_1 - w*||^2 = sigma^2 d / (T - d - 1): least squares on T isotropic rows (T > d + 1)."""
    return noise**2 * d / (rows - d - 1)


def regression_error_replace(t, d: int, rows: int, noise: float):
    """Replace mode: t sigma^2 d / (T - d - 1), linear growth in the generation t."""
    return np.asarray(t, dtype=float) * regression_error_one(d, rows, noise)


def accumulate_factor(t):
    """sum_{i<=t} 1/i^2: how many single generations' errors accumulating has gathered by
    generation t (below pi^2/6 = 1.645 for every t)."""
    t = np.asarray(t, dtype=int)
    partial = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, max(int(t.max()), 1) + 1) ** 2)])
    return partial[t]


def regression_error_accumulate(t, d: int, rows: int, noise: float):
    """Accumulate mode: sigma^2 d / (T - d - 1) sum_{i<=t} 1/i^2, bounded by pi^2/6 times one."""
    return regression_error_one(d, rows, noise) * accumulate_factor(t)


# -- logistic regression with a fixed design (Dey & Donoho 2024) ----------------------------
# To first order in 1/N, a maximum-likelihood fit on N rows errs by a Gaussian vector of
# covariance I^-1 / N, so (theta - theta*)' N I (theta - theta*) has mean k, the number of
# coefficients, after one generation, for any exponential family (Dey & Donoho 2024).


def logistic_error_replace(t, k: int):
    """Replace mode, to first order: k t (each generation adds one fit's error)."""
    return np.asarray(t, dtype=float) * k


def logistic_error_accumulate(t, k: int):
    """Accumulate mode, to first order: k sum_{i<=t} 1/i^2, bounded by k pi^2/6."""
    return k * accumulate_factor(t)


# -- kernel density estimate with a fixed bandwidth -----------------------------------------


def kde_expected_data_variance(t, n: int, bandwidth: float, var0: float = 1.0):
    """E[s_t^2], the ML variance of generation t's training set (replace mode).

    Generation 1 holds N real draws (E = c var0, c = (N - 1)/N); then
    E[s_{t+1}^2] = c (s_t^2 + h^2), so E[s_t^2] = s* + (c var0 - s*) c^(t-1), tending to
    s* = (N - 1) h^2. Generation 0 is the truth's variance ``var0``.
    """
    t = np.asarray(t, dtype=float)
    c = (n - 1) / n
    limit = (n - 1) * bandwidth**2
    return np.where(t == 0, var0, limit + (c * var0 - limit) * c ** np.maximum(t - 1, 0))


# -- strong model collapse (Dohmatob et al. 2025) -------------------------------------------
# Least squares on n Gaussian rows (d features), a share s of them labelled by a model off by a
# shift of length c in the features' covariance metric, noise sigma. The fit is the truth
# plus s times the shift, plus the noise's error, plus the mixing's own fluctuation:
#   E||w_hat - w*||^2 = s^2 c^2 + sigma^2 d / (n - d - 1) + s (1 - s) (d + 1) c^2 / n + O(d^2 / n^2)
# The first term does not fall with n: the scaling law stops at a plateau.


def strong_collapse_plateau(share, shift_norm: float):
    """s^2 c^2: the test error that no amount of data removes."""
    return np.asarray(share, dtype=float) ** 2 * shift_norm**2


def strong_collapse_error(n, share, d: int, noise: float, shift_norm: float):
    """The test error of least squares on n rows with a synthetic share s (first order in d/n
    for the mixing term; exact for the plateau and the noise)."""
    n, share = np.asarray(n, dtype=float), np.asarray(share, dtype=float)
    return (
        strong_collapse_plateau(share, shift_norm)
        + noise**2 * d / (n - d - 1)
        + share * (1 - share) * (d + 1) * shift_norm**2 / n
    )


# -- self-correction (Gillman et al. 2024) --------------------------------------------------
# Each synthetic sample of N(mu_t, sigma_t^2) is moved a fraction gamma of the way to its optimal
# transport image in the truth N(0, 1): the corrected samples are N((1 - gamma) mu_t,
# ((1 - gamma) sigma_t + gamma)^2). Refitting N of them gives linear recursions for the moments
# E[sigma_t], E[sigma_t^2] and Var(mu_t), with c1 = E sqrt(chi2_{N-1} / (N - ddof)) and
# c2 = (N - 1) / (N - ddof):
#   E sigma_{t+1}   = c1 ((1 - gamma) E sigma_t + gamma)
#   E sigma_{t+1}^2 = c2 E s_t,   s_t = ((1 - gamma) sigma_t + gamma)^2
#   Var mu_{t+1}    = (1 - gamma)^2 Var mu_t + E s_t / N


def _chi_moments(n: int, ddof: int) -> tuple[float, float]:
    """(E sqrt(X / (n - ddof)), E X / (n - ddof)) for X ~ chi^2 with n - 1 degrees of freedom:
    one generation's factors on sigma and sigma^2."""
    return float(expected_sigma(1, n, ddof)), float(variance_ratio(n, ddof))


def self_correction_moments(generations: int, n: int, gamma: float, ddof: int = 0) -> dict[str, np.ndarray]:
    """E[sigma_t], E[sigma_t^2] and Var(mu_t) for t = 0..generations (generation 0: the truth)."""
    c1, c2 = _chi_moments(n, ddof)
    sigma, var, spread = [1.0], [1.0], [0.0]
    for _ in range(generations):
        corrected = (1 - gamma) ** 2 * var[-1] + 2 * gamma * (1 - gamma) * sigma[-1] + gamma**2
        sigma.append(c1 * ((1 - gamma) * sigma[-1] + gamma))
        spread.append((1 - gamma) ** 2 * spread[-1] + corrected / n)
        var.append(c2 * corrected)
    return {"sigma": np.array(sigma), "var": np.array(var), "mean_var": np.array(spread)}


def self_correction_fixed_point(n: int, gamma: float, ddof: int = 0) -> dict[str, float]:
    """The limits of :func:`self_correction_moments` as t grows (gamma > 0)."""
    c1, c2 = _chi_moments(n, ddof)
    sigma = c1 * gamma / (1 - c1 * (1 - gamma))
    var = c2 * (2 * gamma * (1 - gamma) * sigma + gamma**2) / (1 - c2 * (1 - gamma) ** 2)
    corrected = var / c2
    return {"sigma": sigma, "var": var, "mean_var": corrected / (n * (1 - (1 - gamma) ** 2))}


# -- verification of synthetic labels (Feng et al. 2024) ------------------------------------
# A generator mislabels with probability p; a verifier of accuracy a keeps right labels with
# probability a and wrong ones with probability 1 - a, so the kept labels are wrong with
# probability q = p (1 - a) / (p (1 - a) + (1 - p) a). The mean-difference classifier on n kept
# examples of x | y ~ N(y mu, I_d), |mu| = r, is w = (S r / n + G1 / sqrt(n)) u + G_perp / sqrt(n),
# S = n - 2 Binomial(n, q): its accuracy Phi(r A / sqrt(A^2 + B^2)), A ~ N(S r / n, 1 / n),
# B^2 ~ chi^2_{d-1} / n, tends to Phi(r) when q < 1/2 (a > p) and to 1 - Phi(r) when q > 1/2.


def kept_label_noise(label_noise: float, accuracy: float) -> float:
    """q: the share of wrong labels among those a verifier of ``accuracy`` keeps."""
    wrong, right = label_noise * (1 - accuracy), (1 - label_noise) * accuracy
    return wrong / (wrong + right)


def verified_classifier_accuracy(
    n: int, accuracy: float, label_noise: float, d: int, r: float, nodes: int = 64
) -> float:
    """E[test accuracy] of the mean-difference classifier on n verified examples (d > 1): exact
    over S, Gauss-Hermite over G1 and generalised Gauss-Laguerre over the chi^2, ``nodes`` each."""
    from scipy import special, stats

    q = kept_label_noise(label_noise, accuracy)
    k = np.arange(n + 1)
    weights_k = stats.binom.pmf(k, n, q)
    keep = weights_k > 1e-15
    k, weights_k = k[keep], weights_k[keep]
    h_x, h_w = np.polynomial.hermite_e.hermegauss(nodes)  # E over a standard normal
    h_w = h_w / h_w.sum()
    shape = (d - 1) / 2  # chi^2_{d-1} = 2 Gamma(shape): E f = sum w_i f(2 t_i) / Gamma(shape)
    g_x, g_w = special.roots_genlaguerre(nodes, shape - 1)
    g_w = g_w / g_w.sum()
    a = (n - 2 * k)[:, None, None] * r / n + h_x[None, :, None] / np.sqrt(n)  # A given S, at the nodes
    b2 = 2 * g_x[None, None, :] / n
    acc = stats.norm.cdf(r * a / np.sqrt(a**2 + b2))
    return float(np.einsum("k,h,g,khg->", weights_k, h_w, g_w, acc))


# -- tails and scaling (Dohmatob et al. 2024) ---
# Hutter's memoriser of K tokens, tested on p (Zipf: p_i proportional to i^-beta) and trained on T
# tokens of q (p itself, p cut at rank k, or a mixture); the tests and chapter 5 hold runs of
# autophagy.experiments.tails against these.


def memoriser_error(train_sizes, truth, training) -> np.ndarray:
    """E[test error] = sum_i p_i (1 - q_i)^T of a memoriser trained on T tokens of q
    (``training``), tested on p (``truth``), for each T of ``train_sizes`` (exact; log1p keeps
    (1 - q_i)^T accurate for tiny q_i and large T)."""
    t = np.asarray(train_sizes, dtype=float)
    with np.errstate(divide="ignore"):  # q_i = 1 gives log 0 = -inf: (1 - q_i)^T = 0
        log_unseen = np.log1p(-np.asarray(training, dtype=float))
    return np.exp(t[..., None] * log_unseen) @ np.asarray(truth, dtype=float)


def tail_plateau(truth, rank: int) -> float:
    """sum_{i > k} p_i: the error of a memoriser trained on p cut at rank k once T is large (it
    never sees the tail), however many tokens it is given."""
    return float(np.asarray(truth, dtype=float)[rank:].sum())


def tail_plateau_approx(rank, beta: float):
    """k^-(beta-1) / ((beta-1) zeta(beta)): sum_{i > k} p_i for large k under the infinite Zipf
    law p_i = i^-beta / zeta(beta)."""
    from scipy import special

    return np.asarray(rank, dtype=float) ** (1 - beta) / ((beta - 1) * special.zeta(beta))


def clean_scaling_exponent(beta: float) -> float:
    """c = 1 - 1/beta: trained on clean Zipf data the memoriser's error falls as T^-c (Hutter 2021)."""
    return 1 - 1 / beta
