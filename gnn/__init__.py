"""Learned link scores for diagnosis and treatment edges (PyTorch Geometric)."""
