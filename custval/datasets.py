"""The real survey datasets shipped with custval, read exactly as they are on disk.

Every dataset ships inside the package, in ``custval/_data/<name>/<name>.csv`` next to a
``README.md`` (origin, APA citation, licence, coding notes and a ``SHA-256: `<hex>``` line)
and a ``PROVENANCE.md`` (where exactly the file came from); an installed wheel has the same
files as the source checkout, whose raw inputs they are.  :func:`load_dataset` checks the
file's SHA-256 against the README before reading it, so an analysis can only run on the
documented bytes; ``load_dataset(name).path`` is the file on disk (to pass to
:func:`custval.read_survey`, say).

Reading rules (the same for every dataset):

* ``pandas.read_csv(..., keep_default_na=False, na_values=[""])``: only an empty field is
  missing; strings such as ``"NA"`` or ``"null"`` are kept as text.
* No coercion, recoding or dropping: the columns keep the dtypes pandas infers from the file
  (integer columns with a missing value become float64, text becomes the pandas string
  dtype), and declared missing codes such as corp_rep's ``-99`` stay in the data.  Use
  :func:`custval.read_survey` (or the files in ``data/processed``, written by
  :func:`build_processed`) to apply an instrument's missing codes and checks.
* Nothing is ever written to the shipped dataset folders.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ._io.paths import DATASETS_DIR
from ._results import ResultMixin
from .exceptions import DatasetIntegrityError, DatasetNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Instrument

__all__ = ["Dataset", "DatasetInfo", "build_processed", "list_datasets", "load_dataset"]

#: The line of a dataset README that records the data file's SHA-256.
SHA256_LINE = re.compile(r"^SHA-256: `(?P<hex>[^`]*)`[ \t]*$", re.MULTILINE)
#: The line of a dataset README that records the licence of the data.
LICENCE_LINE = re.compile(r"^Licence: `(?P<licence>[^`]+)`[ \t]*$", re.MULTILINE)
_HEX64 = re.compile(r"[0-9a-f]{64}")

# Reading options shared by every dataset (see the module docstring).
_READ_CSV = {"keep_default_na": False, "na_values": [""]}


@dataclass(frozen=True)
class DatasetInfo:
    """Registry entry of one shipped dataset (what the README documents, in code).

    ``instrument`` names the shipped codebook (``custval/instruments/<instrument>.yaml``)
    or is ``None`` when the data have none; ``id_column`` is the respondent id column or
    ``None``; ``n_rows``/``n_columns`` are the documented shape of the CSV.

    Attributes
    ----------
    name : str
        The name :func:`load` takes (``"mobi"``, ...).
    file : str
        File name of the shipped CSV.
    description : str
        One line on what the data are.
    instrument : str or None
        Name of the shipped codebook, or ``None`` when the data have none.
    id_column : str or None
        Respondent id column, or ``None`` when the data have none.
    n_rows : int
        Documented number of data rows of the CSV.
    n_columns : int
        Documented number of columns of the CSV.
    licence : str
        Licence of the data.
    citation : str
        How to cite the data.

    See Also
    --------
    custval.datasets.list_datasets : The registry as a table.
    """

    name: str
    file: str
    description: str
    instrument: str | None
    id_column: str | None
    n_rows: int
    n_columns: int
    licence: str
    citation: str


_REGISTRY: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="mobi",
            file="mobi.csv",
            description="ECSI mobile-phone customer satisfaction survey, 24 items on 1-10",
            instrument="ecsi",
            id_column=None,
            n_rows=250,
            n_columns=24,
            licence="GPL-3",
            citation=(
                "Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS path "
                "modeling. Computational Statistics & Data Analysis, 48(1), 159-205. "
                "https://doi.org/10.1016/j.csda.2004.03.005"
            ),
        ),
        DatasetInfo(
            name="corp_rep",
            file="corp_rep.csv",
            description=(
                "Corporate reputation survey of mobile-phone service customers (Hair et al.), "
                "1-7 items, missing coded -99"
            ),
            instrument="corp_rep",
            id_column=None,
            n_rows=344,
            n_columns=50,
            licence="GPL-3",
            citation=(
                "Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2017). A primer on "
                "partial least squares structural equation modeling (PLS-SEM) (2nd ed.). Sage."
            ),
        ),
        DatasetInfo(
            name="bank_satisfaction",
            file="bank_satisfaction.csv",
            description=(
                "ECSI-type satisfaction survey of a Spanish bank (plspm), 27 items on 0-10 "
                "plus gender"
            ),
            instrument="bank_satisfaction",
            id_column=None,
            n_rows=250,
            n_columns=28,
            licence="GPL-3",
            citation=(
                "Sanchez, G. (2013). PLS path modeling with R. Trowchez Editions. "
                "https://www.gastonsanchez.com/PLS_Path_Modeling_with_R.pdf"
            ),
        ),
        DatasetInfo(
            name="service_quality_sq",
            file="service_quality_sq.csv",
            description=(
                "22-item service-quality survey of a durable-goods manufacturer (cSEM SQ), "
                "0-100 (6-point rescaled), dimensions unknown"
            ),
            instrument="service_quality",
            id_column=None,
            n_rows=411,
            n_columns=23,
            licence="GPL-3",
            citation=(
                "Bliemel, F. W., Adolphs, K., & Henseler, J. (2004). Reconceptualizing service "
                "quality: A formative measurement approach using PLS path modeling. In J. L. "
                "Munuera-Aleman (Ed.), Proceedings of the 33rd EMAC Conference (p. 224). "
                "Murcia, Spain."
            ),
        ),
        DatasetInfo(
            name="bfi",
            file="bfi.csv",
            description=(
                "25 IPIP Big-Five items of the SAPA project (psychTools::bfi), 1-6, "
                "7 reverse-keyed items, missing = empty field"
            ),
            instrument="bfi",
            id_column="id",
            n_rows=2800,
            n_columns=29,
            licence="GPL-2.0-or-later",
            citation=(
                "Revelle, W. (2022). psychTools: Tools to accompany the 'psych' package for "
                "psychological research (R package version 2.2.9). "
                "https://CRAN.R-project.org/package=psychTools"
            ),
        ),
        DatasetInfo(
            name="holzinger_swineford1939",
            file="holzinger_swineford1939.csv",
            description=(
                "Holzinger & Swineford (1939) 9 mental-ability test scores of 301 pupils "
                "(lavaan); continuous scores, no instrument"
            ),
            instrument=None,
            id_column="id",
            n_rows=301,
            n_columns=15,
            licence="GPL-2.0-or-later",
            citation=(
                "Holzinger, K. J., & Swineford, F. (1939). A study in factor analysis: The "
                "stability of a bi-factor solution (Supplementary Educational Monographs, "
                "No. 48). University of Chicago."
            ),
        ),
    )
}


@dataclass(frozen=True, eq=False)
class Dataset(ResultMixin):
    """A shipped dataset as read from disk, with its instrument and provenance.

    Attributes
    ----------
    name : str
        Registry name (``list_datasets().index``).
    data : pandas.DataFrame
        The CSV exactly as stored (see the module docstring for the reading rules); a fresh
        frame on every :func:`load_dataset` call.
    instrument : custval.Instrument or None
        The dataset's shipped codebook, or ``None`` (no codebook exists, or
        ``with_instrument=False``).
    citation, licence : str
        APA citation of the data and licence of the carrier package (see the README).
    path : pathlib.Path
        The CSV file that was read.
    sha256 : str
        SHA-256 of the file's bytes (verified equal to the README's).
    n : int
        Number of rows (respondents) in ``data``.
    id_column : str or None
        The respondent id column, if the data have one.
    description : str
        One-line description.

    See Also
    --------
    custval.datasets.load_dataset : Load a shipped dataset.
    custval.datasets.list_datasets : The shipped datasets.
    """

    name: str
    data: pd.DataFrame = dataclasses.field(repr=False)
    instrument: Instrument | None = dataclasses.field(repr=False)
    citation: str
    licence: str
    path: Path
    sha256: str
    n: int
    id_column: str | None = None
    description: str = ""

    _title = "Dataset"

    def __repr__(self) -> str:
        inst = None if self.instrument is None else getattr(self.instrument, "name", "?")
        return (
            f"Dataset(name={self.name!r}, n={self.n}, columns={self.data.shape[1]}, "
            f"instrument={inst!r}, sha256={self.sha256[:12]!r}...)"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row describing the dataset (name, n, columns, instrument, licence, ...).

        Returns
        -------
        pandas.DataFrame
            One row indexed by the dataset name, with columns ``n``, ``columns``,
            ``instrument``, ``id_column``, ``licence``, ``sha256``, ``path`` and ``citation``.

        See Also
        --------
        custval.datasets.list_datasets : One such row per shipped dataset.
        """
        inst = None if self.instrument is None else getattr(self.instrument, "name", None)
        row = {
            "n": self.n,
            "columns": self.data.shape[1],
            "instrument": inst,
            "id_column": self.id_column,
            "licence": self.licence,
            "sha256": self.sha256,
            "path": str(self.path),
            "citation": self.citation,
        }
        return pd.DataFrame([row], index=pd.Index([self.name], name="name"))


# --------------------------------------------------------------------------- helpers
def _info(name: str) -> DatasetInfo:
    if not isinstance(name, str) or name not in _REGISTRY:
        valid = ", ".join(sorted(_REGISTRY))
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}; shipped datasets are: {valid} "
            "(see custval.list_datasets())"
        )
    return _REGISTRY[name]


def _dataset_dir(info: DatasetInfo) -> Path:
    return DATASETS_DIR / info.name


def _readme_text(info: DatasetInfo) -> tuple[Path, str]:
    readme = _dataset_dir(info) / "README.md"
    try:
        return readme, readme.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetIntegrityError(
            f"dataset {info.name!r}: README {readme} is missing; it must record the data "
            "file's SHA-256 in a line 'SHA-256: `<64 hex digits>`'",
            path=_dataset_dir(info) / info.file,
        ) from None


def expected_sha256(name: str) -> str:
    """The SHA-256 that the dataset's ``README.md`` records for its CSV.

    The README must hold exactly one line ``SHA-256: `<64 lower-case hex digits>```.

    Parameters
    ----------
    name : str
        A shipped dataset's name (see :func:`list_datasets`).

    Returns
    -------
    str
        The 64 lower-case hex digits recorded in the README.

    Raises
    ------
    DatasetNotFoundError
        Unknown dataset name.
    DatasetIntegrityError
        README missing, or no / more than one / a malformed hash line.

    See Also
    --------
    custval.datasets.load_dataset : Loads a dataset verified against this hash.

    Examples
    --------
    >>> from custval.datasets import expected_sha256
    >>> expected_sha256("mobi")[:16]
    '8411783cfe766e06'
    """
    info = _info(name)
    readme, text = _readme_text(info)
    found = SHA256_LINE.findall(text)
    data_path = _dataset_dir(info) / info.file
    if len(found) != 1 or not _HEX64.fullmatch(found[0]):
        what = (
            "has no line" if not found
            else f"has {len(found)} lines" if len(found) > 1
            else f"has a malformed hash {found[0]!r} in the line"
        )
        raise DatasetIntegrityError(
            f"dataset {info.name!r}: {readme} {what} 'SHA-256: `<hex>`'; exactly one line "
            "with 64 lower-case hexadecimal digits is required",
            path=data_path,
        )
    return found[0]


def _read_verified(info: DatasetInfo) -> tuple[Path, bytes, str]:
    """Read the CSV's bytes once and check them against the README's SHA-256."""
    path = _dataset_dir(info) / info.file
    expected = expected_sha256(info.name)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetIntegrityError(
            f"dataset {info.name!r}: data file {path} is missing (expected SHA-256 {expected})",
            path=path, expected=expected,
        ) from None
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise DatasetIntegrityError(
            f"dataset {info.name!r}: SHA-256 of {path} does not match its README: "
            f"expected {expected}, actual {actual}. The file was changed or replaced; "
            "reinstall custval or restore the file from version control (the shipped "
            "datasets are read-only).",
            path=path, expected=expected, actual=actual,
        )
    return path, raw, actual


# --------------------------------------------------------------------------- public API
def list_datasets() -> pd.DataFrame:
    """The shipped datasets: one row per dataset, indexed by name.

    Returns
    -------
    pandas.DataFrame
        Index ``name``; columns ``description``, ``n_rows``, ``n_columns``, ``instrument``
        (codebook name or ``None``), ``id_column`` (or ``None``), ``licence``, ``citation``,
        ``file`` (the CSV's absolute path inside the installed package).
        The names are ``list_datasets().index``.

    See Also
    --------
    custval.datasets.load_dataset : Load one of them.

    Examples
    --------
    >>> from custval import list_datasets
    >>> list(list_datasets().index)
    ['bank_satisfaction', 'bfi', 'corp_rep', 'holzinger_swineford1939', 'mobi', 'service_quality_sq']
    >>> print(list_datasets().loc["corp_rep", ["n_rows", "n_columns", "instrument"]].to_dict())
    {'n_rows': 344, 'n_columns': 50, 'instrument': 'corp_rep'}

    # In R: data(package = c("seminr", "plspm", "cSEM", "psychTools", "lavaan"))
    """
    rows = [
        {
            "name": info.name,
            "description": info.description,
            "n_rows": info.n_rows,
            "n_columns": info.n_columns,
            "instrument": info.instrument,
            "id_column": info.id_column,
            "licence": info.licence,
            "citation": info.citation,
            "file": str(_dataset_dir(info) / info.file),
        }
        for info in sorted(_REGISTRY.values(), key=lambda i: i.name)
    ]
    frame = pd.DataFrame(rows).set_index("name")
    # keep None (not NaN) for datasets without an instrument / id column
    for column in ("instrument", "id_column"):
        frame[column] = pd.Series([r[column] for r in rows], index=frame.index, dtype=object)
    return frame


def load_dataset(name: str, *, with_instrument: bool = True) -> Dataset:
    """Load a shipped dataset, verified against the SHA-256 in its README.

    The file ``<name>/<name>.csv`` of the package's dataset folder is read once; its bytes
    are hashed and compared with the ``SHA-256: `<hex>``` line of the README beside it before
    they are parsed with ``pandas.read_csv(keep_default_na=False, na_values=[""])``.  Nothing is
    coerced, recoded or dropped: declared missing codes (corp_rep's ``-99``) stay in
    ``data``; apply them with :func:`custval.read_survey` or use ``data/processed``.

    Parameters
    ----------
    name : str
        One of ``list_datasets().index``.
    with_instrument : bool, default True
        Also load the dataset's shipped codebook (``Dataset.instrument``); ``None`` for a
        dataset without one (holzinger_swineford1939).

    Returns
    -------
    Dataset
        Frozen result with ``data`` (DataFrame), ``instrument``, ``name``, ``citation``,
        ``licence``, ``path``, ``sha256``, ``n``, ``id_column`` and ``description``.

    Raises
    ------
    DatasetNotFoundError
        ``name`` is not a shipped dataset; the message lists the valid names.
    DatasetIntegrityError
        The file's SHA-256 differs from the README's (the message names the file, the
        expected and the actual hash), or the file / README hash line is missing.

    See Also
    --------
    custval.datasets.list_datasets : The shipped datasets.
    custval.datasets.Dataset : The object returned.

    Examples
    --------
    >>> from custval import load_dataset
    >>> ds = load_dataset("mobi", with_instrument=False)
    >>> ds.n, ds.data.shape[1], ds.licence
    (250, 24, 'GPL-3')
    >>> print(ds.data[["IMAG1", "CUSA1"]].mean().round(4).to_dict())
    {'IMAG1': 7.64, 'CUSA1': 7.988}
    >>> int((load_dataset("corp_rep", with_instrument=False).data["cusl_2"] == -99).sum())
    4
    >>> corp = load_dataset("corp_rep")
    >>> corp.instrument.name, corp.instrument.missing_codes
    ('corp_rep', (-99,))

    # In R: data(mobi, package = "seminr"); colMeans(mobi[, c("IMAG1", "CUSA1")])
    """
    info = _info(name)
    path, raw, digest = _read_verified(info)
    data = pd.read_csv(io.BytesIO(raw), **_READ_CSV)
    instrument = None
    if with_instrument and info.instrument is not None:
        from .codebook import load_instrument

        instrument = load_instrument(info.instrument)
    return Dataset(
        name=info.name,
        data=data,
        instrument=instrument,
        citation=info.citation,
        licence=info.licence,
        path=path,
        sha256=digest,
        n=int(data.shape[0]),
        id_column=info.id_column,
        description=info.description,
    )


def build_processed() -> list:
    """Rebuild ``data/processed`` from the shipped datasets that have an instrument.

    For each such dataset the raw file is first verified against its README SHA-256, then
    read through :func:`custval.read_survey` with the dataset's instrument (declared missing
    and don't-know codes become counted missing values; every check of the instrument
    applies) and written with :func:`custval.write_processed` under the dataset's name.
    Datasets without an instrument (holzinger_swineford1939) are skipped.  This is the step
    behind ``python -m custval.pipeline processed``.

    Returns
    -------
    list
        What :func:`custval.write_processed` returned for each dataset (the written paths),
        in ``list_datasets()`` order.

    See Also
    --------
    custval.pipeline.build_processed : The pipeline step that calls it.
    custval.processed.read_processed : Read a processed frame back.
    """
    from .codebook import load_instrument
    from .ingest import read_survey
    from .processed import write_processed

    written = []
    for info in sorted(_REGISTRY.values(), key=lambda i: i.name):
        if info.instrument is None:
            continue
        path, _, _ = _read_verified(info)
        instrument = load_instrument(info.instrument)
        frame = read_survey(path, instrument, id_column=info.id_column)
        written.append(write_processed(frame, info.name))
    return written
