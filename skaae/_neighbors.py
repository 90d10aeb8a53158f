"""Nearest neighbours of the training samples, found once per fit on the device."""

import torch

#: Rows of the distance matrix computed at once: 2,048 x 60,000 float32
#: distances are about 0.5 GB.
_CHUNK_ROWS = 2048
#: Rows of a memory-mapped X (skaae._data.MappedRows) read at once to compare
#: a chunk with: the data is read a block at a time instead of held whole.
_MAPPED_BLOCK_ROWS = 8192


def nearest_neighbors(x, n_neighbors):
    """Indices of each row's ``n_neighbors`` nearest other rows of ``x`` (Euclidean).

    Exact, by brute force in chunks of rows, on the device that holds ``x``:
    the squared distances come from one matrix product per chunk, which runs
    at the matrix units' speed (60,000 x 784 rows take seconds to a minute on
    two cores). ``x`` is a tensor, or memory-mapped rows that are read a block
    at a time, each chunk keeping its nearest rows so far. Returns an int64
    tensor of shape ``(n_samples, n_neighbors)``.
    """
    n_samples = len(x)
    k = min(n_neighbors, n_samples - 1)
    block = n_samples if torch.is_tensor(x) else _MAPPED_BLOCK_ROWS
    # In memory, every row's squared norm once; mapped rows get theirs per block read.
    norms = (x.float().flatten(1) ** 2).sum(dim=1) if torch.is_tensor(x) else None
    chunks = []
    for begin in range(0, n_samples, _CHUNK_ROWS):
        rows = x[begin : begin + _CHUNK_ROWS].float().flatten(1)
        best = None
        for start in range(0, n_samples, block):
            others = x[start : start + block].float().flatten(1)
            # ||a - b||^2 without the row's own norm, which does not change its ranking.
            other_norms = (
                (others * others).sum(dim=1) if norms is None else norms[start : start + block]
            )
            distances = other_norms[None, :] - 2 * rows @ others.T
            own = torch.arange(begin, begin + len(rows), device=rows.device) - start
            inside = (own >= 0) & (own < len(others))
            distances[torch.arange(len(rows), device=rows.device)[inside], own[inside]] = (
                float("inf")
            )
            found = distances.topk(min(k, len(others)), dim=1, largest=False)
            candidates = (found.values, found.indices + start)
            if best is not None:
                values = torch.cat([best[0], candidates[0]], dim=1)
                indices = torch.cat([best[1], candidates[1]], dim=1)
                nearest = values.topk(k, dim=1, largest=False).indices
                candidates = (values.gather(1, nearest), indices.gather(1, nearest))
            best = candidates
        chunks.append(best[1])
    return torch.cat(chunks)
