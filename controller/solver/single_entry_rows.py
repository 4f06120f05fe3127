"""Rows with a single entry, handed to HiGHS as column bounds.

cvxpy compiles every constraint to a row, so a simple limit such as ``pv <= available``
becomes a row of the LP: about a quarter of a dispatch LP's rows are such singletons. The
simplex without presolve (a hot re-solve) carries each of them as a row of the basis, where
a column bound costs it nothing (a bounded column flips between its bounds). Folding them
into the column bounds gives HiGHS the same LP with fewer rows: on a day of intraday steps
of the largest park, 30 % fewer simplex iterations and a fifth less solver time, with the
same optima.

The duals of the folded rows are recovered from the columns' reduced costs: where a folded
row gives a column the bound it sits at, the row carries that column's reduced cost
(``row dual = reduced cost / coefficient``), as it would have in the LP with the row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from controller.solver.lp_arrays import LpArrays


@dataclass(frozen=True)
class Folded:
    """One LP with its singleton rows folded, and what is needed to unfold its duals."""

    fold: SingletonFold
    lp: LpArrays
    """The LP without the singleton rows, their limits in the column bounds."""
    lower_from: np.ndarray
    """Per column: the singleton row (position in ``fold.rows``) that gave it
    its lower bound, -1 where the column's own bound holds."""
    upper_from: np.ndarray
    """Likewise for the upper bound."""
    coefficients: np.ndarray
    """The singleton rows' entries."""

    def row_duals(self, col_dual: np.ndarray, kept: np.ndarray) -> np.ndarray:
        """Every row's dual of the LP before folding: ``kept`` for the other rows, and for
        a singleton row the reduced cost of its column where it gave the bound the column
        sits at (negative reduced cost: at the upper bound; positive: at the lower)."""
        fold = self.fold
        duals = np.zeros(fold.n_rows)
        duals[fold.kept_rows] = kept
        singleton = np.zeros(len(fold.rows))
        for source, active in (
            (self.upper_from, col_dual < 0.0),
            (self.lower_from, col_dual > 0.0),
        ):
            columns = np.flatnonzero(active & (source >= 0))
            rows = source[columns]
            singleton[rows] = col_dual[columns] / self.coefficients[rows]
        duals[fold.rows] = singleton
        return duals


@dataclass(frozen=True)
class SingletonFold:
    """The singleton rows of one matrix structure (columns ``start``, rows ``index``)."""

    n_rows: int
    rows: np.ndarray
    """The singleton rows, ascending."""
    entries: np.ndarray
    """Position of each one's entry in the matrix values."""
    columns: np.ndarray
    """Each one's column."""
    kept_rows: np.ndarray
    kept_entries: np.ndarray
    """Positions of the other rows' entries, in the order of the folded matrix."""
    start: np.ndarray
    index: np.ndarray
    """The folded matrix's structure (column starts, renumbered rows)."""

    @classmethod
    def of(cls, lp: LpArrays) -> SingletonFold:
        n_rows, n_cols = lp.shape
        counts = np.bincount(lp.index, minlength=n_rows)
        singleton = counts == 1
        entry_rows = lp.index
        columns_of_entries = np.repeat(np.arange(n_cols), np.diff(lp.start))
        folded_entry = singleton[entry_rows]
        entries = np.flatnonzero(folded_entry)
        order = np.argsort(entry_rows[entries], kind="stable")
        entries = entries[order]
        kept_entries = np.flatnonzero(~folded_entry)  # column-wise order is kept
        renumber = np.cumsum(~singleton) - 1
        kept_columns = columns_of_entries[kept_entries]
        start = np.zeros(n_cols + 1, dtype=np.int32)
        np.cumsum(np.bincount(kept_columns, minlength=n_cols), out=start[1:])
        return cls(
            n_rows=n_rows,
            rows=entry_rows[entries].astype(np.int64),
            entries=entries,
            columns=columns_of_entries[entries],
            kept_rows=np.flatnonzero(~singleton),
            kept_entries=kept_entries,
            start=start,
            index=renumber[entry_rows[kept_entries]].astype(np.int32),
        )

    def fold(self, lp: LpArrays) -> Folded | None:
        """``lp`` (of this structure) with the singleton rows as column bounds; None where
        there is none, or an entry is zero (such a row is no bound)."""
        a = lp.value[self.entries]
        if not len(a) or not np.all(a != 0.0):
            return None
        low, high = lp.row_lower[self.rows], lp.row_upper[self.rows]
        positive = a > 0
        lower = np.where(positive, low, high) / a  # an infinite limit stays infinite
        upper = np.where(positive, high, low) / a
        col_lower, lower_from = _tightest(lp.col_lower, self.columns, lower, np.greater)
        col_upper, upper_from = _tightest(lp.col_upper, self.columns, upper, np.less)
        folded = dataclasses.replace(
            lp,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=lp.row_lower[self.kept_rows],
            row_upper=lp.row_upper[self.kept_rows],
            start=self.start,
            index=self.index,
            value=lp.value[self.kept_entries],
        )
        return Folded(self, folded, lower_from, upper_from, a)


def _tightest(
    own: np.ndarray, columns: np.ndarray, limits: np.ndarray, tighter: np.ufunc
) -> tuple[np.ndarray, np.ndarray]:
    """Each column's bound after its singleton rows' ``limits``, and which row gave it (the
    first of equal ones; -1 where no row is tighter than the column's own bound)."""
    bound = own.astype(float, copy=True)
    source = np.full(len(own), -1, dtype=np.int64)
    # the tightest limit of each column: by column, then tightest first, then by row
    key = -limits if tighter is np.greater else limits
    ranked = np.lexsort((np.arange(len(limits)), key, columns))
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = columns[ranked[1:]] != columns[ranked[:-1]]
    best = ranked[first]
    wins = tighter(limits[best], bound[columns[best]])
    best = best[wins]
    bound[columns[best]] = limits[best]
    source[columns[best]] = best
    return bound, source
