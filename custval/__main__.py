"""The ``custval`` command (also ``python -m custval``).

``custval report DATA --instrument CODEBOOK --out FILE.html [--plan PLAN.yaml] [--group COL]
[--seed N]`` writes the validation dossier (:func:`custval.report.dossier`).  A custval error is
printed as one message (no traceback) and the command exits with status 2; an existing ``--out``
is never written over without ``--overwrite``.
"""

from __future__ import annotations

import argparse
import sys

from .exceptions import CustvalError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custval", description="Validate customer-value survey instruments.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = sub.add_parser(
        "report", help="write a one-file validation dossier (HTML)",
        description="Read a survey export through its codebook and write one self-contained "
                    "HTML file with every measurement check (screening, item analysis, "
                    "reliability, dimensionality, CFA, CR/AVE/HTMT, invariance) and the plan's "
                    "deviations.")
    rep.add_argument("data", metavar="DATA", help="the survey export (CSV, Excel, SPSS, Stata, Parquet)")
    rep.add_argument("--instrument", required=True, metavar="CODEBOOK",
                     help="the codebook: a YAML path or the name of a shipped instrument")
    rep.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    rep.add_argument("--plan", metavar="PLAN.yaml", help="the measurement plan (custval-plan/1)")
    rep.add_argument("--group", metavar="COL", help="column whose groups are compared (invariance)")
    rep.add_argument("--customer", metavar="DATA",
                     help="the customer form's export when DATA holds the provider form")
    rep.add_argument("--form", choices=("provider", "customer"),
                     help="the form DATA holds, for an instrument with provider and customer forms")
    rep.add_argument("--id-column", metavar="COL", help="respondent id column")
    rep.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the resampling (default 0)")
    rep.add_argument("--n-boot", type=int, default=500, metavar="N",
                     help="bootstrap resamples for the intervals (default 500)")
    rep.add_argument("--overwrite", action="store_true", help="write over an existing --out")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``custval`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 when custval refuses the input (the message says why).
    """
    args = _parser().parse_args(argv)
    if args.command == "report":
        from .report import dossier

        try:
            d = dossier(args.data, args.instrument, out=args.out, plan=args.plan, group=args.group,
                        seed=args.seed, customer_data=args.customer, form=args.form,
                        id_column=args.id_column,
                        n_boot=args.n_boot, overwrite=args.overwrite)
        except CustvalError as exc:
            print(f"custval: error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"custval: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"wrote {d.path}: {len(d.deviations)} deviation(s) from the plan, "
              f"{len(d.warnings)} warning(s) recorded in the page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
