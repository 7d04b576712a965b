"""Processed data: validated frames as Parquet plus a JSON manifest in ``data/processed``.

:func:`write_processed` writes ``<name>.parquet`` and ``<name>.json`` atomically
(temporary file in the same folder, then :func:`os.replace`), so a reader never
sees a half-written file.  The manifest records where the data came from (the
raw file's SHA-256, format and reading rules), the instrument name and version,
the rows in / out / excluded with reasons, the columns and their dtypes, the
personal-data columns left out, the custval version and the SHA-256 of the
Parquet file.  It has no timestamp, so rebuilding from the same raw file gives
the same manifest.

Columns that look like personal data (e-mail, phone, names, IP addresses, free
text; see ``df.attrs["custval"]["personal_data_columns"]``, re-checked here)
are not written unless the caller asks for them with ``personal_data=``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ._io import paths as _paths
from ._io.pii import detect_personal_columns
from ._io.readers import file_sha256
from .exceptions import DatasetNotFoundError, DataValidationError, SpecificationError

__all__ = ["MANIFEST_FORMAT", "read_processed", "write_processed"]

MANIFEST_FORMAT = "custval-processed/1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _dir(directory) -> Path:
    return Path(directory) if directory is not None else _paths.PROCESSED_DATA_DIR


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(
            (".parquet", ".json")):
        raise SpecificationError(
            f"name={name!r}: use letters, digits, '_', '-' or '.', without a folder or suffix "
            "(e.g. 'bfi').")
    return name


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _relative(path_str: str | None) -> str | None:
    if not path_str:
        return path_str
    p = Path(path_str)
    try:
        return p.resolve().relative_to(_paths.PROJECT_ROOT).as_posix()
    except ValueError:
        return str(p)


def write_processed(df: pd.DataFrame, name: str, *, directory=None,
                    personal_data: bool | Iterable[str] = False) -> Path:
    """Write a validated frame to ``<directory>/<name>.parquet`` plus ``<name>.json``.

    Parameters
    ----------
    df : DataFrame
        Usually the result of :func:`custval.read_survey`; its
        ``attrs["custval"]`` provenance goes into the manifest.
    name : str
        File stem, e.g. ``"bfi"``.
    directory : path, optional
        Default ``custval._io.paths.PROCESSED_DATA_DIR`` (``data/processed``).
    personal_data : bool or iterable of str, default False
        Columns that look like personal data are left out unless ``True`` (keep
        all) or named here.

    Returns
    -------
    pathlib.Path
        The Parquet file (the manifest is next to it, suffix ``.json``).

    See Also
    --------
    custval.processed.read_processed : Read the frame back with its manifest.
    custval.ingest.read_survey : Read and validate the raw export first.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from custval.processed import write_processed, read_processed
    >>> d = tempfile.mkdtemp()
    >>> df = pd.DataFrame({"A1": [1.0, 2.0], "email": ["a@b.fi", "c@d.fi"]})
    >>> write_processed(df, "demo", directory=d).name
    'demo.parquet'
    >>> back = read_processed("demo", directory=d)
    >>> list(back.columns), back.attrs["custval"]["processed"]["personal_data_dropped"]
    (['A1'], ['email'])
    >>> # In R: arrow::write_parquet(df, "demo.parquet") plus jsonlite::write_json(manifest, ...)
    """
    _check_name(name)
    out_dir = _dir(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    prov = dict(df.attrs.get("custval") or {})
    items = prov.get("items") or []
    flagged = {p["column"]: p["reason"] for p in prov.get("personal_data_columns") or []}
    for p in detect_personal_columns(df, skip=items):
        flagged.setdefault(p["column"], p["reason"])
    flagged = {c: r for c, r in flagged.items() if c in df.columns}
    if personal_data is True:
        keep_pd = set(flagged)
    elif personal_data is False or personal_data is None:
        keep_pd = set()
    else:
        keep_pd = set(personal_data)
        unknown = keep_pd - set(df.columns)
        if unknown:
            raise SpecificationError(f"personal_data names columns not in the frame: "
                                     f"{sorted(unknown)}")
    dropped = [c for c in flagged if c not in keep_pd]
    data = df.drop(columns=dropped)
    data.attrs = {}
    parquet = out_dir / f"{name}.parquet"
    manifest_path = out_dir / f"{name}.json"
    _atomic_write(parquet, lambda p: data.to_parquet(p, index=False))
    sha, size = file_sha256(parquet)
    from . import __version__

    source = dict(prov.get("source") or {})
    if source.get("path"):
        source["path"] = _relative(source["path"])
    rows_returned = prov.get("rows_returned", len(df))
    processed = {
        "format": MANIFEST_FORMAT,
        "name": name,
        "custval_version": __version__,
        "data_file": parquet.name,
        "data_sha256": sha,
        "data_size_bytes": size,
        "source": source or None,
        "instrument": prov.get("instrument"),
        "rows": {
            "in": prov.get("rows_read", len(df)),
            "out": int(len(data)),
            "excluded": prov.get("rows_excluded", 0),
            "excluded_reasons": prov.get("excluded", []),
            "dropped_after_reading": int(rows_returned - len(df)),
            "row_counting": prov.get("row_counting"),
        },
        "columns": [{"name": str(c), "dtype": str(data[c].dtype)} for c in data.columns],
        "personal_data_dropped": dropped,
        "personal_data_kept": sorted(c for c in flagged if c in keep_pd),
    }
    full = {**processed, "provenance": {**prov, "source": source or prov.get("source")}}
    text = json.dumps(full, indent=2, ensure_ascii=False, default=str) + "\n"
    _atomic_write(manifest_path, lambda p: p.write_text(text, encoding="utf-8"))
    return parquet


def read_processed(name: str, *, directory=None, verify: bool = True) -> pd.DataFrame:
    """Read a frame written by :func:`write_processed`, with its manifest in ``attrs``.

    Parameters
    ----------
    name : str
        The name given to :func:`write_processed`.
    directory : path, optional
        Where the files are (None: ``data/processed`` of the project, as :func:`write_processed`).
    verify : bool
        The Parquet file's SHA-256 must match the manifest.

    Returns
    -------
    DataFrame
        ``df.attrs["custval"]`` is the reading provenance; its ``"processed"``
        entry is the manifest.

    Raises
    ------
    DataValidationError
        With ``verify``, the file's SHA-256 differs from the manifest's.

    See Also
    --------
    custval.processed.write_processed : Write a validated frame and its manifest.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from custval.processed import write_processed, read_processed
    >>> d = tempfile.mkdtemp()
    >>> _ = write_processed(pd.DataFrame({"A1": [1.0, None]}), "x", directory=d)
    >>> read_processed("x", directory=d)["A1"].tolist()
    [1.0, nan]
    >>> # In R: arrow::read_parquet("x.parquet"); jsonlite::read_json("x.json")
    """
    _check_name(name)
    base = _dir(directory)
    manifest_path = base / f"{name}.json"
    parquet = base / f"{name}.parquet"
    if not manifest_path.exists() or not parquet.exists():
        have = sorted(p.stem for p in base.glob("*.json")) if base.exists() else []
        raise DatasetNotFoundError(f"no processed dataset {name!r} in {base}; available: "
                                   f"{have or 'none'} (write one with write_processed).")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if verify:
        sha, _ = file_sha256(parquet)
        if sha != manifest.get("data_sha256"):
            raise DataValidationError(
                f"{parquet.name}: SHA-256 {sha[:12]}... does not match its manifest "
                f"({str(manifest.get('data_sha256'))[:12]}...); the file was changed after "
                "write_processed. Rebuild it (python -m custval.pipeline processed).",
                path=parquet)
    df = pd.read_parquet(parquet)
    prov = dict(manifest.get("provenance") or {})
    prov["processed"] = {k: v for k, v in manifest.items() if k != "provenance"}
    df.attrs["custval"] = prov
    return df
