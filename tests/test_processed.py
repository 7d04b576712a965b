"""write_processed / read_processed: Parquet + manifest, atomic, personal data left out."""

from __future__ import annotations

import hashlib
import json

import _survey_fixtures as F
import pandas as pd
import pytest

import custval
from custval import processed as proc
from custval.exceptions import (
    DatasetNotFoundError,
    DataValidationError,
    PersonalDataWarning,
    SpecificationError,
)
from custval.ingest import read_survey

INST = F.make_instrument()


@pytest.fixture
def qualtrics_frame(tmp_path):
    path = F.write_qualtrics_csv(tmp_path / "q.csv")
    with pytest.warns(PersonalDataWarning):
        df = read_survey(path, INST, id_column="id", exclude=("preview",), incomplete="keep")
    return path, df


def test_round_trip_and_manifest(tmp_path, qualtrics_frame):
    src, df = qualtrics_frame
    out = tmp_path / "processed"
    parquet = proc.write_processed(df, "demo", directory=out)
    assert parquet == out / "demo.parquet"
    manifest = json.loads((out / "demo.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "custval-processed/1"
    assert manifest["source"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert manifest["instrument"] == {"name": "demo", "version": "1.0",
                                      "reverse_items": [i for i in INST.items if i in INST.reverse_items]}
    assert manifest["custval_version"] == custval.__version__
    assert manifest["data_sha256"] == hashlib.sha256(parquet.read_bytes()).hexdigest()
    rows = manifest["rows"]
    assert (rows["in"], rows["out"], rows["excluded"]) == (44, 41, 3)
    assert {r["reason"]: r["rows"] for r in rows["excluded_reasons"]} == {
        "extra header row (question text or ImportId row)": [2, 3], "preview": [44]}
    assert manifest["personal_data_dropped"] == ["IPAddress", "RecipientEmail"]
    back = proc.read_processed("demo", directory=out)
    expected = df.drop(columns=["IPAddress", "RecipientEmail"])
    pd.testing.assert_frame_equal(back, expected)
    assert back.attrs["custval"]["processed"]["data_sha256"] == manifest["data_sha256"]
    assert back.attrs["custval"]["rules"] == df.attrs["custval"]["rules"]
    assert sorted(p.name for p in out.iterdir()) == ["demo.json", "demo.parquet"]  # no temp


def test_personal_data_only_when_asked(tmp_path, qualtrics_frame):
    _, df = qualtrics_frame
    proc.write_processed(df, "all", directory=tmp_path, personal_data=True)
    assert {"IPAddress", "RecipientEmail"} <= set(proc.read_processed("all", directory=tmp_path))
    proc.write_processed(df, "ip", directory=tmp_path, personal_data=["IPAddress"])
    cols = set(proc.read_processed("ip", directory=tmp_path).columns)
    assert "IPAddress" in cols and "RecipientEmail" not in cols
    with pytest.raises(SpecificationError, match="not in the frame"):
        proc.write_processed(df, "x", directory=tmp_path, personal_data=["nope"])


def test_frame_without_provenance_is_still_checked(tmp_path):
    df = pd.DataFrame({"A1": [1.0, 2.0], "mail": ["a@b.fi", "c@d.fi"]})
    proc.write_processed(df, "plain", directory=tmp_path)
    m = json.loads((tmp_path / "plain.json").read_text(encoding="utf-8"))
    assert m["personal_data_dropped"] == ["mail"] and m["rows"]["in"] == 2
    assert m["source"] is None


def test_write_is_atomic(tmp_path, monkeypatch):
    df = pd.DataFrame({"A1": [1.0, 2.0]})
    proc.write_processed(df, "d", directory=tmp_path)
    before = (tmp_path / "d.parquet").read_bytes(), (tmp_path / "d.json").read_bytes()

    def boom(self, path, **kw):
        with open(path, "wb") as fh:
            fh.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        proc.write_processed(pd.DataFrame({"A1": [3.0]}), "d", directory=tmp_path)
    after = (tmp_path / "d.parquet").read_bytes(), (tmp_path / "d.json").read_bytes()
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json", "d.parquet"]


def test_changed_file_is_detected(tmp_path):
    proc.write_processed(pd.DataFrame({"A1": [1.0]}), "d", directory=tmp_path)
    pd.DataFrame({"A1": [2.0]}).to_parquet(tmp_path / "d.parquet")
    with pytest.raises(DataValidationError, match="does not match its manifest"):
        proc.read_processed("d", directory=tmp_path)
    assert proc.read_processed("d", directory=tmp_path, verify=False)["A1"].tolist() == [2.0]


def test_names_and_missing_datasets(tmp_path):
    with pytest.raises(SpecificationError):
        proc.write_processed(pd.DataFrame({"a": [1]}), "../evil", directory=tmp_path)
    proc.write_processed(pd.DataFrame({"a": [1]}), "one", directory=tmp_path)
    with pytest.raises(DatasetNotFoundError, match=r"available: \['one'\]"):
        proc.read_processed("two", directory=tmp_path)


def test_default_directory_is_processed_data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(custval._io.paths, "PROCESSED_DATA_DIR", tmp_path / "p")
    proc.write_processed(pd.DataFrame({"a": [1.5]}), "d")
    assert (tmp_path / "p" / "d.parquet").exists()
    assert proc.read_processed("d")["a"].tolist() == [1.5]


def test_deterministic_manifest(tmp_path, qualtrics_frame):
    _, df = qualtrics_frame
    proc.write_processed(df, "a", directory=tmp_path / "1")
    proc.write_processed(df, "a", directory=tmp_path / "2")
    assert (tmp_path / "1" / "a.json").read_bytes() == (tmp_path / "2" / "a.json").read_bytes()
