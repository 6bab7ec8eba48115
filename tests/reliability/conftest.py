"""Fixtures of the reliability tests."""

import pytest


@pytest.fixture(autouse=True)
def _no_figures(monkeypatch):
    """Figures are drawn after the loop and tested in test_cli; here they would only cost time."""
    import matplotlib.pyplot as plt

    monkeypatch.setattr("autophagy.runs.runner.save_figures", lambda draw, result, folder: plt.close("all"))
