"""Errors and typed warnings raised by custval.

Every error is a :class:`CustvalError`; errors about bad input are also
:class:`ValueError` so that generic handlers keep working.  Every warning is a
:class:`CustvalWarning` (a :class:`UserWarning`), so that a user can silence or
escalate all of custval's warnings at once::

    import warnings, custval
    warnings.simplefilter("error", custval.exceptions.CustvalWarning)

Repairs (something custval changed to be able to go on) always warn with a
:class:`RepairWarning` subclass and are also recorded in the result.
"""

from __future__ import annotations

__all__ = [
    "BootstrapWarning",
    "CodebookError",
    "ConvergenceError",
    "ConvergenceWarning",
    "CustvalError",
    "CustvalWarning",
    "DataValidationError",
    "DatasetNotFoundError",
    "DatasetIntegrityError",
    "ExcludedResponseWarning",
    "FewItemsWarning",
    "HeywoodWarning",
    "IdentificationError",
    "MissingDependencyError",
    "InsufficientDataError",
    "IncompleteResponseWarning",
    "InvarianceWarning",
    "ItemKeyingWarning",
    "MissingDataWarning",
    "ModelSyntaxError",
    "NegativeCovarianceWarning",
    "NotPositiveDefiniteError",
    "NotPositiveDefiniteWarning",
    "PersonalDataWarning",
    "RepairWarning",
    "ReverseKeyWarning",
    "SingularMatrixError",
    "ConstantItemError",
    "ConstantItemWarning",
    "SpecificationError",
]


# --------------------------------------------------------------------------- errors
class CustvalError(Exception):
    """Base class of every error custval raises on purpose.

    See Also
    --------
    custval.exceptions.CustvalWarning : The base class of every custval warning.
    """


class DataValidationError(CustvalError, ValueError):
    """A survey file or frame does not satisfy its instrument.

    All problems found are collected and reported at once.  ``problems`` holds
    one record per problem (a dict with at least ``rule``, ``column``,
    ``rows``, ``row_counting``, ``values``, ``n`` and ``allowed``), ``path`` the
    file (or ``None`` for an in-memory frame).

    See Also
    --------
    custval.ingest.read_survey : Reads a survey export and raises this error.
    custval.ingest.validate_frame : The same checks on an in-memory frame.
    """

    def __init__(self, message: str, problems: list[dict] | None = None, path=None):
        super().__init__(message)
        self.problems = list(problems or [])
        self.path = path


class CodebookError(CustvalError, ValueError):
    """An instrument codebook (YAML or dict) is faulty.

    ``path``, ``key`` and ``line`` (1-based, ``None`` for a dict) locate the problem.

    See Also
    --------
    custval.codebook.load_instrument : Reads and checks a codebook.
    custval.exceptions.DataValidationError : A data file that does not satisfy its instrument.
    """

    def __init__(self, message: str, *, path=None, key: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.key = key
        self.line = line


class DatasetNotFoundError(CustvalError, KeyError):
    """An unknown dataset or instrument name; the message lists the valid names.

    See Also
    --------
    custval.datasets.list_datasets : The shipped datasets.
    custval.codebook.list_instruments : The shipped instruments.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetIntegrityError(CustvalError, ValueError):
    """A shipped data file does not match the SHA-256 recorded in its README.

    ``path`` is the data file, ``expected`` the hash from the README (``None`` if the
    README has no valid hash line) and ``actual`` the hash of the file's bytes.

    See Also
    --------
    custval.datasets.load_dataset : Verifies a dataset against the hash in its README.
    """

    def __init__(self, message: str, *, path=None, expected: str | None = None,
                 actual: str | None = None):
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class InsufficientDataError(CustvalError, ValueError):
    """Too few respondents, items or valid values for the requested statistic.

    See Also
    --------
    custval.exceptions.CustvalError : The base class of every custval error.
    """


class ConstantItemError(CustvalError, ValueError):
    """An item has zero variance (or no valid values), so the statistic is undefined.

    See Also
    --------
    custval.exceptions.ConstantItemWarning : The warning where a constant item leaves a value NaN instead.
    """


class SingularMatrixError(CustvalError, ValueError):
    """A covariance or correlation matrix is singular (e.g. perfectly collinear items).

    See Also
    --------
    custval.exceptions.NotPositiveDefiniteError : A matrix that is not positive definite.
    """


class NotPositiveDefiniteError(CustvalError, ValueError):
    """A matrix that must be positive definite is not.

    See Also
    --------
    custval.exceptions.NotPositiveDefiniteWarning : The warning where the result states what was done instead.
    """


class SpecificationError(CustvalError, ValueError):
    """A model or argument specification is invalid (unknown option, item not in data, ...).

    See Also
    --------
    custval.exceptions.ModelSyntaxError : Model syntax that cannot be parsed.
    """


class ModelSyntaxError(SpecificationError):
    """lavaan-style model syntax cannot be parsed; the message quotes the line.

    See Also
    --------
    custval.exceptions.SpecificationError : Any other invalid specification.
    """


class IdentificationError(SpecificationError):
    """A model is not identified.

    See Also
    --------
    custval.exceptions.SpecificationError : Any other invalid specification.
    """


class MissingDependencyError(CustvalError, ImportError):
    """An optional package a feature needs is not installed; the message names it and its extra.

    See Also
    --------
    custval.tables.APATable.to_docx : Needs python-docx.
    """


class ConvergenceError(CustvalError, RuntimeError):
    """An estimate the result cannot do without did not converge (e.g. a group's configural
    model in an alignment); the message names the group.

    See Also
    --------
    custval.exceptions.ConvergenceWarning : A non-converged estimate that is still reported.
    """


# --------------------------------------------------------------------------- warnings
class CustvalWarning(UserWarning):
    """Base class of every warning custval issues.

    See Also
    --------
    custval.exceptions.CustvalError : The base class of every custval error.
    """


class RepairWarning(CustvalWarning):
    """custval changed something to be able to go on; the change is recorded in the result.

    See Also
    --------
    custval.exceptions.CustvalWarning : The base class of every custval warning.
    """


class ItemKeyingWarning(CustvalWarning):
    """An item's correlation with its scale contradicts its declared keying.

    See Also
    --------
    custval.exceptions.ReverseKeyWarning : A model's items disagree with the instrument's reverse keys.
    """


class ReverseKeyWarning(ItemKeyingWarning):
    """A model's items and its instrument's reverse keys disagree.

    Raised when items load against the other indicators of their factor (reverse-worded
    items fitted unkeyed, or keyed twice), or when statistics of differently keyed items
    would be put side by side (e.g. alphas of keyed items beside a CFA of unkeyed ones).
    The message names the items and how to fit the keyed data.

    See Also
    --------
    custval.exceptions.ItemKeyingWarning : An item's correlation contradicts its keying.
    """


class FewItemsWarning(CustvalWarning):
    """A scale has fewer items than a coefficient needs to be informative (e.g. < 3).

    See Also
    --------
    custval.exceptions.CustvalWarning : The base class of every custval warning.
    """


class NegativeCovarianceWarning(CustvalWarning):
    """The average inter-item covariance is negative: check the item keying.

    See Also
    --------
    custval.exceptions.ItemKeyingWarning : An item's correlation contradicts its keying.
    """


class ConstantItemWarning(CustvalWarning):
    """An item has zero variance in the data used.

    See Also
    --------
    custval.exceptions.ConstantItemError : The error where a constant item makes the statistic undefined.
    """


class MissingDataWarning(CustvalWarning):
    """Missing data affects a result in a way the user should know about.

    See Also
    --------
    custval.exceptions.IncompleteResponseWarning : Incomplete responses kept from a survey export.
    """


class PersonalDataWarning(CustvalWarning):
    """Columns that look like personal data were found (named, values never shown).

    See Also
    --------
    custval.ingest.read_survey : Reads a survey export and names such columns.
    """


class HeywoodWarning(CustvalWarning):
    """A Heywood case: a negative (or > 1 standardized) residual variance / communality.

    See Also
    --------
    custval.exceptions.NotPositiveDefiniteWarning : A matrix that is not positive definite.
    """


class ConvergenceWarning(CustvalWarning):
    """An iterative estimator did not converge.

    See Also
    --------
    custval.exceptions.CustvalWarning : The base class of every custval warning.
    """


class BootstrapWarning(CustvalWarning):
    """Some bootstrap resamples gave an undefined statistic: they are left out of the interval
    (and counted in the result), or, when they are more than half, the interval is undefined.

    See Also
    --------
    custval.exceptions.CustvalWarning : The base class of every custval warning.
    """


class NotPositiveDefiniteWarning(CustvalWarning):
    """A matrix was not positive definite; what was done about it is stated.

    See Also
    --------
    custval.exceptions.NotPositiveDefiniteError : The error where nothing sensible can be done.
    """


class InvarianceWarning(CustvalWarning):
    """A comparison across groups or forms is made without the invariance it needs.

    See Also
    --------
    custval.invariance.measurement_invariance : Shows the invariance needed.
    """


class IncompleteResponseWarning(MissingDataWarning):
    """A survey export holds incomplete responses that were kept (counted in the provenance).

    See Also
    --------
    custval.exceptions.ExcludedResponseWarning : Responses left out as not real answers.
    """


class ExcludedResponseWarning(CustvalWarning):
    """Responses a survey tool marks as not real answers (preview, test, spam, unfinished)
    were excluded by default; each is listed in the provenance (row and response id).

    See Also
    --------
    custval.exceptions.IncompleteResponseWarning : Incomplete responses that were kept.
    """


class SparseCategoryWarning(CustvalWarning):
    """An answer category of an ordered item is empty or sparse (in the sample or in a group).

    See Also
    --------
    custval.items.estimator_advice : Reports sparse categories by item and group.
    """


class MixedIndicatorsWarning(CustvalWarning):
    """A statistic is undefined (NaN) for a factor measured by both ordered and continuous items.

    See Also
    --------
    custval.validity.composite_reliability : NaN for such factors, as semTools::compRelSEM.
    """
