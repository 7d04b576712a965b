"""Write cafe_export.csv and cafe_late_answers.csv, the exports of exercise 01 (simulated).

The responses come from a four-factor model (quality, value for money, satisfaction, loyalty) on a
1-5 scale, seeded, so the file is the same on every run.  The file imitates a web-survey export:
UTF-8 with a byte-order mark, semicolons, Windows line ends, a title line and a blank line above
the header, a header with a stray space (" QUAL2") and one in lower case ("price1"), an e-mail
column (personal data), -99 for a skipped question, 9 for "don't know", and a row of means at the
bottom.  cafe_late_answers.csv holds eight later respondents in the same layout, one of whom has
the typing error 55 for a 5 in QUAL3.  ``python teaching/data/make_data.py`` rewrites both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SEED = 2026
N = 60
OUT = Path(__file__).resolve().parent / "cafe_export.csv"
LATE = OUT.with_name("cafe_late_answers.csv")
N_LATE = 8

ITEMS = ["QUAL1", "QUAL2", "QUAL3", "PRICE1", "PRICE2", "PRICE3", "SAT1", "SAT2", "SAT3",
         "LOY1", "LOY2", "LOY3"]
HEADER = ["ResponseId", "StartDate", "shop", "visits", "email", "QUAL1", " QUAL2", "QUAL3",
          "price1", "PRICE2", "PRICE3", "SAT1", "SAT2", "SAT3", "LOY1", "LOY2", "LOY3"]


def responses(rng: np.random.Generator, n: int = N) -> np.ndarray:
    """n x 12 answers 1..5 from correlated factors (PRICE3 worded in reverse)."""
    phi = np.array([[1.0, 0.4, 0.6, 0.5], [0.4, 1.0, 0.5, 0.4], [0.6, 0.5, 1.0, 0.7],
                    [0.5, 0.4, 0.7, 1.0]])
    eta = rng.multivariate_normal(np.zeros(4), phi, size=n, method="cholesky")
    loading = 0.8
    latent = np.repeat(eta, 3, axis=1) * loading + rng.normal(0, 0.6, size=(n, 12))
    latent[:, 5] = -latent[:, 5]  # PRICE3: "I pay too much for what I get."
    return np.clip(np.round(3.4 + 1.1 * latent), 1, 5).astype(int)


def main(out_dir: Path | None = None) -> None:
    """Write both files into ``out_dir`` (default: this folder)."""
    out = OUT if out_dir is None else Path(out_dir) / OUT.name
    late_path = out.with_name(LATE.name)
    rng = np.random.default_rng(SEED)
    x = responses(rng).astype(object)
    cells = rng.random(x.shape)
    x[cells < 0.03] = -99  # skipped
    x[(cells >= 0.03) & (cells < 0.05)] = 9  # "don't know"
    shop = rng.integers(1, 4, size=N)
    visits = rng.poisson(6, size=N)
    lines = ["Kahvila Aroma - customer survey 2026 (export)", ""]
    lines.append(";".join(HEADER))
    for i in range(N):
        day = 1 + i % 28
        row = [f"R_{1000 + i}", f"2026-03-{day:02d} 1{i % 10}:{(7 * i) % 60:02d}", str(shop[i]),
               str(visits[i]), f"customer{100 + i}@example.com", *(str(v) for v in x[i])]
        lines.append(";".join(row))
    numeric = np.where(np.isin(x, (-99, 9)), np.nan, x).astype(float)
    means = [f"{m:.2f}" for m in np.nanmean(numeric, axis=0)]
    lines.append(";".join(["Mean", "", "", "", "", *means]))
    out.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    print(f"wrote {out} ({N} respondents)")

    late = responses(rng, N_LATE).astype(object)
    late[5, 2] = 55  # respondent R_2005 typed 55 for 5 in QUAL3
    lines = [";".join(HEADER)]
    for i in range(N_LATE):
        row = [f"R_{2000 + i}", f"2026-04-{1 + i:02d} 12:{(11 * i) % 60:02d}", str(1 + i % 3), str(2 + i),
               f"late{i}@example.com", *(str(v) for v in late[i])]
        lines.append(";".join(row))
    late_path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    print(f"wrote {late_path} ({N_LATE} respondents)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
