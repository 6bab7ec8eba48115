"""Generative models: anything with ``fit(data, rng)`` and ``sample(n, rng)`` (see autophagy.engine.loop)."""
