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


def neighbor_distances(x, neighbors):
    """Each row's Euclidean distance to the last (farthest) of its ``neighbors``.

    ``neighbors`` is the table :func:`nearest_neighbors` returns for ``x``, so
    this is the distance to the ``k``-th nearest other row: a local scale of the
    data, small where the samples are dense and large where they are sparse.
    Read in chunks of rows, so memory-mapped ``x`` is never loaded whole.
    Returns a float32 tensor of shape ``(n_samples, 1)`` on ``neighbors``' device.
    """
    if neighbors.shape[1] == 0:
        # A single row has no neighbour, and no scale to perturb it by.
        return torch.zeros(len(neighbors), 1, device=neighbors.device)
    farthest = neighbors[:, -1]
    distances = []
    for begin in range(0, len(farthest), _CHUNK_ROWS):
        rows = x[begin : begin + _CHUNK_ROWS].float().flatten(1)
        others = x[farthest[begin : begin + _CHUNK_ROWS]].float().flatten(1)
        distances.append((rows - others).norm(dim=1, keepdim=True))
    return torch.cat(distances).to(neighbors.device)


def label_propagation_accuracy(
    neighbors, labels, n_classes, generator, *, per_class=10, n_folds=10, alpha=0.99, n_iter=50
):
    """How well the neighbour graph carries the labels: cross-validated label spreading.

    Label spreading (Zhou et al., 2004) over the symmetric graph of
    ``neighbors`` (rows of neighbour indices, as :func:`nearest_neighbors`
    returns) predicts each held-out labeled sample from the others, fold by
    fold. At most ``per_class`` labeled samples per class take part, so the
    accuracy measures the graph, not how many labels there are (spreading from
    more labels is more accurate on any graph). ``labels`` holds class indices
    below ``n_classes``, ``-1`` for unlabeled samples. Returns the accuracy, or
    None when some class has fewer than two labeled samples (nothing to spread
    from once one is held out).

    It runs on the CPU, whatever the device of ``neighbors``: a few sparse
    products over the graph, which not every accelerator backend supports.
    """
    neighbors, labels = neighbors.cpu(), labels.cpu()
    n_samples, k = neighbors.shape
    pool = []
    for category in range(n_classes):
        members = (labels == category).nonzero().squeeze(1)
        if len(members) < 2:
            return None
        order = torch.randperm(len(members), generator=generator)
        pool.append(members[order[:per_class]])
    pool = torch.cat(pool)
    pool = pool[torch.randperm(len(pool), generator=generator)]

    rows = torch.arange(n_samples).repeat_interleave(k)
    columns = neighbors.reshape(-1)
    # Symmetric: an edge either way joins two samples, as in label spreading's kNN kernel.
    edges = torch.stack([torch.cat([rows, columns]), torch.cat([columns, rows])])
    weights = torch.ones(edges.shape[1])
    degree = torch.zeros(n_samples).index_add_(0, edges[0], weights)
    scale = degree.clamp_min(1).rsqrt()
    graph = torch.sparse_coo_tensor(
        edges, weights * scale[edges[0]] * scale[edges[1]], (n_samples, n_samples),
        check_invariants=False,
    ).coalesce()

    # Every fold at once: fold f spreads from the pool outside it, in its own
    # block of n_classes columns.
    n_folds = min(n_folds, len(pool))
    folds = torch.arange(len(pool)) % n_folds
    known = torch.zeros(n_samples, n_folds, n_classes)
    for fold in range(n_folds):
        seeds = pool[folds != fold]
        known[seeds, fold, labels[seeds]] = 1.0
    known = known.reshape(n_samples, n_folds * n_classes)
    spread = known
    for _ in range(n_iter):
        spread = alpha * torch.sparse.mm(graph, spread) + (1 - alpha) * known
    spread = spread.reshape(n_samples, n_folds, n_classes)
    predicted = spread[pool, folds].argmax(dim=1)
    return float((predicted == labels[pool]).float().mean())
