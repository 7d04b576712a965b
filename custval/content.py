"""Content validity from an expert panel: I-CVI, modified kappa, Aiken's V, S-CVI and Lawshe's CVR.

Before any respondent answers, a panel of experts judges each item of the pool.  Two
designs are common and both are computed by :func:`content_validity` from an experts x
items frame (one row per expert, one column per item):

* ``kind="relevance"``: each expert rates each item's relevance on a 4-point scale
  (1 not relevant ... 4 highly relevant; Lynn, 1986).  Per item: the item-level content
  validity index I-CVI (the share of experts rating 3 or 4), the modified kappa k*
  that corrects it for chance agreement (Polit, Beck & Owen, 2007) and Aiken's (1985) V
  over the whole rating scale with its score confidence interval (Penfield & Giacobbi,
  2004).  Per scale: S-CVI/Ave (the mean I-CVI) and S-CVI/UA (the share of items every
  expert rated relevant; Polit & Beck, 2006).
* ``kind="essential"``: each expert rates each item 1 essential, 2 useful but not
  essential, 3 not necessary (Lawshe, 1975).  Per item: the content validity ratio CVR,
  the exact one-sided binomial test of "more experts than chance say essential" and the
  critical number of essential votes (Ayre & Scally, 2014); per scale: Lawshe's content
  validity index, the mean CVR of the retained items.

An expert who skipped an item (an empty cell) drops out of that item only; each item
reports its number of raters.  No psych, lavaan or semTools function computes these
indices; the docstrings give the base-R expression of each.

References
----------
Aiken, L. R. (1985). Three coefficients for analyzing the reliability and validity of
ratings. *Educational and Psychological Measurement, 45*, 131-142.

Ayre, C., & Scally, A. J. (2014). Critical values for Lawshe's content validity ratio:
Revisiting the original methods of calculation. *Measurement and Evaluation in Counseling
and Development, 47*(1), 79-86.

Lawshe, C. H. (1975). A quantitative approach to content validity. *Personnel Psychology,
28*, 563-575.

Lynn, M. R. (1986). Determination and quantification of content validity. *Nursing
Research, 35*, 382-385.

Penfield, R. D., & Giacobbi, P. R. (2004). Applying a score confidence interval to Aiken's
item content-relevance index. *Measurement in Physical Education and Exercise Science,
8*(4), 213-225.

Polit, D. F., & Beck, C. T. (2006). The content validity index: Are you sure you know
what's being reported? *Research in Nursing & Health, 29*, 489-497.

Polit, D. F., Beck, C. T., & Owen, S. V. (2007). Is the CVI an acceptable indicator of
content validity? Appraisal and recommendations. *Research in Nursing & Health, 30*,
459-467.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ._results import ResultMixin
from .exceptions import DataValidationError, InsufficientDataError, SpecificationError

__all__ = [
    "ContentValidityResult",
    "content_validity",
    "lawshe_critical",
    "modified_kappa",
]

#: Polit, Beck & Owen (2007), after Cicchetti & Sparrow (1981): k* above .74 excellent,
#: .60 to .74 good, .40 to .59 fair, below .40 poor.
KAPPA_BANDS = ((Fraction(74, 100), "excellent"), (Fraction(59, 100), "good"), (Fraction(39, 100), "fair"))
MIN_EXPERTS = 3
_SHOW = 8  # values named in an error message


# --------------------------------------------------------------------------- exact small formulas
def modified_kappa(n_relevant: int, n_raters: int) -> tuple[float, float]:
    """The modified kappa k* of an item and its chance agreement (Polit, Beck & Owen, 2007).

    ``p_c = C(N, A) 0.5^N`` is the probability that ``A`` of ``N`` experts rate the item
    relevant by chance; ``k* = (I-CVI - p_c) / (1 - p_c)`` with ``I-CVI = A / N``.  Both
    are computed in exact rational arithmetic and rounded once to float.

    Parameters
    ----------
    n_relevant : int
        ``A``, the number of experts rating the item relevant (3 or 4 on a 4-point scale).
    n_raters : int
        ``N``, the number of experts who rated the item (at least 1).

    Returns
    -------
    tuple of float
        ``(kappa, p_chance)``.

    See Also
    --------
    content_validity : Every index of a panel's ratings at once.

    Examples
    --------
    >>> from custval.content import modified_kappa
    >>> kappa, pc = modified_kappa(5, 6)   # Polit, Beck & Owen (2007), Table 4: .82, .094
    >>> round(kappa, 2), round(pc, 3)
    (0.82, 0.094)

    # In R: pc <- choose(6, 5) * 0.5^6; (5/6 - pc) / (1 - pc)
    """
    k = _kappa_exact(int(n_relevant), int(n_raters))
    return float(k[0]), float(k[1])


def _kappa_exact(a: int, n: int) -> tuple[Fraction, Fraction]:
    if n < 1 or not 0 <= a <= n:
        raise SpecificationError(f"modified kappa needs 0 <= n_relevant <= n_raters and n_raters >= 1; "
                                 f"got n_relevant={a}, n_raters={n}")
    pc = Fraction(math.comb(n, a), 2 ** n)
    return (Fraction(a, n) - pc) / (1 - pc), pc


def _alpha_fraction(alpha) -> Fraction:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, Fraction)) or not 0 < alpha < 1:
        raise SpecificationError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}")
    return Fraction(str(alpha)) if isinstance(alpha, float) else Fraction(alpha)


def _upper_tail(m: int, n: int) -> Fraction:
    """P(X >= m) for X ~ Binomial(n, 1/2), exactly."""
    return Fraction(sum(math.comb(n, j) for j in range(max(m, 0), n + 1)), 2 ** n)


def lawshe_critical(n_raters: int, *, alpha: float = 0.05) -> tuple[int | None, float | None]:
    """The critical number of "essential" votes and critical CVR for ``n_raters`` experts.

    The smallest ``n_crit`` with ``P(X >= n_crit) < alpha`` for ``X ~ Binomial(N, 1/2)``
    (one-sided exact binomial test; Ayre & Scally, 2014), computed exactly in integers;
    ``CVR_crit = (n_crit - N/2) / (N/2)``.  With too few raters even a unanimous panel is
    not significant and both are ``None`` (at ``alpha = .05``: fewer than 5 raters).

    Parameters
    ----------
    n_raters : int
        ``N``, the number of experts who rated the item.
    alpha : float, default 0.05
        One-sided significance level.

    Returns
    -------
    tuple
        ``(n_critical, cvr_critical)``; ``(None, None)`` when no number of votes is significant.

    See Also
    --------
    content_validity : Applies this critical value to each item (``kind="essential"``).

    Examples
    --------
    >>> from custval.content import lawshe_critical
    >>> lawshe_critical(10)          # Ayre & Scally (2014), Table 1: 9 votes, CVR .800
    (9, 0.8)

    # In R: N <- 10; ncrit <- min(which(pbinom(0:N - 1, N, 0.5, lower.tail = FALSE) < 0.05)) - 1
    """
    n = int(n_raters)
    a = _alpha_fraction(alpha)
    for m in range(n + 1):
        if _upper_tail(m, n) < a:
            return m, float(Fraction(2 * m - n, n))
    return None, None


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class ContentValidityResult(ResultMixin):
    """A panel's content-validity indices per item and per scale.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item (index ``item``).  Both kinds: ``construct``, ``n_raters`` (experts
        who rated the item), ``verdict`` (``"keep"`` / ``"drop"``).  ``kind="relevance"``:
        ``n_relevant``, ``i_cvi``, ``p_chance``, ``kappa`` (modified kappa k*),
        ``kappa_rating`` (excellent / good / fair / poor), ``aiken_v``, ``aiken_v_ci_low``,
        ``aiken_v_ci_high`` (score interval of V).  ``kind="essential"``: ``n_essential``, ``cvr``,
        ``p_value`` (exact one-sided binomial), ``n_critical``, ``cvr_critical``.
    scales : pandas.DataFrame
        One row per construct (``"all"`` without an instrument): ``n_items``, and
        ``s_cvi_ave`` and ``s_cvi_ua`` (relevance) or ``cvi`` (essential: the mean CVR of
        the kept items, NaN when none is kept) and ``n_kept``.
    kind : str
        ``"relevance"`` or ``"essential"``.
    scale : tuple of int
        The rating scale's lowest and highest code.
    relevant_from : int or None
        The lowest rating that counts as relevant (relevance); ``None`` for essential.
    experts : tuple of str
        The experts, in the order of the ratings.
    n_experts : int
        Number of experts on the panel.
    level : float
        Confidence level of Aiken's V interval.
    alpha : float
        One-sided significance level of Lawshe's test.
    convention : str
        The rules used, in words.
    r_call : str
        A base-R expression for the main index (no R package computes these).

    See Also
    --------
    content_validity : Computes this result.
    """

    items: pd.DataFrame
    scales: pd.DataFrame
    kind: str
    scale: tuple
    relevant_from: int | None
    experts: tuple
    n_experts: int
    level: float
    alpha: float
    convention: str
    r_call: str

    _title = "Content validity"

    def to_frame(self) -> pd.DataFrame:
        """The per-item table.

        Returns
        -------
        pandas.DataFrame
            :attr:`items`, a copy.

        See Also
        --------
        ContentValidityResult.to_codebook : The verdicts in the codebook's form.
        """
        return self.items.copy()

    def to_codebook(self) -> dict:
        """The panel's verdicts per item, as the codebook's optional ``content_validity:`` field.

        Returns
        -------
        dict
            ``{item: {"kind", "n_raters", "i_cvi" or "cvr", "verdict"}}``; paste each value
            under its item in the codebook (``content_validity: {...}``).

        See Also
        --------
        custval.codebook.load_instrument : Reads a codebook with these fields.
        """
        key = "i_cvi" if self.kind == "relevance" else "cvr"
        return {str(item): {"kind": self.kind, "n_raters": int(row["n_raters"]), key: float(row[key]),
                            "verdict": str(row["verdict"])}
                for item, row in self.items.iterrows()}

    def _display_frame(self) -> pd.DataFrame:
        return self.items

    def _notes(self) -> list[str]:
        notes = []
        for name, row in self.scales.iterrows():
            vals = ", ".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}"
                             for k, v in row.items())
            notes.append(f"Scale {name}: {vals}")
        return notes + super()._notes()


# --------------------------------------------------------------------------- input checks
def _as_frame(ratings, expert) -> pd.DataFrame:
    if isinstance(ratings, np.ndarray):
        if ratings.ndim != 2:
            raise SpecificationError(f"ratings must be a 2-D experts x items table; got {ratings.ndim} dimension(s)")
        ratings = pd.DataFrame(ratings, index=[f"E{i + 1}" for i in range(ratings.shape[0])],
                               columns=[f"item{j + 1}" for j in range(ratings.shape[1])])
    if not isinstance(ratings, pd.DataFrame):
        raise SpecificationError(f"ratings must be a pandas DataFrame (experts x items); got {type(ratings).__name__}")
    frame = ratings
    if expert is not None:
        if expert not in frame.columns:
            raise SpecificationError(f"expert column {expert!r} is not in the ratings; columns: {list(frame.columns)}")
        ids = frame[expert]
        blank = ids.isna() | ids.astype(str).str.strip().eq("")
        if blank.any():
            raise DataValidationError(
                f"expert column {expert!r}: {int(blank.sum())} row(s) have no expert id "
                f"(rows {[int(i) + 1 for i in np.flatnonzero(blank.to_numpy())][:_SHOW]}, counting data rows from 1)",
                [{"rule": "expert_id", "column": expert, "rows": list(np.flatnonzero(blank.to_numpy()) + 1),
                  "row_counting": "data rows from 1", "values": [], "n": int(blank.sum()),
                  "allowed": "a non-empty id per expert"}])
        frame = frame.drop(columns=[expert]).set_axis(ids.astype(str).str.strip().to_numpy(), axis=0)
    frame = frame.copy()
    frame.index = pd.Index([str(i) for i in frame.index], name="expert")
    dup = frame.index[frame.index.duplicated()].unique().tolist()
    if dup:
        raise DataValidationError(
            f"expert id(s) {dup[:_SHOW]} appear more than once in the ratings; each expert is one row",
            [{"rule": "duplicate_expert", "column": expert, "rows": [], "row_counting": "experts",
              "values": dup, "n": len(dup), "allowed": "one row per expert"}])
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _check_codes(frame: pd.DataFrame, codes: tuple[int, ...], what: str) -> np.ndarray:
    """The ratings as a float matrix (NaN = skipped), or a DataValidationError naming every bad cell."""
    problems = []
    values = np.full(frame.shape, np.nan)
    allowed = f"integers {codes[0]}..{codes[-1]} ({what}) or an empty cell (skipped)"
    for j, item in enumerate(frame.columns):
        bad: list[tuple[str, object]] = []
        for i, (who, v) in enumerate(frame[item].items()):
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                continue
            if isinstance(v, str):  # a number read as text (its column also holds a text) is that number
                try:
                    fv = float(v.strip())
                except ValueError:
                    bad.append((who, v))
                    continue
            elif isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
                bad.append((who, v))
                continue
            else:
                fv = float(v)
            if not math.isfinite(fv) or fv != round(fv) or int(fv) not in codes:
                bad.append((who, v))
                continue
            values[i, j] = fv
        if bad:
            shown = ", ".join(f"expert {w}: {v!r}" for w, v in bad[:_SHOW])
            more = f" and {len(bad) - _SHOW} more" if len(bad) > _SHOW else ""
            problems.append({"rule": "rating_code", "column": item, "rows": [w for w, _ in bad],
                             "row_counting": "expert ids", "values": [v for _, v in bad], "n": len(bad),
                             "allowed": allowed, "text": f"item {item!r}: {shown}{more}"})
    if problems:
        lines = "\n  ".join(p.pop("text") for p in problems)
        raise DataValidationError(
            f"ratings outside the scale or not integer codes in {len(problems)} item(s) "
            f"(allowed: {allowed}; read 'N/A'-like texts as missing, e.g. pandas.read_csv(na_values=[...])):"
            f"\n  {lines}", problems)
    return values


def _check_panel(values: np.ndarray, experts: list[str], items: list[str], min_raters: int, why: str) -> None:
    rated = ~np.isnan(values)
    nobody = [e for e, r in zip(experts, rated.any(axis=1)) if not r]
    if nobody:
        raise DataValidationError(
            f"expert(s) {nobody[:_SHOW]} rated no item; remove them from the panel (or add their ratings)",
            [{"rule": "empty_expert", "column": None, "rows": nobody, "row_counting": "expert ids", "values": [],
              "n": len(nobody), "allowed": "at least one rating per expert"}])
    if len(experts) < MIN_EXPERTS:
        raise InsufficientDataError(
            f"content validity needs at least {MIN_EXPERTS} experts; the panel has {len(experts)} ({experts})")
    n_items = rated.sum(axis=0)
    few = [(it, int(n)) for it, n in zip(items, n_items) if n < min_raters]
    if few:
        listed = ", ".join(f"{it} ({n})" for it, n in few[:_SHOW])
        raise InsufficientDataError(
            f"item(s) rated by fewer than {min_raters} experts ({why}): {listed}; "
            f"the experts who skipped them drop out of those items only")


def _blocks(instrument, items: list[str]) -> dict[str, list[str]]:
    if instrument is None:
        return {"all": list(items)}
    from ._sem.spec import measurement_blocks

    blocks = {c: [i for i in its] for c, its in measurement_blocks(instrument).items()}
    known = {i for its in blocks.values() for i in its}
    extra = [i for i in items if i not in known]
    if extra:
        raise SpecificationError(
            f"rating column(s) {extra[:_SHOW]} are not items of the instrument; pass items=[...] to choose the "
            f"item columns (other columns such as comments must be left out)")
    missing = [i for i in known if i not in items]
    if missing:
        raise SpecificationError(f"item(s) {missing[:_SHOW]} of the instrument have no column in the ratings")
    return blocks


# --------------------------------------------------------------------------- the function
def content_validity(
    ratings,
    *,
    instrument=None,
    kind: str = "relevance",
    scale: tuple = (1, 4),
    expert: str | None = None,
    items=None,
    relevant_from: int | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
) -> ContentValidityResult:
    """Content validity of an item pool from an expert panel's ratings (experts x items).

    ``kind="relevance"`` (ratings on ``scale``, e.g. 1..4), per item with ``N`` raters of
    whom ``A`` rate it relevant (``>= relevant_from``):

    * I-CVI ``= A / N`` (Lynn, 1986);
    * modified kappa ``k* = (I-CVI - p_c) / (1 - p_c)``, ``p_c = C(N, A) 0.5^N`` (Polit, Beck
      & Owen, 2007), rated excellent (> .74), good (.60-.74), fair (.40-.59) or poor;
      verdict ``"keep"`` when k* is excellent (the paper's recommendation, equivalent to an
      I-CVI of at least .78 with six or more experts), decided in exact rational arithmetic;
    * Aiken's V ``= sum(r - lo) / (N (hi - lo))`` over all ratings (Aiken, 1985) with the
      score interval of Penfield & Giacobbi (2004):
      ``(2NkV + z^2 -/+ z sqrt(4NkV(1 - V) + z^2)) / (2(Nk + z^2))``, ``k = hi - lo``;

    per scale: S-CVI/Ave (mean I-CVI) and S-CVI/UA (share of items with I-CVI = 1, every
    expert who rated the item rated it relevant; Polit & Beck, 2006).

    ``kind="essential"`` (codes 1 essential, 2 useful but not essential, 3 not necessary),
    per item with ``n_e`` "essential" votes: ``CVR = (n_e - N/2) / (N/2)`` (Lawshe, 1975),
    the exact one-sided binomial p-value ``P(X >= n_e)``, ``X ~ Binomial(N, 1/2)``, and the
    critical number of votes (Ayre & Scally, 2014; :func:`lawshe_critical`).  Verdict
    ``"keep"`` when ``n_e >= n_critical`` (an item exactly at the critical value is kept),
    decided on vote counts.  Per scale: Lawshe's CVI, the mean CVR of the kept items.

    An expert who skipped an item (empty cell, NaN) drops out of that item only.

    Parameters
    ----------
    ratings : pandas.DataFrame or numpy.ndarray
        One row per expert, one column per item.  Expert ids are the index, or the column
        named by ``expert``.  Cells are integer codes or empty (skipped); the text of a
        number (``"3"``) is that number; other texts such as ``'n.a.'`` are errors and must be
        read as missing (pandas does so for ``'N/A'`` and ``'NA'``; ``na_values=`` for others).
    instrument : Instrument, lavaan syntax or mapping, optional
        Groups the items into constructs for the per-scale indices; every rating column
        must be an item of it and every item rated.  Without it (default None) all
        columns form one scale named ``"all"``.
    kind : {"relevance", "essential"}, default "relevance"
        The rating design.
    scale : tuple of int, default (1, 4)
        Lowest and highest code of the relevance scale.  For ``kind="essential"`` the codes
        are always 1, 2, 3; ``scale`` must be left at its default or be ``(1, 3)``.
    expert : str, optional
        The column holding the experts' ids (it is not an item).  Default None: the index.
    items : list of str, optional
        The item columns (others, e.g. a comment column, are ignored).  Default None: every
        column except ``expert``.
    relevant_from : int, optional
        Lowest code counted as relevant.  Default None: the upper half of an even-point
        scale (3 and 4 on 1..4); an odd-point scale has a midpoint and needs it stated.
    level : float, default 0.95
        Confidence level of Aiken's V interval.
    alpha : float, default 0.05
        One-sided significance level of Lawshe's test (``kind="essential"``).

    Returns
    -------
    ContentValidityResult
        Per-item table (``items``), per-scale indices (``scales``) and the rules used.

    Raises
    ------
    custval.exceptions.DataValidationError
        A rating outside the scale or not an integer code (naming item, expert and value),
        an expert who rated nothing, an expert listed twice or without an id.
    custval.exceptions.InsufficientDataError
        Fewer than 3 experts, an item with fewer than 3 raters, or (``"essential"``) an item
        with too few raters for any significant vote (fewer than 5 at ``alpha=.05``).

    See Also
    --------
    lawshe_critical : The critical number of essential votes for N raters.
    modified_kappa : k* of one item.
    custval.codebook.load_instrument : A codebook item may carry the verdict (``content_validity:``).

    Examples
    --------
    >>> import pandas as pd
    >>> from custval.content import content_validity
    >>> panel = pd.DataFrame({"q1": [4, 4, 3, 4, 3, 4], "q2": [2, 3, 1, 4, 2, None]},
    ...                      index=["E1", "E2", "E3", "E4", "E5", "E6"])
    >>> res = content_validity(panel)
    >>> res.items[["n_raters", "i_cvi", "kappa", "verdict"]].round(3)
          n_raters  i_cvi  kappa verdict
    item
    q1           6    1.0  1.000    keep
    q2           5    0.4  0.127    drop

    # In R: colMeans(panel >= 3, na.rm = TRUE)   # I-CVI; no R package computes k* or Aiken's V
    """
    if kind not in ("relevance", "essential"):
        raise SpecificationError(f"kind must be 'relevance' or 'essential'; got {kind!r}")
    if not (0 < level < 1):
        raise SpecificationError(f"level must be strictly between 0 and 1; got {level!r}")
    _alpha_fraction(alpha)  # checked here, used exactly in lawshe_critical
    if (not isinstance(scale, (tuple, list)) or len(scale) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in scale)
            or scale[0] >= scale[1]):
        raise SpecificationError(f"scale must be (lowest, highest) integer codes with lowest < highest; got {scale!r}")
    lo, hi = int(scale[0]), int(scale[1])
    if kind == "essential":
        if (lo, hi) not in ((1, 4), (1, 3)):
            raise SpecificationError(
                f"kind='essential' uses the codes 1 essential, 2 useful, 3 not necessary; scale={scale!r} "
                f"does not fit (leave it at its default or pass (1, 3))")
        lo, hi = 1, 3
        relevant_from = None
    else:
        if relevant_from is None:
            if (hi - lo + 1) % 2:
                raise SpecificationError(
                    f"scale {lo}..{hi} has an odd number of points and a midpoint; state which code counts "
                    f"as relevant with relevant_from=")
            relevant_from = lo + (hi - lo + 1) // 2
        if isinstance(relevant_from, bool) or not isinstance(relevant_from, (int, np.integer)) \
                or not lo < relevant_from <= hi:
            raise SpecificationError(f"relevant_from must be an integer code in {lo + 1}..{hi}; got {relevant_from!r}")
        relevant_from = int(relevant_from)

    frame = _as_frame(ratings, expert)
    if items is not None:
        items = [str(i) for i in items]
        absent = [i for i in items if i not in frame.columns]
        if absent:
            raise SpecificationError(f"item column(s) {absent} are not in the ratings; columns: {list(frame.columns)}")
        frame = frame[items]
    if frame.shape[1] == 0:
        raise SpecificationError("the ratings have no item columns")
    item_names = list(frame.columns)
    experts = list(frame.index)
    codes = tuple(range(lo, hi + 1))
    what = "1 essential, 2 useful, 3 not necessary" if kind == "essential" else f"relevance scale {lo}..{hi}"
    values = _check_codes(frame, codes, what)
    blocks = _blocks(instrument, item_names)
    construct_of = {i: c for c, its in blocks.items() for i in its}

    if kind == "essential":
        n_min = next((n for n in range(1, 10_000) if lawshe_critical(n, alpha=alpha)[0] is not None), None)
        _check_panel(values, experts, item_names, max(MIN_EXPERTS, n_min),
                     f"Lawshe's test cannot reach one-sided alpha {alpha} with fewer than {n_min}")
    else:
        _check_panel(values, experts, item_names, MIN_EXPERTS, f"at least {MIN_EXPERTS} experts per item")

    rated = ~np.isnan(values)
    n = rated.sum(axis=0).astype(int)
    rows = []
    if kind == "relevance":
        z = float(ndtri(1 - (1 - level) / 2))
        k = hi - lo
        for j, item in enumerate(item_names):
            col = values[rated[:, j], j]
            a = int((col >= relevant_from).sum())
            kappa, pc = _kappa_exact(a, int(n[j]))
            rating = next((name for cut, name in KAPPA_BANDS if kappa > cut), "poor")
            s = float((col - lo).sum())
            nk = n[j] * k
            v = s / nk
            half = z * math.sqrt(4 * nk * v * (1 - v) + z * z)
            den = 2 * (nk + z * z)
            rows.append({"construct": construct_of[item], "n_raters": int(n[j]), "n_relevant": a,
                         "i_cvi": a / int(n[j]), "p_chance": float(pc), "kappa": float(kappa),
                         "kappa_rating": rating, "aiken_v": v,
                         "aiken_v_ci_low": (2 * nk * v + z * z - half) / den,
                         "aiken_v_ci_high": (2 * nk * v + z * z + half) / den,
                         "verdict": "keep" if rating == "excellent" else "drop"})
    else:
        for j, item in enumerate(item_names):
            col = values[rated[:, j], j]
            ne, nn = int((col == 1).sum()), int(n[j])
            ncrit, cvr_crit = lawshe_critical(nn, alpha=alpha)
            rows.append({"construct": construct_of[item], "n_raters": nn, "n_essential": ne,
                         "cvr": float(Fraction(2 * ne - nn, nn)), "p_value": float(_upper_tail(ne, nn)),
                         "n_critical": ncrit, "cvr_critical": cvr_crit,
                         "verdict": "keep" if ne >= ncrit else "drop"})
    table = pd.DataFrame(rows, index=pd.Index(item_names, name="item"))

    scale_rows = {}
    for c, its in blocks.items():
        sub = table.loc[its]
        if kind == "relevance":
            scale_rows[c] = {"n_items": len(its), "s_cvi_ave": float(sub["i_cvi"].mean()),
                             "s_cvi_ua": float((sub["n_relevant"] == sub["n_raters"]).mean())}
        else:
            kept = sub[sub["verdict"] == "keep"]
            scale_rows[c] = {"n_items": len(its), "n_kept": len(kept),
                             "cvi": float(kept["cvr"].mean()) if len(kept) else float("nan")}
    scales = pd.DataFrame.from_dict(scale_rows, orient="index")
    scales.index.name = "construct"

    if kind == "relevance":
        convention = (f"relevant = rating >= {relevant_from} on {lo}..{hi}; I-CVI and S-CVI (Polit & Beck 2006), "
                      f"modified kappa k* (Polit, Beck & Owen 2007; keep when k* > .74), Aiken's V with "
                      f"{level:.0%} score interval (Penfield & Giacobbi 2004); skipped ratings drop out per item")
        r_call = f"colMeans(ratings >= {relevant_from}, na.rm = TRUE)"
    else:
        convention = (f"CVR = (n_e - N/2)/(N/2) (Lawshe 1975); keep when n_e >= the exact binomial critical "
                      f"number at one-sided alpha {alpha} (Ayre & Scally 2014); CVI = mean CVR of kept items; "
                      f"skipped ratings drop out per item")
        r_call = "(colSums(ratings == 1, na.rm = TRUE) - N/2) / (N/2)"
    return ContentValidityResult(
        items=table, scales=scales, kind=kind, scale=(lo, hi), relevant_from=relevant_from,
        experts=tuple(experts), n_experts=len(experts), level=float(level), alpha=float(alpha),
        convention=convention, r_call=r_call)
