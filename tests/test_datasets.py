"""Shipped datasets: integrity against the README SHA-256, documented shapes, reading rules,
errors, and agreement between each dataset and its instrument."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import custval
import custval.datasets as dsmod
from custval._io.paths import DATASETS_DIR, INSTRUMENTS_DIR
from custval.datasets import expected_sha256, list_datasets, load_dataset
from custval.exceptions import CustvalError, DatasetIntegrityError, DatasetNotFoundError

NAMES = [
    "bank_satisfaction", "bfi", "corp_rep", "holzinger_swineford1939", "mobi",
    "service_quality_sq",
]
# Documented in each README ("Shape: R rows × C columns") and in PROVENANCE.md.
SHAPES = {
    "bank_satisfaction": (250, 28),
    "bfi": (2800, 29),
    "corp_rep": (344, 50),
    "holzinger_swineford1939": (301, 15),
    "mobi": (250, 24),
    "service_quality_sq": (411, 23),
}
WITH_INSTRUMENT = [n for n in NAMES if n != "holzinger_swineford1939"]


def _readme(name: str) -> str:
    return (DATASETS_DIR / name / "README.md").read_text(encoding="utf-8")


def _codebook_available(instrument: str) -> bool:
    return (
        importlib.util.find_spec("custval.codebook") is not None
        and (INSTRUMENTS_DIR / f"{instrument}.yaml").exists()
    )


# --------------------------------------------------------------------------- integrity
def test_registry_lists_every_raw_folder():
    folders = sorted(p.name for p in DATASETS_DIR.iterdir() if p.is_dir())
    assert folders == NAMES
    assert list(list_datasets().index) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_raw_file_matches_readme_sha256(name):
    """Issue acceptance: the bytes on disk are the bytes the README documents."""
    text = _readme(name)
    lines = re.findall(r"^SHA-256: `([0-9a-f]{64})`$", text, flags=re.MULTILINE)
    assert len(lines) == 1, f"{name}/README.md must have exactly one SHA-256 line"
    actual = hashlib.sha256((DATASETS_DIR / name / f"{name}.csv").read_bytes()).hexdigest()
    assert actual == lines[0] == expected_sha256(name)
    # PROVENANCE.md (kept next to the README) records the same hash.
    assert lines[0] in (DATASETS_DIR / name / "PROVENANCE.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_readme_documents_licence_shape_and_instrument(name):
    text = _readme(name)
    info = list_datasets().loc[name]
    licence = re.findall(r"^Licence: `([^`]+)`$", text, flags=re.MULTILINE)
    assert licence == [info["licence"]]
    rows, cols = SHAPES[name]
    assert f"Shape: {rows} rows × {cols} columns" in text
    assert (info["n_rows"], info["n_columns"]) == (rows, cols)
    inst = info["instrument"]
    assert re.search(rf"^Instrument: {'none' if inst is None else f'`{inst}`'}$", text, re.M)
    for section in ("## Origin", "## Licence", "## Citation (APA)", "## Coding"):
        assert section in text


# --------------------------------------------------------------------------- loading
@pytest.mark.parametrize("name", NAMES)
def test_loads_with_documented_shape(name):
    ds = load_dataset(name, with_instrument=False)
    assert ds.data.shape == SHAPES[name]
    assert ds.n == SHAPES[name][0]
    assert ds.name == name
    assert ds.instrument is None
    assert ds.path == DATASETS_DIR / name / f"{name}.csv"
    assert ds.sha256 == expected_sha256(name)
    assert ds.licence.startswith("GPL")
    assert re.search(r"\(\d{4}\)", ds.citation)
    assert ds.to_frame().loc[name, "n"] == SHAPES[name][0]
    assert name in repr(ds)


def test_dataset_is_frozen_and_each_load_is_a_fresh_frame():
    a = load_dataset("mobi", with_instrument=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.n = 1  # type: ignore[misc]
    a.data.loc[0, "IMAG1"] = -1
    assert load_dataset("mobi", with_instrument=False).data.loc[0, "IMAG1"] != -1


def test_values_are_not_coerced():
    # corp_rep: the -99 missing codes stay in the data (70 cells, PROVENANCE.md).
    corp = load_dataset("corp_rep", with_instrument=False).data
    assert int((corp == -99).to_numpy().sum()) == 70
    assert (corp == -99).sum()[lambda s: s > 0].to_dict() == {
        "cusl_1": 3, "cusl_2": 4, "cusl_3": 3, "cusa": 1, "age": 1, "education": 9,
        "occupation": 45, "nphh": 4,
    }
    assert all(dt == np.int64 for dt in corp.dtypes)
    # bfi: empty fields are the only missing values; columns with a NaN are float64.
    bfi = load_dataset("bfi", with_instrument=False).data
    assert int(bfi.isna().to_numpy().sum()) == 731
    assert int(bfi["education"].isna().sum()) == 223
    assert bfi["A1"].dtype == np.float64 and bfi["O2"].dtype == np.int64
    assert bfi["id"].dtype == np.int64 and bfi["id"].is_unique
    # holzinger: text column kept as strings, one missing grade.
    hs = load_dataset("holzinger_swineford1939", with_instrument=False).data
    assert hs["school"].value_counts().to_dict() == {"Pasteur": 156, "Grant-White": 145}
    assert pd.api.types.is_string_dtype(hs["school"])
    assert int(hs["grade"].isna().sum()) == 1
    # service_quality_sq: 6-point scale rescaled to 0-100.
    sq = load_dataset("service_quality_sq", with_instrument=False).data
    assert sorted(np.unique(sq.to_numpy())) == [0, 20, 40, 60, 80, 100]
    # mobi and bank_satisfaction: complete, integer.
    for name in ("mobi", "bank_satisfaction"):
        data = load_dataset(name, with_instrument=False).data
        assert not data.isna().to_numpy().any()


# --------------------------------------------------------------------------- errors
def test_unknown_name_lists_valid_names():
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mobile")
    message = str(err.value)
    assert "'mobile'" in message
    for name in NAMES:
        assert name in message
    assert isinstance(err.value, KeyError) and isinstance(err.value, CustvalError)
    with pytest.raises(DatasetNotFoundError):
        custval.load_dataset("")


def _fake_raw(tmp_path, monkeypatch, csv: bytes, readme: str | None):
    """A throw-away raw-data tree holding one dataset called 'mobi'."""
    folder = tmp_path / "mobi"
    folder.mkdir()
    (folder / "mobi.csv").write_bytes(csv)
    if readme is not None:
        (folder / "README.md").write_text(readme, encoding="utf-8")
    monkeypatch.setattr(dsmod, "DATASETS_DIR", tmp_path)
    return folder / "mobi.csv"


def test_hash_mismatch_names_file_expected_and_actual(tmp_path, monkeypatch):
    original = (DATASETS_DIR / "mobi" / "mobi.csv").read_bytes()
    tampered = original.replace(b"\n10,", b"\n9,", 1)
    assert tampered != original
    expected = hashlib.sha256(original).hexdigest()
    actual = hashlib.sha256(tampered).hexdigest()
    path = _fake_raw(tmp_path, monkeypatch, tampered, f"# mobi\n\nSHA-256: `{expected}`\n")
    with pytest.raises(DatasetIntegrityError) as err:
        load_dataset("mobi", with_instrument=False)
    message = str(err.value)
    assert str(path) in message and expected in message and actual in message
    assert (err.value.path, err.value.expected, err.value.actual) == (path, expected, actual)
    assert isinstance(err.value, CustvalError)


@pytest.mark.parametrize(
    "readme",
    [None, "# no hash here\n", "SHA-256: `abc`\n", "SHA-256: `{h}`\nSHA-256: `{h}`\n"],
    ids=["no-readme", "no-line", "malformed", "two-lines"],
)
def test_readme_without_one_valid_hash_line_is_refused(tmp_path, monkeypatch, readme):
    csv = b"a,b\n1,2\n"
    h = hashlib.sha256(csv).hexdigest()
    _fake_raw(tmp_path, monkeypatch, csv, None if readme is None else readme.format(h=h))
    with pytest.raises(DatasetIntegrityError, match="SHA-256"):
        load_dataset("mobi", with_instrument=False)


def test_missing_data_file_is_an_integrity_error(tmp_path, monkeypatch):
    path = _fake_raw(tmp_path, monkeypatch, b"a\n1\n", f"SHA-256: `{'0' * 64}`\n")
    path.unlink()
    with pytest.raises(DatasetIntegrityError, match="missing"):
        load_dataset("mobi", with_instrument=False)


def test_only_empty_fields_are_missing(tmp_path, monkeypatch):
    csv = b"x,y,z\nNA,1,\nnull,2,3\nN/A,3,4\n"
    _fake_raw(tmp_path, monkeypatch, csv, f"SHA-256: `{hashlib.sha256(csv).hexdigest()}`\n")
    data = load_dataset("mobi", with_instrument=False).data
    assert data["x"].tolist() == ["NA", "null", "N/A"]
    assert data["y"].dtype == np.int64
    assert data["z"].isna().tolist() == [True, False, False]


def test_load_never_writes_to_raw(tmp_path, monkeypatch):
    shutil.copytree(DATASETS_DIR / "bfi", tmp_path / "bfi")
    monkeypatch.setattr(dsmod, "DATASETS_DIR", tmp_path)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")}
    load_dataset("bfi", with_instrument=False)
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")}
    assert before == after


# --------------------------------------------------------------------------- instruments
@pytest.mark.parametrize("name", WITH_INSTRUMENT)
def test_instrument_items_exist_in_data_and_fit_its_scale(name):
    inst_name = list_datasets().loc[name, "instrument"]
    if not _codebook_available(inst_name):
        pytest.skip(f"codebook loader or custval/instruments/{inst_name}.yaml not available yet")
    ds = load_dataset(name)
    inst = ds.instrument
    assert inst is not None and inst.name == inst_name
    missing = [item for item in inst.items if item not in ds.data.columns]
    assert missing == [], f"{name}: instrument items not in the data: {missing}"
    declared = set(inst.missing_codes) | set(inst.dont_know_codes)
    for item in inst.items:
        values = ds.data[item].dropna()
        values = values[~values.isin(declared)]
        out = values[(values < inst.scale_min) | (values > inst.scale_max)]
        assert out.empty, f"{name}.{item}: values outside {inst.scale_min}..{inst.scale_max}"


def test_holzinger_has_no_instrument():
    ds = load_dataset("holzinger_swineford1939")
    assert ds.instrument is None
    assert ds.id_column == "id"


def test_build_processed_reads_every_instrumented_dataset(monkeypatch):
    for module in ("custval.codebook", "custval.ingest", "custval.processed"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not built yet; build_processed needs it")
    for name in WITH_INSTRUMENT:
        if not _codebook_available(list_datasets().loc[name, "instrument"]):
            pytest.skip(f"instrument for {name} not available yet")
    import custval.processed

    written = {}

    def fake_write(frame, name):
        written[name] = frame
        return f"<{name}>"

    monkeypatch.setattr(custval.processed, "write_processed", fake_write)
    out = dsmod.build_processed()
    assert out == [f"<{n}>" for n in WITH_INSTRUMENT]
    for name in WITH_INSTRUMENT:
        assert len(written[name]) == SHAPES[name][0]
    # corp_rep: the declared -99 codes of the instrument items become missing (11 cells:
    # cusl_1 3, cusl_2 4, cusl_3 3, cusa 1); non-item columns are not recoded.
    corp_items = list(load_dataset("corp_rep").instrument.items)
    corp = written["corp_rep"]
    assert not (corp[corp_items] == -99).to_numpy().any()
    assert corp[corp_items].isna().sum()[lambda s: s > 0].to_dict() == {
        "cusa": 1, "cusl_1": 3, "cusl_2": 4, "cusl_3": 3,
    }
    # bfi: 508 empty item cells stay missing, ids kept in order.
    bfi = load_dataset("bfi")
    bfi_items = list(bfi.instrument.items)
    assert int(written["bfi"][bfi_items].isna().to_numpy().sum()) == 508
    assert written["bfi"]["id"].astype("int64").tolist() == bfi.data["id"].tolist()
    # item values themselves are unchanged
    for name in ("mobi", "bank_satisfaction", "service_quality_sq"):
        ds = load_dataset(name)
        items = list(ds.instrument.items)
        assert (written[name][items].to_numpy() == ds.data[items].to_numpy()).all()
