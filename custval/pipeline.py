"""The main job behind ``make reproduce``.

``python -m custval.pipeline processed`` rebuilds ``data/processed`` from
the shipped datasets (``custval.load_dataset``); ``python -m custval.pipeline notebooks`` executes every notebook
into ``reports/`` (HTML).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from ._io.paths import NOTEBOOKS_DIR, REPORTS_DIR


def build_processed() -> list:
    """Read every shipped dataset through its instrument and write it to data/processed.

    Returns
    -------
    list of Path
        The Parquet files written.

    See Also
    --------
    custval.processed.write_processed : Writes each validated frame.
    custval.pipeline.run_notebooks : Execute the notebooks on the processed data.
    """
    from .datasets import build_processed as _build

    return _build()


def run_notebooks() -> list:
    """Execute every notebook in notebooks/ and render it as HTML into reports/.

    Returns
    -------
    list of Path
        The HTML files written.

    See Also
    --------
    custval.pipeline.build_processed : Build the processed data the notebooks read.
    """
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    done = []
    for nb in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        cmd = [
            sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
            "--ExecutePreprocessor.timeout=600", "--output-dir", str(REPORTS_DIR), str(nb),
        ]
        print(f"executing {nb.name}", flush=True)
        subprocess.run(cmd, check=True)
        done.append(REPORTS_DIR / (nb.stem + ".html"))
    if not done:
        print("no notebooks yet in notebooks/")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m custval.pipeline")
    parser.add_argument("step", choices=["processed", "notebooks"])
    args = parser.parse_args(argv)
    if args.step == "processed":
        for path in build_processed():
            print(f"wrote {path}")
    else:
        run_notebooks()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
