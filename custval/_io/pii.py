"""Detection of columns that look like personal data (private).

Two signals: the column *name* (e-mail, phone, name -- also ``customer_name``,
``Your name``, ``respondent name``, ``contact_name``, ``Vastaajan nimi`` --,
address, IP, location fields of survey tools, in English and Finnish) and the
*shape* of its values (e-mail addresses, phone numbers, IP addresses, person
names written as two or three capitalised words that rarely repeat, long free
text).  Only column
names and reasons are ever returned; values are never put into a message.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["detect_personal_columns", "mask_value"]

_NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"e[-_ ]?mail|sähköposti|sahkoposti|^s-?posti", "name suggests an e-mail address"),
    (r"phone|puhelin|^tel(ephone)?$|^tel[-_ ]|mobile|gsm|matkapuhelin|^puh", "name suggests a phone number"),
    (r"^ip$|ip[-_ ]?address|ipaddress|ip[-_ ]?osoite", "name suggests an IP address"),
    (r"(first|last|full|sur|given|family|middle|maiden|recipient)[-_ ]?name"
     r"|\b(your|customer|respondent|contact|client|participant|person|user|employee|"
     r"interviewee|patient|student|member|owner)('?s)?[-_ ]?name\b"
     r"|^name\b|^nimi\b|etunimi|sukunimi|\bnimesi\b"
     r"|(vastaajan|asiakkaan|yhteyshenkilön|yhteyshenkilon|osallistujan|henkilön|koko)[-_ ]?nimi",
     "name suggests a person's name"),
    (r"(street|home|postal|post)[-_ ]?address|^address$|osoite$|katuosoite|postiosoite",
     "name suggests a postal address"),
    (r"latitude|longitude|^lat$|^lon$|^lng$", "name suggests a location"),
    (r"hetu|henkilötunnus|ssn|social[-_ ]?security", "name suggests a personal identity code"),
    (r"^(comment|comments|feedback|open|free[-_ ]?text|kommentti|palaute|avoin|vapaa[-_ ]?sana)",
     "name suggests free text"),
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[\d][\d ()\-]{6,18}\d$")
IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
IPV6 = re.compile(r"^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$")
# "Matti Meikäläinen", "Anna-Liisa Virtanen", "Mary O'Neil": two or three capitalised words
PERSON = re.compile(r"^[^\W\d_a-z][^\W\d_]*(?:['\-][^\W\d_]+)*"
                    r"(?:\s+[^\W\d_a-z][^\W\d_]*(?:['\-][^\W\d_]+)*){1,2}$")
_SAMPLE = 500


def _value_reason(values: pd.Series) -> str | None:
    s = values.astype("str").str.strip()
    s = s[s != ""].head(_SAMPLE)
    if len(s) == 0:
        return None
    n = len(s)
    if s.str.match(EMAIL).sum() >= max(1, 0.5 * n):
        return "values look like e-mail addresses"
    if (s.str.match(IPV4).sum() + s.str.match(IPV6).sum()) >= max(1, 0.5 * n):
        return "values look like IP addresses"
    phone = s.str.match(PHONE) & (s.str.replace(r"\D", "", regex=True).str.len() >= 7)
    # plain long integers are ids; a phone number has a + prefix or separators
    phone &= s.str.contains(r"^\+|[ ()\-]", regex=True)
    if phone.sum() >= max(1, 0.5 * n):
        return "values look like phone numbers"
    person = s.str.match(PERSON)
    if n >= 3 and person.sum() >= 0.6 * n and s[person].nunique() >= 0.8 * person.sum():
        return "values look like person names"
    words = s.str.split().str.len()
    if n >= 3 and (words >= 5).mean() >= 0.3 and s.nunique() >= 0.5 * n:
        return "values look like free text"
    return None


def detect_personal_columns(df: pd.DataFrame, skip=()) -> list[dict]:
    """Columns of `df` that look like personal data: ``[{"column", "reason"}, ...]``.

    Columns in `skip` (item columns, already validated as codes) are not checked.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"A1": [1, 2], "Email": ["a@b.fi", "c@d.com"],
    ...                    "note": ["x", "y"]})
    >>> detect_personal_columns(df, skip=["A1"])
    [{'column': 'Email', 'reason': 'name suggests an e-mail address'}]
    """
    skip = set(skip)
    found = []
    for j, col in enumerate(df.columns):
        if col in skip:
            continue
        name = str(col).strip().lower()
        reason = next((r for pat, r in _NAME_PATTERNS if re.search(pat, name)), None)
        if reason is None:
            series = df.iloc[:, j]
            if series.dtype.kind in "biufcmM":
                continue
            reason = _value_reason(series)
        if reason is not None:
            found.append({"column": str(col), "reason": reason})
    return found


def mask_value(v) -> object:
    """`v` itself, or a placeholder when it looks like personal data (for messages)."""
    if not isinstance(v, str):
        return v
    t = v.strip()
    if EMAIL.match(t):
        return "<an e-mail address, not shown>"
    if IPV4.match(t) or (":" in t and IPV6.match(t)):
        return "<an IP address, not shown>"
    if PHONE.match(t) and re.search(r"^\+|[ ()\-]", t):
        return "<a phone number, not shown>"
    if len(t) > 60:
        return "<long free text, not shown>"
    return v
