"""Offline study of the link model: evaluation, comparisons and experiments behind `cdss gnn eval|compare`.

Nothing here answers a request; `gnn.score` is what the runtime loads.
"""
