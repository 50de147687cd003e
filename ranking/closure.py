"""Transitive closure of an IS_A hierarchy, as sparse matrices the ranking can slice.

Row i of the ancestor matrix holds every ancestor of term i (itself included)
with `distance + 1` as its value, so that a distance of 0 survives sparse
storage. The descendant matrix is its transpose.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
from scipy import sparse


def ancestor_closure(parents: Sequence[Sequence[int]]) -> sparse.csr_matrix:
    """Ancestors of every term with their shortest IS_A distance (+1), from each term's parents.

    Terms are visited parents first; an edge that would close a cycle is ignored
    rather than looping (the graph build already drops those).
    """
    n = len(parents)
    children: list[list[int]] = [[] for _ in range(n)]
    waiting = np.zeros(n, dtype=np.int64)
    for child, ps in enumerate(parents):
        for parent in set(ps):
            if parent != child:
                children[parent].append(child)
                waiting[child] += 1
    ready = deque(int(i) for i in np.flatnonzero(waiting == 0))
    closure: list[dict[int, int] | None] = [None] * n
    visited = 0
    while True:
        while ready:
            term = ready.popleft()
            own: dict[int, int] = {term: 0}
            for parent in parents[term]:
                above = closure[parent]
                if above is None or parent == term:
                    continue
                for ancestor, distance in above.items():
                    if distance + 1 < own.get(ancestor, n + 1):
                        own[ancestor] = distance + 1
            closure[term] = own
            visited += 1
            for child in children[term]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        if visited == n:
            break
        # Whatever is left sits on a cycle: release the lowest-numbered term and go on.
        ready.append(int(next(i for i in range(n) if closure[i] is None)))
        waiting[ready[0]] = 0
    rows = np.repeat(np.arange(n), [len(c) for c in closure])
    cols = np.fromiter((a for c in closure for a in c), dtype=np.int64, count=len(rows))
    dist = np.fromiter((d + 1 for c in closure for d in c.values()), dtype=np.int32, count=len(rows))
    return sparse.csr_matrix((dist, (rows, cols)), shape=(n, n))


def row(matrix: sparse.csr_matrix, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of one row of a CSR matrix, without copying."""
    start, end = matrix.indptr[index], matrix.indptr[index + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def gather_columns(matrix: sparse.csc_matrix, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, value, column) of every stored entry in `columns` of a CSC matrix, vectorised."""
    starts = matrix.indptr[columns]
    lengths = matrix.indptr[columns + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=matrix.data.dtype), empty
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    positions = offsets + np.arange(total)
    return matrix.indices[positions], matrix.data[positions], np.repeat(columns, lengths)
