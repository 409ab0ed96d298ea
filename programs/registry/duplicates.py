"""Duplicates inside one list, found while it is read, a block of rows at a time (NumPy).

The rules (`rows.reasons`): a person listed twice — the first line stands, later lines with the
same ID number are rejected; among the rows left, a person number on two ID numbers — the first
line stands. Rows are marked here, before anything is written, so a duplicate goes to the
rejected rows with its raw values like any other rejection.

ID numbers of valid rows are exact keys (their 17 digits as an integer: the check character
follows from them). Person numbers are free text of up to 30 characters, so they are keyed by
a 64-bit hash: a person number whose hash was seen before is only a *candidate*, which the
bulk path settles exactly at the end (`bulk.settle`): among the staged rows and the candidates
with the same exact value, the first line stands. A hash collision therefore costs a look-up,
never a wrong rejection. Neither set keeps line numbers: `bulk.settle` finds the first line of each
duplicate in SQL, for the few rejected rows only. Memory: 16 bytes per valid row (35 MB at 2.2 M), merges at most 8 MB more.
"""

import numpy as np

NONE, CERTNO, PSN_NO = 0, 1, 2  # duplicate kinds (the rejected table names them)


class SeenKeys:
    """A growing set of int64 keys kept as sorted runs, merged like a binary counter up to
    `MAX_RUN` keys (a merge needs both runs and the result in memory at once), so that adding
    n keys costs O(n log n) in all and a look-up one binary search per run."""

    MAX_RUN = 1 << 19  # 4 MB of keys

    def __init__(self):
        self.runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(keys), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, keys), len(run) - 1)
            hit |= run[at] == keys
        return hit

    def add(self, keys: np.ndarray, *, ordered: bool = False) -> None:
        """Add keys that are distinct and not yet in the set (`ordered`: already ascending)."""
        if not len(keys):
            return
        self.runs.append(keys if ordered else np.sort(keys))
        while (len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1])
               and len(self.runs[-2]) + len(self.runs[-1]) <= self.MAX_RUN):
            last, before = self.runs.pop(), self.runs.pop()
            merged = np.concatenate([before, last])
            merged.sort(kind="stable")  # two sorted runs: a linear merge
            self.runs.append(merged)


def _first_seen(keys: np.ndarray, seen: SeenKeys) -> np.ndarray:
    """Mask of the keys (in line order) seen before: earlier in the list or earlier in this
    block. The new distinct keys are added to `seen`.

    One stable sort of the block: equal keys end up side by side in line order, so every one
    after the first of its run is a repeat; the runs' searches go in ascending order (cache
    friendly) and the new keys are added already sorted."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    again = np.zeros(len(ordered), dtype=bool)
    again[1:] = ordered[1:] == ordered[:-1]
    again |= seen.contains(ordered)
    seen.add(ordered[~again], ordered=True)  # first of their runs, not seen before: distinct
    mask = np.empty(len(keys), dtype=bool)
    mask[order] = again
    return mask


class Duplicates:
    """The state of one list: keys of the ID numbers and person numbers of the valid rows read
    so far (`columnar.split` computes the keys)."""

    def __init__(self):
        self.certnos = SeenKeys()
        self.psn_nos = SeenKeys()

    def mark(self, certnos: np.ndarray, psn_nos: np.ndarray, has_psn_no: np.ndarray) -> np.ndarray:
        """The duplicate kind of each of a block's valid rows, in line order: `certnos` their
        exact keys, `psn_nos` the hashes of their person numbers where `has_psn_no`."""
        kind = np.full(len(certnos), NONE, dtype=np.int8)
        again = _first_seen(certnos, self.certnos)
        kind[again] = CERTNO
        left = np.flatnonzero(~again & has_psn_no)
        if len(left):
            kind[left[_first_seen(psn_nos[left], self.psn_nos)]] = PSN_NO
        return kind
