"""Simulated case studies for the Customer Wisdom Instrument (CWI): :func:`case_study`.

Everything produced here is **simulated** and labelled so: every frame carries
``df.attrs["custval"]["simulated"] = True`` with the seed and the design, and the
result's summary says so.

The population model
--------------------
A *design* (a dict, or a YAML file with the same keys; :data:`DEFAULT_DESIGN`
is a documented six-firm design) states the population truth.  For respondent
*i* of firm *f* on side/role *g* (provider manager, provider staff, customer)
the latent construct scores are

    eta_i = mu[f, g] + a_j + u_i,   u_i ~ N(0, person_sd² · R),  a_j ~ N(0, account_sd² · R)

where *R* is the construct correlation matrix (one common correlation) and
``a_j`` is a random effect shared by the customer respondents of account *j*
(the provider side has none).  ``mu`` for the provider staff is
``construct_means[c] + firm.offset``; managers add ``manager_shift``; the
customers' view of a paired construct is the staff view minus the firm's
``readiness_gap`` (the provider's self-view above the customers' view; it
differs by firm).  Item responses follow a common-factor model on a
continuous scale, ``y* = nu + lambda · eta + e`` with ``e ~ N(0, residual_sd²)``,
and are discretised to 1..7 with the thresholds ``tau`` (codes ``1 + #(y* > tau)``).
Reverse-keyed items are reported as ``8 - code``.  One customer item
(``non_invariant``; default ``CQUAL_C2``) has a different loading and intercept
from its provider twin: its meaning differs between the forms by design.

Missing data: each answer is blank with probability ``missing.mcar`` (MCAR) and
coded 8 ("don't know") with probability ``missing.dont_know[side]``; a few
careless responders per side answer every item with one randomly chosen code
(straight-liners).

The truth
---------
Because the observed scores are coarse, the truth is given on the scale the
estimators target: ``population`` holds, per firm, group and construct, the
expected *observed* construct mean score (mean of the keyed items, over the
population of respondents and accounts, careless responders excluded), computed
exactly from the normal model: ``E[code] = 1 + sum_k Phi((m - tau_k) / s)``.
``gaps`` (provider pooled over roles in the design's proportions minus
customers, paired items only) and ``readiness`` (per firm and role) follow from
it, as do the latent (``eta``) gaps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from ._results import ResultMixin
from .codebook import load_instrument
from .exceptions import SpecificationError
from .scoring import key_codes

__all__ = ["DEFAULT_DESIGN", "CaseStudy", "case_study"]

PAIRED = ("CPROC", "CQUAL", "MGMT", "OPER", "DIGI", "COCR")

#: The default six-firm design.  Firms differ in overall level (``offset``) and in
#: how far the provider's self-view exceeds the customers' view (``readiness_gap``).
DEFAULT_DESIGN: dict = {
    "firms": [
        {"name": "F1", "offset": 0.4, "readiness_gap": 0.0},
        {"name": "F2", "offset": 0.2, "readiness_gap": 0.2},
        {"name": "F3", "offset": 0.0, "readiness_gap": 0.4},
        {"name": "F4", "offset": 0.0, "readiness_gap": 0.6},
        {"name": "F5", "offset": -0.2, "readiness_gap": 0.8},
        {"name": "F6", "offset": -0.4, "readiness_gap": 1.0},
    ],
    # per firm unless a firm entry overrides them
    "n_managers": 6,
    "n_staff": 18,
    "n_accounts": 10,
    "customers_per_account": [2, 4],  # inclusive range, drawn per account
    # latent means of the provider's operational staff (0 = scale midpoint)
    "construct_means": {"CPROC": 0.3, "OPROC": 1.0, "CQUAL": 0.4, "OQUAL": 0.9,
                        "MGMT": 0.2, "OPER": 0.4, "DIGI": 0.0, "COCR": 0.3},
    "manager_shift": 0.4,  # managers see the firm more favourably than staff
    "person_sd": 0.8,
    "account_sd": 0.4,
    "construct_corr": 0.4,
    "loadings": {"provider": 1.0, "customer": 1.0},
    "residual_sd": 0.7,
    "thresholds": [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5],
    "non_invariant": {"item": "CQUAL_C2", "loading": 0.5, "intercept": -0.8},
    "missing": {"mcar": 0.03, "dont_know": {"provider": 0.005, "customer": 0.03}},
    "careless": {"provider": 2, "customer": 3},
}


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in out:
            raise SpecificationError(f"design: unknown key {k!r}; allowed: {', '.join(base)}")
        if isinstance(v, dict) and isinstance(out[k], dict) and k != "construct_means":
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _design(design) -> dict:
    if design is None:
        return copy.deepcopy(DEFAULT_DESIGN)
    if isinstance(design, (str, Path)):
        from ruamel.yaml import YAML

        design = YAML(typ="safe").load(Path(design).read_text(encoding="utf-8"))
    if not isinstance(design, dict):
        raise SpecificationError(f"design must be a dict or a YAML path, got {type(design).__name__}")
    d = _merge(DEFAULT_DESIGN, design)
    if not d["firms"]:
        raise SpecificationError("design: 'firms' is empty")
    return d


def _firm(d: dict, f: dict, key: str):
    return f.get(key, d[key])


@dataclass(frozen=True, eq=False)
class CaseStudy(ResultMixin):
    """A simulated CWI case study (provider and customer exports plus the truth).

    Attributes
    ----------
    provider, customer : DataFrame
        Exports of the two forms: ``respondent_id, firm, role, account`` and the
        item codes (1..7, 8 = don't know, NaN = blank).  Run them through
        :func:`custval.validate_frame` before analysis.
    population : DataFrame
        Expected observed construct scores: firm, group (manager/staff/customer), construct,
        estimate (observed scale), latent (latent mean).
    gaps : DataFrame
        firm, construct, provider, customer, gap (observed-score truth for
        :func:`custval.perception_gap`, paired items only), latent_gap.
    readiness : DataFrame
        firm, role, index, estimate (truth for :func:`custval.readiness`).
    non_invariant_item : str
        The item whose intercept differs between the forms in the population.
    careless_ids : tuple of str
        Respondents simulated as careless responders.
    design : dict
        The population design the data were drawn from.
    seed : int
        Seed of the random numbers.
    simulated : bool
        Always True: these are not real responses.
    method_note : str
        Says so in every display.

    See Also
    --------
    custval.simulate.case_study : The function that returns it.
    """

    provider: pd.DataFrame
    customer: pd.DataFrame
    population: pd.DataFrame
    gaps: pd.DataFrame
    readiness: pd.DataFrame
    non_invariant_item: str
    careless_ids: tuple
    design: dict
    seed: int
    simulated: bool = True
    method_note: str = field(default="SIMULATED data from custval.simulate.case_study; not real responses")

    _title = "Simulated CWI case study (simulated data)"

    def to_frame(self) -> pd.DataFrame:
        return self.gaps

    def _notes(self) -> list[str]:
        return [f"simulated: True (seed={self.seed}); provider n={len(self.provider)}, "
                f"customer n={len(self.customer)}; non-invariant item {self.non_invariant_item}; "
                f"{len(self.careless_ids)} careless responders", *super()._notes()]

    def validated(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Both exports through :func:`custval.validate_frame` (8 -> missing, counted).

        Returns
        -------
        provider, customer : DataFrame
            The validated provider and customer exports; the simulated labels are
            kept in ``attrs["custval"]``.

        See Also
        --------
        custval.ingest.validate_frame : The checks applied to each export.
        """
        from .ingest import validate_frame

        inst = load_instrument("cwi")
        out = []
        for side, df in (("provider", self.provider), ("customer", self.customer)):
            v = validate_frame(df, inst.form(side), id_column="respondent_id")
            v.attrs["custval"] = {**v.attrs["custval"], "simulated": True, "seed": self.seed,
                                  "design": self.design, "form": side}
            out.append(v)
        return out[0], out[1]


def _expected_code(m, s, tau, lo: float = 1.0):
    """E[lo + #(y* > tau)] for y* ~ N(m, s²) (``lo``: the lowest code of the scale)."""
    m = np.asarray(m, dtype=float)[..., None]
    return lo + special.ndtr((m - np.asarray(tau)) / s).sum(axis=-1)


def _item_bounds(inst, items, tau) -> tuple[np.ndarray, np.ndarray]:
    """Each item's own scale (min, max) as arrays; the thresholds must give its number of codes.

    Careless respondents pick one code for all items, so the items must share one scale.
    """
    sc = [inst.item_scale(it) for it in items]
    lo = np.array([s.min for s in sc], dtype=float)
    hi = np.array([s.max for s in sc], dtype=float)
    if len({(s.min, s.max) for s in sc}) > 1 or any(s.max - s.min != len(tau) for s in sc):
        raise SpecificationError(
            f"design: {len(tau)} thresholds make {len(tau) + 1} codes, but the items are answered on "
            f"{', '.join(sorted({str(s) for s in sc}))}; give thresholds for one common scale")
    return lo, hi


def case_study(design=None, *, seed: int = 0) -> CaseStudy:
    """Simulate a multi-firm CWI study with known population truth (labelled simulated).

    Parameters
    ----------
    design : dict, str or Path, optional
        Overrides of :data:`DEFAULT_DESIGN` (keys as there; a firm entry may
        override ``n_managers``, ``n_staff``, ``n_accounts``,
        ``customers_per_account``), or a YAML file with such keys.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    CaseStudy

    See Also
    --------
    custval.gaps.perception_gap : Perception gaps of the simulated firms.
    custval.gaps.readiness : Readiness indices of the simulated firms.

    Examples
    --------
    >>> from custval.simulate import case_study
    >>> cs = case_study(seed=1)
    >>> cs.provider.shape, cs.customer.attrs["custval"]["simulated"]
    ((144, 44), True)
    >>> cs.non_invariant_item
    'CQUAL_C2'
    >>> print(cs.gaps.query("construct == 'CPROC'")[["firm", "gap"]].round(3).to_string(index=False))
    firm   gap
      F1 0.101
      F2 0.298
      F3 0.497
      F4 0.696
      F5 0.892
      F6 1.081
    >>> # In R: no equivalent (simulation from a documented design)
    """
    d = _design(design)
    rng = np.random.default_rng(seed)
    inst = load_instrument("cwi")
    forms = {s: inst.form(s) for s in ("provider", "customer")}
    cons = list(inst.constructs)
    K = len(cons)
    cidx = {c: k for k, c in enumerate(cons)}
    R = np.full((K, K), float(d["construct_corr"]))
    np.fill_diagonal(R, 1.0)
    L = np.linalg.cholesky(R)
    tau = np.asarray(d["thresholds"], dtype=float)
    means = d["construct_means"]
    missing_c = [c for c in cons if c not in means]
    if missing_c:
        raise SpecificationError(f"design: construct_means lacks {missing_c}")
    ni = d["non_invariant"]
    if ni and ni["item"] not in forms["customer"].items:
        raise SpecificationError(f"design: non_invariant item {ni['item']!r} is not a customer-form item")

    def item_params(side, item):
        lam, nu = float(d["loadings"][side]), 0.0
        if ni and item == ni["item"]:
            lam, nu = float(ni["loading"]), float(ni["intercept"])
        return lam, nu

    def mu(f, group):
        base = np.array([means[c] + f["offset"] for c in cons], dtype=float)
        if group == "manager":
            return base + d["manager_shift"]
        if group == "customer":
            return base - np.array([f["readiness_gap"] if c in PAIRED else 0.0 for c in cons])
        return base

    rows = {"provider": [], "customer": []}
    pid = cid = 0
    for f in d["firms"]:
        name = str(f["name"])
        n_acc = int(_firm(d, f, "n_accounts"))
        accounts = [f"{name}-A{j + 1:02d}" for j in range(n_acc)]
        a_eff = float(d["account_sd"]) * rng.standard_normal((n_acc, K)) @ L.T
        # provider respondents: every respondent is assigned to an account they serve
        n_m, n_s = int(_firm(d, f, "n_managers")), int(_firm(d, f, "n_staff"))
        # every account is served by at least one provider respondent when there are enough of them
        n_tot = n_m + n_s
        first = rng.permutation(n_acc)[: min(n_acc, n_tot)]
        acc_all = rng.permutation(np.r_[first, rng.integers(0, n_acc, size=n_tot - len(first))])
        for role, n, acc in (("manager", n_m, acc_all[:n_m]), ("staff", n_s, acc_all[n_m:])):
            eta = mu(f, role) + float(d["person_sd"]) * rng.standard_normal((n, K)) @ L.T
            for i in range(n):
                pid += 1
                rows["provider"].append((f"P{pid:04d}", name, role, accounts[acc[i]], eta[i]))
        cpa = _firm(d, f, "customers_per_account")
        lo, hi = (cpa, cpa) if np.isscalar(cpa) else (int(cpa[0]), int(cpa[1]))
        sizes = rng.integers(lo, hi + 1, size=n_acc)
        for j, m in enumerate(sizes):
            eta = mu(f, "customer") + a_eff[j] + float(d["person_sd"]) * rng.standard_normal((m, K)) @ L.T
            for i in range(m):
                cid += 1
                rows["customer"].append((f"C{cid:04d}", name, "customer", accounts[j], eta[i]))

    frames = {}
    careless_ids: list[str] = []
    for side in ("provider", "customer"):
        items = list(forms[side].items)
        meta = pd.DataFrame([r[:4] for r in rows[side]], columns=["respondent_id", "firm", "role", "account"])
        eta = np.vstack([r[4] for r in rows[side]])
        n = len(meta)
        lam = np.array([item_params(side, it)[0] for it in items])
        nu = np.array([item_params(side, it)[1] for it in items])
        col = np.array([cidx[inst.item(it).construct] for it in items])
        ystar = nu + lam * eta[:, col] + float(d["residual_sd"]) * rng.standard_normal((n, len(items)))
        lo, hi = _item_bounds(inst, items, tau)
        codes = lo + (ystar[:, :, None] > tau).sum(axis=2)
        codes = key_codes(codes, inst, items=items)  # reverse items: min + max - x of the item's scale
        n_care = min(int(d["careless"][side]), n)
        care = rng.choice(n, size=n_care, replace=False) if n_care else np.array([], dtype=int)
        codes[care, :] = rng.integers(int(lo.min()), int(hi.max()) + 1, size=n_care)[:, None]
        dk = rng.random(codes.shape) < float(d["missing"]["dont_know"][side])
        codes[dk] = 8.0
        blank = rng.random(codes.shape) < float(d["missing"]["mcar"])
        codes[blank] = np.nan
        df = pd.concat([meta, pd.DataFrame(codes, columns=items)], axis=1)
        df.attrs["custval"] = {"simulated": True, "seed": seed, "design": copy.deepcopy(d), "form": side,
                               "instrument": {"name": inst.name, "version": inst.version}}
        frames[side] = df
        careless_ids += meta["respondent_id"].iloc[np.sort(care)].tolist()

    # ---------------------------------------------------------------- truth
    s_eta2 = float(d["person_sd"]) ** 2
    pop = []
    for f in d["firms"]:
        for group in ("manager", "staff", "customer"):
            side = "customer" if group == "customer" else "provider"
            var = s_eta2 + (float(d["account_sd"]) ** 2 if side == "customer" else 0.0)
            m_eta = mu(f, group)
            for c, its in forms[side].constructs.items():
                vals, vals_p = [], []
                for it in its:
                    lam, nu = item_params(side, it)
                    s = np.sqrt(lam**2 * var + float(d["residual_sd"]) ** 2)
                    e = float(_expected_code(nu + lam * m_eta[cidx[c]], s, tau, inst.item_scale(it).min))
                    vals.append(e)
                    if inst.item(it).pair is not None and (side == "customer"
                                                          or inst.item(it).pair in forms["customer"].items):
                        vals_p.append(e)
                pop.append({"firm": str(f["name"]), "group": group, "construct": c,
                            "estimate": float(np.mean(vals)),
                            "estimate_paired": float(np.mean(vals_p)) if vals_p else np.nan,
                            "latent": float(m_eta[cidx[c]])})
    population = pd.DataFrame(pop)
    gaps, ready = [], []
    for f in d["firms"]:
        name = str(f["name"])
        n_m, n_s = int(_firm(d, f, "n_managers")), int(_firm(d, f, "n_staff"))
        w_m = n_m / (n_m + n_s)
        p = {(r["group"], r["construct"]): r for r in pop if r["firm"] == name}
        for c in PAIRED:
            prov = w_m * p[("manager", c)]["estimate_paired"] + (1 - w_m) * p[("staff", c)]["estimate_paired"]
            lat_p = w_m * p[("manager", c)]["latent"] + (1 - w_m) * p[("staff", c)]["latent"]
            cust = p[("customer", c)]["estimate_paired"]
            gaps.append({"firm": name, "construct": c, "provider": prov, "customer": cust,
                         "gap": prov - cust, "latent_gap": lat_p - p[("customer", c)]["latent"]})
        for role in ("manager", "staff"):
            e = {c: p[(role, c)]["estimate"] for c in ("CPROC", "OPROC", "CQUAL", "OQUAL", "MGMT", "OPER")}
            for index, v in (("process_understanding", e["CPROC"] - e["OPROC"]),
                             ("quality_understanding", e["CQUAL"] - e["OQUAL"]),
                             ("management", e["MGMT"]), ("operations", e["OPER"])):
                ready.append({"firm": name, "role": role, "index": index, "estimate": float(v)})
    population = population.drop(columns="estimate_paired")
    return CaseStudy(provider=frames["provider"], customer=frames["customer"], population=population,
                     gaps=pd.DataFrame(gaps), readiness=pd.DataFrame(ready),
                     non_invariant_item=ni["item"] if ni else "", careless_ids=tuple(careless_ids),
                     design=d, seed=seed)
