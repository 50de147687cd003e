"""Offline study of the ranking: simulated patients, evaluation on published cases, baselines and tuning.

Nothing here answers a request; the CLI's `cdss eval` commands and the benchmarks use it.
"""
