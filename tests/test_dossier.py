"""The validation dossier (``custval report``, :func:`custval.report.dossier`) on a survey the
project does not ship: a simulated three-construct customer survey written as a messy
spreadsheet export (BOM, semicolons, CRLF, a title line, a totals row, blank answers) with a
codebook and a measurement plan written for it here."""

from __future__ import annotations

import html
import html.parser
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval.exceptions import SpecificationError
from custval.report import dossier

ROOT = Path(__file__).resolve().parent.parent
N = 360
CONSTRUCTS = {"TRUST": 4, "VALUE": 4, "LOYAL": 4}
ITEMS = [f"{c}{i}" for c, k in CONSTRUCTS.items() for i in range(1, k + 1)]

CODEBOOK = """\
format: custval-codebook/1
name: shop_survey
version: "0.3"
title: {en: "Customer survey of a hardware chain"}
citation: "Items written for this test; not a published instrument."
languages: [en]
scale:
  min: 1
  max: 5
  labels: {en: {1: "Strongly disagree", 5: "Strongly agree"}}
constructs:
  - id: TRUST
    label: {en: "Trust in the shop"}
    items:
      - {id: TRUST1, text: {en: "The staff keep their promises."}}
      - {id: TRUST2, text: {en: "I can rely on their advice."}}
      - {id: TRUST3, text: {en: "They are honest about prices."}}
      - {id: TRUST4, reverse: true, text: {en: "I double-check what they tell me."}}
  - id: VALUE
    label: {en: "Perceived value"}
    items:
      - {id: VALUE1, text: {en: "The products are worth their price."}}
      - {id: VALUE2, text: {en: "I get good value for money."}}
      - {id: VALUE3, text: {en: "The quality matches the price."}}
      - {id: VALUE4, text: {en: "Compared with other shops, prices are fair."}}
  - id: LOYAL
    label: {en: "Loyalty"}
    scale: {min: 1, max: 3}
    items:
      - {id: LOYAL1, text: {en: "I will shop here again."}}
      - {id: LOYAL2, text: {en: "I recommend the shop to friends."}}
      - {id: LOYAL3, text: {en: "This is my first choice."}}
      - {id: LOYAL4, text: {en: "I would not switch for a small discount."}}
"""


def _simulate(seed: int = 20261207) -> pd.DataFrame:
    """Three correlated factors, four items each; TRUST4 reverse-worded, LOYAL on 3 points."""
    rng = np.random.default_rng(seed)
    phi = np.array([[1.0, 0.45, 0.35], [0.45, 1.0, 0.4], [0.35, 0.4, 1.0]])
    eta = rng.multivariate_normal(np.zeros(3), phi, size=N)
    loads = [0.8, 0.75, 0.7, 0.65]
    cols = {}
    for f, (c, k) in enumerate(CONSTRUCTS.items()):
        for i in range(k):
            y = loads[i] * eta[:, f] + np.sqrt(1 - loads[i] ** 2) * rng.standard_normal(N)
            if c == "TRUST" and i == 3:
                y = -y
            cuts = [-0.6, 0.6] if c == "LOYAL" else [-1.3, -0.4, 0.4, 1.3]
            cols[f"{c}{i + 1}"] = np.digitize(y, cuts) + 1.0
    df = pd.DataFrame(cols)
    df.insert(0, "resp", [f"R{j:04d}" for j in range(1, N + 1)])
    df["region"] = np.where(rng.random(N) < 0.5, "north", "south")
    miss = rng.random(df[ITEMS].shape) < 0.01
    df[ITEMS] = df[ITEMS].mask(miss)
    df.loc[df.index[:3], ITEMS] = np.nan  # three respondents who answered nothing
    df.loc[df.index[:3], "TRUST1"] = 3.0
    return df


def _write_export(path: Path, df: pd.DataFrame) -> None:
    """A spreadsheet export: BOM, title line, quoted header, semicolons, CRLF, totals row."""
    lines = ["Asiakaskysely kevät 2026;;", ";".join(f'"{c}"' for c in df.columns)]
    for row in df.itertuples(index=False):
        lines.append(";".join("" if (isinstance(v, float) and np.isnan(v)) else
                              (str(int(v)) if isinstance(v, float) else str(v)) for v in row))
    means = df[ITEMS].mean().round(2)
    lines.append(";".join(["Keskiarvo", *[f"{m}".replace(".", ",") for m in means], ""]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shop")
    data = folder / "shop_export.csv"
    _write_export(data, _simulate())
    codebook = folder / "shop_survey.yaml"
    codebook.write_text(CODEBOOK, encoding="utf-8")
    return folder, data, codebook


class _Numbers(html.parser.HTMLParser):
    """Every ``<td data-key=... data-value=...>`` of a page, and the page's external references."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, float] = {}
        self.shown: dict[str, str] = {}
        self.external: list[str] = []
        self.tags: set[str] = set()
        self._key = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        for name in ("src", "href"):
            ref = a.get(name)
            if ref and not ref.startswith(("data:", "#")):
                self.external.append(ref)
        if tag == "td" and "data-key" in a:
            assert a["data-key"] not in self.values, a["data-key"]
            self.values[a["data-key"]] = float(a["data-value"])
            self._key = a["data-key"]

    def handle_data(self, data):
        if self._key is not None:
            self.shown[self._key] = data.strip()
            self._key = None


def _parse(page: str) -> _Numbers:
    p = _Numbers()
    p.feed(page)
    return p


def _run_cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "custval", "report", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def cli_page(survey):
    folder, data, codebook = survey
    out = folder / "dossier.html"
    proc = _run_cli(data, "--instrument", codebook, "--out", out, "--group", "region",
                    "--id-column", "resp", "--seed", "7", "--n-boot", "200", cwd=folder)
    return proc, out


def test_the_command_writes_one_self_contained_page_for_a_survey_the_project_does_not_ship(cli_page, survey):
    proc, out = cli_page
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and out.is_file()
    page = out.read_text(encoding="utf-8")
    parsed = _parse(page)
    assert parsed.external == []                      # no external resource
    assert not parsed.tags & {"script", "link", "iframe", "object"}
    assert page.count('src="data:image/svg+xml;base64,') == 2   # scree plot and loadings
    for section in ("Measurement plan and deviations", "Data, screening and exclusions",
                    "Item analysis", "Reliability", "Dimensionality",
                    "Confirmatory factor analysis", "Convergent and discriminant validity",
                    "Measurement invariance across &#x27;region&#x27;", "APA JARS-Quant",
                    "Reproducibility"):
        assert section in page, section
    # the title line and the totals row are listed with their reason, and the rows add up
    assert "totals row" in page and "Keskiarvo" in page
    assert parsed.values["data|rows returned|value"] == N
    assert parsed.values["data|respondents analysed|value"] == N
    assert parsed.values["data|rows read below the column names|value"] == N + 1   # + totals row
    assert parsed.values["data|rows left out while reading (below the column names)|value"] == 1
    assert parsed.values["data|lines above the column names (titles, notes)|value"] == 1
    # reproducibility: the data file's and the codebook's SHA-256, the seed, versions
    import hashlib

    _, data, codebook = survey
    assert hashlib.sha256(data.read_bytes()).hexdigest() in page
    assert hashlib.sha256(codebook.read_bytes()).hexdigest() in page
    assert "<th>seed</th><td><code>7</code>" in page
    for lib in ("custval", "numpy", "scipy", "pandas"):
        assert f"version of {lib}" in page
    # run in a folder without requirements.lock (nor above it): the page says so
    assert "<th>lock file</th><td><code>not available</code>" in page
    # without a plan, the page says the rules were not fixed before the data
    assert "none given" in page and "not fixed before the data" in page


def test_the_numbers_in_the_page_equal_the_api(cli_page, survey):
    _, out = cli_page
    _, data, codebook = survey
    page = _parse(out.read_text(encoding="utf-8"))
    inst = custval.load_instrument(codebook)
    d = dossier(data, codebook, group="region", id_column="resp", seed=7, n_boot=200)
    # the command and the API write the same numbers, each with its key
    assert page.values.keys() == set(d.numbers.index)
    assert all(page.values[k] == d.numbers.loc[k, "value"] for k in page.values)
    # and they are the numbers of the public functions called directly
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", custval.exceptions.CustvalWarning)
        df = custval.read_survey(data, inst, id_column="resp")
        rel = custval.reliability.scale_reliability(df, inst, n_boot=200, seed=7, progress=False)
        ia = custval.items.item_analysis(df, inst)
        cfa = custval.CFA(inst).fit(df)
        ht = custval.validity.htmt(df, inst, n_boot=200, seed=7)
    for c in inst.constructs:
        for col in ("alpha", "alpha_ci_low", "alpha_ci_high", "omega_total", "n"):
            assert page.values[f"reliability|{c}|{col}"] == rel.loc[c, col]
    for item in ("TRUST4", "LOYAL2"):
        for col in ("mean", "sd", "r_drop", "n"):
            assert page.values[f"items|{item}|{col}"] == ia.loc[item, col]
    for fm in ("chisq", "cfi", "rmsea", "srmr"):
        assert page.values[f"cfa_fit|{fm}|value"] == cfa.fit_measures_[fm]
    row = ht.table.iloc[0]
    key = f"htmt|{row['construct_a']} - {row['construct_b']}"
    assert page.values[f"{key}|estimate"] == row["estimate"]
    assert page.values[f"{key}|upper_bound"] == row["upper_bound"]
    # shown rounded, carrying the exact value; each number has its n
    assert page.shown["reliability|TRUST|alpha"] == f"{rel.loc['TRUST', 'alpha']:.3f}"
    assert d.numbers.loc["reliability|TRUST|alpha", "n"] == rel.loc["TRUST", "n"]
    assert "psych::alpha" in d.numbers.loc["reliability|TRUST|alpha", "r_call"]
    assert "lavaan::cfa" in d.numbers.loc["cfa_fit|cfi|value", "r_call"]


PLAN = """\
format: custval-plan/1
title: Shop survey, decisions of 2026-02-01
estimator: ML
missing: listwise
exclusions:
  rules: [missing, mahalanobis]
  max_missing: 0.5
retention:
  rule: fixed
  k: 2
invariance:
  required: true
htmt:
  bound: 0.85
item_drop:
  policy: keep
  min_loading: 0.4
"""


def test_the_run_follows_the_plan_and_lists_every_deviation_with_its_reason(survey, tmp_path):
    _, data, codebook = survey
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    d = dossier(data, codebook, plan=plan, id_column="resp", seed=1, n_boot=100)
    dev = d.deviations.set_index("rule")
    # plan says ML, but LOYAL has 3 categories
    assert "fewer than 5 scale points" in dev.loc["estimator", "reason"]
    assert "LOYAL1" in dev.loc["estimator", "reason"]
    # plan's fixed k = 2 against the codebook's 3 constructs
    assert "gives 2 factor(s) but the codebook has 3 constructs" in dev.loc["retention", "reason"]
    assert d.results["efa"].loadings_.shape[1] == 2
    # invariance required but no group
    assert "no grouping column" in dev.loc["invariance", "reason"]
    # the exclusions are applied: rows read = analysed + excluded, each with its reason
    scr = d.results["screen"].flags
    flagged = scr["flag_missing"].astype(bool) | scr["flag_mahalanobis"].astype(bool)
    assert flagged.sum() >= 3
    assert len(d.results["used"]) + len(d.results["excluded"]) == N
    assert set(d.results["excluded"].index) == set(scr.index[flagged])
    assert set(d.results["excluded"]["reason"].str.split("; ").explode()) <= {"missing", "mahalanobis"}
    # the page lists them and names the plan by its SHA-256
    import hashlib

    assert hashlib.sha256(plan.read_bytes()).hexdigest() in d.html
    for reason in dev["reason"]:
        assert reason.replace("'", "&#x27;") in d.html
    jars = d.jars.set_index("item")
    assert jars.loc["Decision rules fixed in advance (preregistration)", "status"] == "filled"
    assert (d.jars["status"] == "missing").any()        # what the data cannot tell is marked


def test_a_planned_wlsmv_runs_as_mlr_and_item_drop_refits_without_the_weak_item(survey, tmp_path):
    _, data, codebook = survey
    plan = tmp_path / "plan.yaml"
    plan.write_text("format: custval-plan/1\nestimator: {min_categories: 4, continuous: ML, ordinal: WLSMV}\n"
                    "item_drop: {policy: drop, min_loading: 0.7, min_items: 3}\n", encoding="utf-8")
    d = dossier(data, codebook, plan=plan, id_column="resp", n_boot=50)
    dev = d.deviations.set_index("rule")
    assert dev.loc["estimator", "done"] == "MLR"
    assert d.results["cfa"]._estimator == "MLR"
    weak = d.results["weak_items"]
    assert weak and set(d.results["dropped_items"]) <= set(weak)
    kept = set(d.results["cfa"].observed_)
    assert not kept & set(d.results["dropped_items"])
    assert all(sum(i.startswith(c) for i in kept) >= 3 for c in CONSTRUCTS)


def test_a_faulty_plan_names_each_key_and_line_and_the_command_exits_2(survey, tmp_path):
    _, data, codebook = survey
    plan = tmp_path / "plan.yaml"
    plan.write_text("format: custval-plan/1\nretention:\n  rul: map\nhtmt: {bound: \"0.9\"}\n",
                    encoding="utf-8")
    with pytest.raises(SpecificationError, match=r"retention.rul \(line 3\): unknown key") as err:
        dossier(data, codebook, plan=plan)
    assert "htmt.bound (line 4)" in str(err.value) and "'0.9'" in str(err.value)
    proc = _run_cli(data, "--instrument", codebook, "--out", tmp_path / "d.html", "--plan", plan,
                    cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("custval: error:") and "Traceback" not in proc.stderr
    assert not (tmp_path / "d.html").exists()


def test_an_existing_out_is_never_written_over_without_overwrite(survey, tmp_path):
    _, data, codebook = survey
    out = tmp_path / "d.html"
    out.write_text("keep me", encoding="utf-8")
    proc = _run_cli(data, "--instrument", codebook, "--out", out, cwd=tmp_path)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    with pytest.raises(SpecificationError, match="exists"):
        dossier(data, codebook, out=out)
    d = dossier(data, codebook, out=out, overwrite=True, id_column="resp", n_boot=50)
    assert out.read_text(encoding="utf-8") == d.html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (absent on CI)")
@pytest.mark.parametrize("size", ["1280,800", "390,844"])
def test_the_page_renders_in_headless_chromium_without_console_errors(cli_page, tmp_path, size):
    _, out = cli_page
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         f"--screenshot={shot}", f"--window-size={size}", out.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line]
    assert console == []
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile2'}", f"--window-size={size}", "--dump-dom",
         out.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "Validation dossier" in dom and "Reproducibility" in dom


def test_the_dossier_of_a_frame_has_no_file_hash_and_says_so():
    ds = custval.load_dataset("bfi")
    d = dossier(ds.data.iloc[:300], ds.instrument, n_boot=30)
    assert "not available (data given as a frame)" in d.html
    lock = custval.report.Path.cwd() / "requirements.lock"
    if lock.is_file():  # a checkout: the lock's SHA-256 is recorded
        import hashlib

        assert hashlib.sha256(lock.read_bytes()).hexdigest() in d.html
    assert d == d and d.path is None
    assert textwrap.dedent(d.html).startswith("<!DOCTYPE html>")


def test_provider_and_customer_forms_add_the_perception_gaps_and_a_failed_cfa_is_shown_not_fatal(tmp_path):
    """The simulated case study: provider answers as data, customer answers as the second form;
    with don't-know answers, listwise deletion leaves too few rows for the 8-construct CFA, which
    the page says instead of stopping."""
    import warnings

    from custval.simulate import case_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", custval.exceptions.CustvalWarning)
        prov, cust = case_study(seed=0).validated()
    (tmp_path / "provider.csv").write_bytes(prov.to_csv(index=False, sep=";").encode("utf-8-sig"))
    (tmp_path / "customer.csv").write_bytes(cust.to_csv(index=False, sep=";").encode("utf-8-sig"))
    d = dossier(tmp_path / "provider.csv", "cwi", customer_data=tmp_path / "customer.csv",
                id_column="respondent_id", n_boot=100, seed=3)
    gaps = d.results["gaps"].to_frame()
    assert {"firm", "construct", "estimate", "ci_low", "ci_high"} <= set(gaps.columns)
    assert "Perception gaps between the provider and customer forms" in d.html
    keys = [k for k in d.numbers.index if k.startswith("gaps|") and k.endswith("|estimate")]
    assert sorted(d.numbers.loc[keys, "value"]) == sorted(gaps["estimate"])
    assert "InsufficientDataError" not in d.html and "cfa_error" in d.results
    assert html.escape("Not computed: " + d.results["cfa_error"].splitlines()[0][:40]) in d.html
    assert set(d.results["items"].index) == set(custval.load_instrument("cwi").form("provider").items)
    with pytest.raises(SpecificationError, match="no provider/customer forms"):
        dossier(tmp_path / "provider.csv", "bfi", form="provider")


def test_the_console_script_is_declared_and_an_unknown_group_column_is_one_message(survey, tmp_path):
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["custval"] == "custval.__main__:main"
    from custval.__main__ import main

    _, data, codebook = survey
    proc = _run_cli(data, "--instrument", codebook, "--out", tmp_path / "d.html", "--group", "regoin",
                    "--id-column", "resp", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "group='regoin' is not a column" in proc.stderr and "region" in proc.stderr
    assert main(["report", str(data), "--instrument", str(codebook), "--out",
                 str(tmp_path / "d.html"), "--plan", str(tmp_path / "absent.yaml")]) == 2


def test_an_exclusion_rule_that_cannot_be_computed_is_a_deviation(survey, tmp_path):
    _, data, codebook = survey
    plan = tmp_path / "plan.yaml"
    plan.write_text("format: custval-plan/1\nexclusions:\n  rules: [speed]\n", encoding="utf-8")
    d = dossier(data, codebook, plan=plan, id_column="resp", n_boot=30)
    dev = d.deviations.set_index("rule")
    assert dev.loc["exclusions.rules", "done"] == "not applied"
    assert "exclusions.duration" in dev.loc["exclusions.rules", "reason"]
    assert len(d.results["excluded"]) == 0 and len(d.results["used"]) == N
