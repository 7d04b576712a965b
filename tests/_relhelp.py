"""Shared helpers for the reliability/items/screening tests (data loading, keying)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import load_golden

from custval._io.paths import RAW_DATA_DIR

BFI_SCALES = {s: [f"{s}{i}" for i in range(1, 6)] for s in "ACENO"}
BFI_REVERSE = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]
MOBI_BLOCKS = {
    "IMAG": [f"IMAG{i}" for i in range(1, 6)],
    "CUEX": [f"CUEX{i}" for i in range(1, 4)],
    "PERQ": [f"PERQ{i}" for i in range(1, 8)],
    "PERV": ["PERV1", "PERV2"],
    "CUSA": [f"CUSA{i}" for i in range(1, 4)],
    "CUSL": [f"CUSL{i}" for i in range(1, 4)],
}


def bfi(keyed: bool = True) -> pd.DataFrame:
    df = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    if keyed:
        df = df.copy()
        df[BFI_REVERSE] = 7 - df[BFI_REVERSE]
    return df


def mobi() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")


def sim(keyed: bool = True) -> tuple[pd.DataFrame, dict]:
    g = load_golden("reliability", "sim")
    df = pd.DataFrame({k: np.array([np.nan if v is None else v for v in vals], dtype=float)
                       for k, vals in g["data"].items()})
    if keyed:
        df[g["reverse"]] = 8 - df[g["reverse"]]
    return df, g


class StubInstrument:
    """Minimal stand-in with the custval.codebook.Instrument attributes these modules use."""

    def __init__(self, constructs, reverse=(), scale=(1, 6)):
        self.constructs = {k: tuple(v) for k, v in constructs.items()}
        self.items = tuple(i for v in self.constructs.values() for i in v)
        self.reverse_items = frozenset(reverse)
        self.scale_min, self.scale_max = scale

    def keyed(self, df):
        out = df.copy()
        cols = [c for c in self.reverse_items if c in out.columns]
        out[cols] = self.scale_min + self.scale_max - out[cols]
        return out


def bfi_instrument():
    return StubInstrument(BFI_SCALES, BFI_REVERSE, (1, 6))
