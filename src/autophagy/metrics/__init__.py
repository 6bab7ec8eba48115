"""Metrics: functions of a model (or its samples) and held-out real data, returning named numbers."""
