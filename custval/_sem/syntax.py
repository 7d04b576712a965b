"""lavaan model syntax -> parameter table (private).

Parses the subset of lavaan's model syntax that confirmatory factor models
need and builds a parameter table with lavaan's ``cfa()`` defaults
(``lavaan::lavaanify(model, auto.fix.first = TRUE, auto.fix.single = TRUE,
auto.var = TRUE, auto.cov.lv.x = TRUE, int.ov.free = TRUE, int.lv.free = FALSE)``):
the single indicator of a factor has its residual variance fixed to 0.

Supported operators: ``=~`` (measurement; a latent on the right-hand side
makes a second-order factor), ``~~`` (variances and covariances), ``~``
(regressions between latent variables, of latent variables or indicators on
observed exogenous covariates -- lavaan's ``fixed.x = TRUE``: the
covariates' variance/covariance/mean rows are added fixed, ``exo = 1``, and
filled with sample values by the caller), ``~ 1`` (intercepts / latent means),
``==`` (linear equality constraints among labels and numbers, e.g.
``a == b``, ``a == 2*b``, ``a + b == 1``), ``<`` / ``>`` (linear inequality constraints, e.g.
``a > 0``) and ``:=`` (defined parameters: an
arithmetic expression of labels, numbers, earlier defined parameters,
``+ - * / ^``, parentheses and ``sqrt``, ``exp``, ``log``, ``abs``; read by a
small recursive-descent parser, never evaluated as Python).  Modifiers:
a number (``1*x``: fixed), ``NA*x`` (free), a label (``a*x``; equal labels
mean equal parameters), ``start(0.5)*x``, ``equal("f=~x2")*x`` and
per-group vectors ``c(a, b)*x`` / ``c(1, NA)*x``.  Exploratory (ESEM) blocks
``efa("b1")*F1 + efa("b1")*F2 =~ x1 + ...`` add an ``efa`` column and lavaan's
echelon identification (:func:`_efa_echelon`); the fit is rotated by
:mod:`custval._sem.esem`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ModelSyntaxError, SpecificationError

OPERATORS = ("=~", "~~", "==", ":=", "<", ">", "~")
GROUP_EQUAL_TYPES = (
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "regressions",
)
NO_LATENT = "the model defines no latent variable; expected at least one line like 'F =~ x1 + x2 + x3'"
_IDENT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass
class Modifier:
    """Per-group modifier values (``None`` entries mean 'not given')."""

    fixed: list = field(default_factory=list)  # float | "NA" | None
    label: list = field(default_factory=list)  # str | None
    start: list = field(default_factory=list)  # float | None


@dataclass
class Statement:
    lhs: str
    op: str
    rhs: str
    mod: Modifier
    line: str
    lineno: int
    expr: tuple | None = None  # ':=': parsed rhs; '==': parsed (lhs - rhs)
    efa: str = ""  # the exploratory block of an 'efa("b")*F =~ ...' factor (ESEM), else ""


# --------------------------------------------------------------------------- expressions
# A tiny arithmetic language for ':=' and '==' (lavaan evaluates R code there;
# custval accepts arithmetic only).  Nodes: ("num", v), ("name", s),
# ("neg", a), ("bin", op, a, b), ("call", f, a).
_FUNCTIONS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)"
    r"|(?P<op>\*\*|[-+*/^(),]))"
)


class _ExprError(ValueError):
    pass


class _NonLinear(ValueError):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _ExprError(f"unexpected character {text[pos:].strip()[:1]!r}")
        kind = m.lastgroup
        val = m.group(kind)
        out.append((kind, "^" if val == "**" else val))
        pos = m.end()
    return out


def parse_expression(text: str) -> tuple:
    """Parse an arithmetic expression into a tuple tree (no ``eval``)."""
    toks = _tokenize(text)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else (None, None)

    def take(expected=None):
        nonlocal pos
        tok = peek()
        if tok[0] is None or (expected is not None and tok[1] != expected):
            raise _ExprError(f"expected {expected or 'a value'!r}" + ("" if tok[1] is None else f" at {tok[1]!r}"))
        pos += 1
        return tok

    def expr():
        node = term()
        while peek()[1] in ("+", "-"):
            op = take()[1]
            node = ("bin", op, node, term())
        return node

    def term():
        node = unary()
        while peek()[1] in ("*", "/"):
            op = take()[1]
            node = ("bin", op, node, unary())
        return node

    def unary():
        if peek()[1] in ("-", "+"):
            op = take()[1]
            inner = unary()
            return ("neg", inner) if op == "-" else inner
        return power()

    def power():
        base = atom()
        if peek()[1] == "^":
            take()
            return ("bin", "^", base, unary())  # right-associative, binds tighter than unary minus on the left
        return base

    def atom():
        kind, val = peek()
        if kind == "num":
            take()
            return ("num", float(val))
        if kind == "name":
            take()
            if peek()[1] == "(":
                if val not in _FUNCTIONS:
                    raise _ExprError(f"function {val!r} is not supported; allowed: {', '.join(_FUNCTIONS)}")
                take("(")
                inner = expr()
                take(")")
                return ("call", val, inner)
            return ("name", val)
        if val == "(":
            take()
            inner = expr()
            take(")")
            return inner
        raise _ExprError("expected a number, a label or '('" + ("" if val is None else f", got {val!r}"))

    node = expr()
    if pos != len(toks):
        raise _ExprError(f"unexpected {toks[pos][1]!r}")
    return node


def expression_names(node: tuple) -> list[str]:
    """Names used in an expression tree, in order of first appearance."""
    kind = node[0]
    if kind == "name":
        return [node[1]]
    if kind == "num":
        return []
    out: list[str] = []
    for child in node[1:]:
        if isinstance(child, tuple):
            out += [n for n in expression_names(child) if n not in out]
    return out


def evaluate(node: tuple, env: dict):
    """Value of an expression tree; ``env`` maps names to numbers."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        return env[node[1]]
    if kind == "neg":
        return -evaluate(node[1], env)
    if kind == "call":
        with np.errstate(all="ignore"):
            return _FUNCTIONS[node[1]](evaluate(node[2], env))
    a, b = evaluate(node[2], env), evaluate(node[3], env)
    op = node[1]
    with np.errstate(all="ignore"):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b if b != 0 else np.nan
        return np.power(float(a), float(b)) if not (a < 0 and float(b) != int(b)) else np.nan


def linear_form(node: tuple, env: dict) -> tuple[float, dict]:
    """``(constant, {name: coefficient})`` of an affine expression; raises
    ``_NonLinear`` otherwise.  ``env`` maps a name to its own linear form."""
    kind = node[0]
    if kind == "num":
        return node[1], {}
    if kind == "name":
        return env[node[1]]
    if kind == "neg":
        c, co = linear_form(node[1], env)
        return -c, {k: -v for k, v in co.items()}
    if kind == "call":
        c, co = linear_form(node[2], env)
        if any(co.values()):
            raise _NonLinear(node[1])
        return float(_FUNCTIONS[node[1]](c)), {}
    op = node[1]
    (ca, a), (cb, b) = linear_form(node[2], env), linear_form(node[3], env)
    if op in ("+", "-"):
        sgn = 1.0 if op == "+" else -1.0
        co = dict(a)
        for k, v in b.items():
            co[k] = co.get(k, 0.0) + sgn * v
        return ca + sgn * cb, co
    if op == "*":
        if any(a.values()) and any(b.values()):
            raise _NonLinear("*")
        if any(a.values()):
            return ca * cb, {k: v * cb for k, v in a.items()}
        return ca * cb, {k: v * ca for k, v in b.items()}
    if any(b.values()):
        raise _NonLinear(op)
    if op == "/":
        return ca / cb, {k: v / cb for k, v in a.items()}
    if any(a.values()):
        if cb == 1:
            return ca, a
        raise _NonLinear("^")
    return float(np.power(ca, cb)), {}


# --------------------------------------------------------------------------- parsing
def split_statements(text: str) -> list[tuple[str, int]]:
    """Strip comments, split on newlines/';', join continuation lines.

    A byte-order mark opening the text (a model saved by a Windows editor and read as
    UTF-8) is not part of the first name; line ends may be ``\n``, ``\r\n`` or ``\r``."""
    out: list[tuple[str, int]] = []
    pending = ""
    start_no = 0
    for lineno, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for part in line.split(";"):
            part = part.strip()
            if not part:
                continue
            if not pending and out and re.match(r"^(\+|\*)", part):
                # a line that starts with '+' continues the previous statement
                prev, prev_no = out.pop()
                pending, start_no = f"{prev} {part}", prev_no
            elif pending:
                pending = f"{pending} {part}"
            else:
                pending, start_no = part, lineno
            if re.search(r"(\+|\*|=~|~~|~|==|:=|-|/|\^)\s*$", pending):
                continue  # the statement goes on on the next line
            out.append((pending, start_no))
            pending = ""
    if pending:
        out.append((pending, start_no))
    return out


def syntax_error(line: str, lineno: int, expected: str) -> ModelSyntaxError:
    return ModelSyntaxError(f"model syntax error in line {lineno}: {line!r}: {expected}")


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _parse_value(tok: str, line: str, lineno: int):
    tok = tok.strip()
    if tok == "NA":
        return ("free", "NA")
    if _NUMBER.match(tok):
        return ("fixed", float(tok))
    m = re.match(r"^(start|label|equal)\((.*)\)$", tok)
    if m:
        kind, arg = m.groups()
        arg = arg.strip()
        if kind == "start":
            if not _NUMBER.match(arg):
                raise syntax_error(line, lineno, f"start() needs a number, got {arg!r}")
            return ("start", float(arg))
        arg = arg.strip("\"'")
        if kind == "label":
            return ("label", arg)
        return ("equal", arg)
    if (tok.startswith('"') and tok.endswith('"')) or (tok.startswith("'") and tok.endswith("'")):
        return ("label", tok[1:-1])
    if _IDENT.match(tok):
        return ("label", tok)
    raise syntax_error(
        line, lineno, f"cannot read modifier {tok!r}; expected a number, NA, a label, start(...) or c(...)"
    )


def _parse_modifier(text: str, line: str, lineno: int, mod: Modifier) -> None:
    text = text.strip()
    m = re.match(r"^c\((.*)\)$", text)
    values = [_parse_value(t, line, lineno) for t in _split_top(m.group(1), ",")] if m else None
    if values is None:
        values = [_parse_value(text, line, lineno)]
        vector = False
    else:
        vector = True
    kinds = {k for k, _ in values}
    if len(kinds) != 1 and not kinds <= {"fixed", "free"}:
        raise syntax_error(line, lineno, f"c(...) mixes labels and numbers: {text!r}")
    kind = kinds.pop() if len(kinds) == 1 else "fixed"
    vals = [v for _, v in values]
    target = {"fixed": mod.fixed, "free": mod.fixed, "label": mod.label, "start": mod.start, "equal": mod.label}[
        kind
    ]
    if target:
        raise syntax_error(line, lineno, f"modifier {text!r} given twice for the same term")
    target.extend(vals)
    if not vector:
        target.append("__recycle__")


def parse(text: str) -> list[Statement]:
    """Parse lavaan model syntax into flat statements (one per lhs-op-rhs)."""
    if not isinstance(text, str) or not text.strip():
        raise ModelSyntaxError("the model syntax is empty; expected lines like 'F =~ x1 + x2 + x3'")
    statements: list[Statement] = []
    for line, lineno in split_statements(text):
        op = None
        for cand in OPERATORS:
            idx = line.find(cand)
            if idx >= 0 and (op is None or idx < op[1] or (idx == op[1] and len(cand) > len(op[0]))):
                op = (cand, idx)
        if op is None:
            raise syntax_error(
                line, lineno, "no operator found; expected one of '=~', '~~', '~', '==' (e.g. 'F =~ x1 + x2')"
            )
        opname, idx = op
        lhs, rhs = line[:idx].strip(), line[idx + len(opname) :].strip()
        if opname in ("<", ">"):
            if not lhs or not rhs:
                raise syntax_error(line, lineno, "expected 'expression > expression', e.g. 'a > 0'")
            try:
                a_node, b_node = parse_expression(lhs), parse_expression(rhs)
            except _ExprError as exc:
                raise syntax_error(line, lineno, f"cannot read the constraint: {exc}") from None
            # stored as 'expr >= 0'
            node = ("bin", "-", a_node, b_node) if opname == ">" else ("bin", "-", b_node, a_node)
            statements.append(Statement(re.sub(r"\s+", "", lhs), opname, re.sub(r"\s+", "", rhs), Modifier(),
                                        line, lineno, node))
            continue
        if opname == ":=":
            if not _IDENT.match(lhs):
                raise syntax_error(line, lineno, f"expected 'name := expression'; {lhs!r} is not a name")
            try:
                node = parse_expression(rhs)
            except _ExprError as exc:
                raise syntax_error(line, lineno, f"cannot read the expression {rhs!r}: {exc}") from None
            statements.append(Statement(lhs, ":=", re.sub(r"\s+", "", rhs), Modifier(), line, lineno, node))
            continue
        if opname == "==":
            if not lhs or not rhs:
                raise syntax_error(line, lineno, "expected 'expression == expression', e.g. 'a == b' or 'a + b == 1'")
            try:
                node = ("bin", "-", parse_expression(lhs), parse_expression(rhs))
            except _ExprError as exc:
                raise syntax_error(line, lineno, f"cannot read the constraint: {exc}") from None
            statements.append(Statement(re.sub(r"\s+", "", lhs), "==", re.sub(r"\s+", "", rhs), Modifier(),
                                        line, lineno, node))
            continue
        lhs_names = [s.strip() for s in lhs.split("+")]
        efa_of: dict[str, str] = {}
        for k, name in enumerate(lhs_names):
            m_efa = re.match(r"""^efa\s*\(\s*["']([^"']*)["']\s*\)\s*\*\s*(.*)$""", name)
            if m_efa:
                if opname != "=~" or not m_efa.group(1):
                    raise syntax_error(line, lineno, 'efa("block")*factor is allowed only on the left of '
                                       "'=~' and needs a block name, e.g. efa(\"b1\")*F1 + efa(\"b1\")*F2 =~ x1 + x2")
                name = lhs_names[k] = m_efa.group(2).strip()
                efa_of[name] = m_efa.group(1)
            if not _IDENT.match(name):
                raise syntax_error(line, lineno, f"left-hand side {name!r} is not a variable name")
        if not rhs:
            raise syntax_error(line, lineno, f"nothing after {opname!r}; expected variable names joined by '+'")
        for term in _split_top(rhs, "+"):
            if not term:
                raise syntax_error(line, lineno, "empty term (two '+' in a row or a trailing '+')")
            pieces = _split_top(term, "*")
            var = pieces[-1]
            mod = Modifier()
            for piece in pieces[:-1]:
                _parse_modifier(piece, line, lineno, mod)
            if var == "1" and opname == "~":
                op2, var = "~1", ""
            elif not _IDENT.match(var):
                raise syntax_error(line, lineno, f"{var!r} is not a variable name")
            else:
                op2 = opname
            for name in lhs_names:
                statements.append(Statement(name, op2, var, mod, line, lineno, efa=efa_of.get(name, "")))
        if efa_of:  # lavaan's order for an ESEM line: factor by factor (it fixes the echelon pattern)
            mine = [st for st in statements if st.lineno == lineno and st.line == line]
            rest = statements[: len(statements) - len(mine)]
            statements = rest + sorted(mine, key=lambda st: lhs_names.index(st.lhs))
    return statements


# --------------------------------------------------------------------------- partable
def _mod_value(values: list, g: int, ngroups: int, stmt: Statement):
    if not values:
        return None
    if values[-1] == "__recycle__":
        return values[0]
    if len(values) != ngroups:
        raise ModelSyntaxError(
            f"model syntax error in line {stmt.lineno}: {stmt.line!r}: c(...) has {len(values)} "
            f"values but the data have {ngroups} groups"
        )
    return values[g]


def _key(lhs, op, rhs):
    """A parameter's identity within a group ('a ~~ b' is 'b ~~ a')."""
    if op == "~~" and lhs != rhs:
        return (op, frozenset((lhs, rhs)))
    return (op, lhs, rhs)


@dataclass
class _Variables:
    """The model's variables and the roles lavaan's defaults depend on."""

    latent: list[str]
    observed: list[str]
    exo_ov: list[str]  # observed exogenous covariates (lavaan's ov.x)
    exo_lv: list[str]  # latent variables that are not outcomes (their covariances are free)
    lv_y: list[str]  # latent outcomes that predict nothing (lavaan's lv.y)
    single_ind: set[str]  # indicators whose (residual) variance is fixed to 0 (auto.fix.single)


def _variables(stmts: list[Statement]) -> _Variables:
    """Latent and observed variables, in order of appearance; the roles of each; what is not
    supported among regressions and covariances is an error naming the line."""
    latent: list[str] = []
    for s in stmts:
        if s.op == "=~" and s.lhs not in latent:
            latent.append(s.lhs)
    if not latent:
        raise ModelSyntaxError(NO_LATENT)
    observed: list[str] = []

    def add_ov(name):
        if name not in latent and name not in observed:
            observed.append(name)

    for s in stmts:
        if s.op == "=~":
            add_ov(s.rhs)
    indicators = {s.rhs for s in stmts if s.op == "=~"}
    # observed exogenous covariates (lavaan's ov.x): observed predictors in
    # '~' that are not indicators and not outcomes; fixed.x = TRUE: their
    # variances, covariances (and means) are fixed at the sample values
    exo_ov: list[str] = []
    outcomes = {s.lhs for s in stmts if s.op == "~"}
    for s in stmts:
        if s.op != "~":
            continue
        if s.lhs not in latent and s.lhs not in indicators:
            raise SpecificationError(
                f"line {s.lineno}: {s.line!r}: {s.lhs!r} is neither a latent variable nor an indicator; "
                "regressions ('~') of observed outcomes that are not indicators are not supported "
                "(supported: latent ~ latent, latent ~ covariate, indicator ~ covariate)"
            )
        if s.rhs not in latent:
            if s.rhs in indicators or s.rhs in outcomes:
                raise SpecificationError(
                    f"line {s.lineno}: {s.line!r}: {s.rhs!r} is an indicator or an outcome; only exogenous "
                    "observed covariates (not indicators, not regressed on anything) may predict in '~'"
                )
            if s.rhs not in exo_ov:
                exo_ov.append(s.rhs)
        elif s.lhs not in latent:
            raise SpecificationError(
                f"line {s.lineno}: {s.line!r}: an indicator regressed on a latent variable; write it as a "
                f"loading ('{s.rhs} =~ {s.lhs}')"
            )
    for s in stmts:
        if s.op in ("~~", "~1") and (s.lhs in exo_ov or s.rhs in exo_ov):
            raise SpecificationError(
                f"line {s.lineno}: {s.line!r}: {s.lhs if s.lhs in exo_ov else s.rhs!r} is an exogenous covariate "
                "whose variances, covariances and means are fixed at their sample values (lavaan's fixed.x = "
                "TRUE); they cannot be specified in the model"
            )
        if s.op in ("~~", "~1"):
            for name in (s.lhs, s.rhs):
                if name:
                    add_ov(name)
        if s.op == "~~" and ((s.lhs in latent) != (s.rhs in latent)):
            raise SpecificationError(
                f"line {s.lineno}: {s.line!r}: a covariance between a latent and an observed variable is not supported"
            )
    for v in exo_ov:
        add_ov(v)
    endogenous = {s.lhs for s in stmts if s.op == "~"} | {s.rhs for s in stmts if s.op == "=~" and s.rhs in latent}
    exo_lv = [f for f in latent if f not in endogenous]
    # lavaan's lv.y: latent outcomes that predict nothing (pure dependents)
    predictors = {s.rhs for s in stmts if s.op == "~"}
    lv_y = [f for f in latent if f in outcomes and f not in indicators and f not in predictors]
    # auto.fix.single (lavaan::lav_partable_flat): the indicator of a factor
    # with a single '=~' term, if it indicates no other factor, gets its
    # default (residual) variance fixed to 0 -- the factor *is* the indicator.
    mm = [s for s in stmts if s.op == "=~"]
    n_ind = {f: sum(s.lhs == f for s in mm) for f in latent}
    n_rhs = {v: sum(s.rhs == v for s in mm) for v in {s.rhs for s in mm}}
    single_ind = {s.rhs for s in mm if n_ind[s.lhs] == 1 and s.lhs != s.rhs and n_rhs[s.rhs] == 1}
    return _Variables(latent, observed, exo_ov, exo_lv, lv_y, single_ind)


def _group_rows(stmts: list[Statement], v: _Variables, g: int, ngroups: int, std_lv: bool,
                meanstructure: bool) -> list[dict]:
    """The rows of group `g` (0-based): the statements' parameters, then lavaan's defaults for
    those the model does not name (variances, factor covariances, fixed.x, means)."""
    seen: dict = {}
    first_done: set[str] = set()
    grows: list[dict] = []
    efa_lv = {s.lhs for s in stmts if s.op == "=~" and s.efa}  # ESEM factors: variance 1, loadings free
    for s in stmts:
        if s.op in ("==", ":=", "<", ">"):
            continue
        fixed = _mod_value(s.mod.fixed, g, ngroups, s)
        label = _mod_value(s.mod.label, g, ngroups, s)
        start = _mod_value(s.mod.start, g, ngroups, s)
        row = dict(lhs=s.lhs, op=s.op, rhs=s.rhs, user=1, group=g + 1, ustart=np.nan, fixed=False,
                   label=label or "", start=start, _line=s)
        if fixed is not None and fixed != "NA":
            row.update(ustart=float(fixed), fixed=True)
        if s.op == "=~" and s.lhs not in first_done:
            first_done.add(s.lhs)
            if not std_lv and fixed is None and s.lhs not in efa_lv:
                row.update(ustart=1.0, fixed=True)
        k = _key(s.lhs, s.op, s.rhs)
        if k in seen:
            raise syntax_error(s.line, s.lineno, f"parameter '{s.lhs} {s.op} {s.rhs}' is specified twice")
        seen[k] = row
        grows.append(row)

    def default(lhs, op, rhs, ustart=np.nan):
        k = _key(lhs, op, rhs)
        if k in seen:
            return
        row = dict(lhs=lhs, op=op, rhs=rhs, user=0, group=g + 1, ustart=ustart,
                   fixed=not np.isnan(ustart), label="", start=None, _line=None)
        seen[k] = row
        grows.append(row)

    for ov in v.observed:
        if ov not in v.exo_ov:
            default(ov, "~~", ov, 0.0 if ov in v.single_ind else np.nan)
    for f in v.latent:
        default(f, "~~", f, 0.0 if f in v.single_ind else (1.0 if std_lv or f in efa_lv else np.nan))
    for i, f1 in enumerate(v.exo_lv):
        for f2 in v.exo_lv[i + 1 :]:
            default(f1, "~~", f2)
    # auto.cov.y: residual covariances among the dependent latent variables
    for i, f1 in enumerate(v.lv_y):
        for f2 in v.lv_y[i + 1 :]:
            default(f1, "~~", f2)
    # fixed.x: the covariates' (co)variances, fixed; values filled in from the data
    for i, v1 in enumerate(v.exo_ov):
        for v2 in v.exo_ov[i:]:
            default(v1, "~~", v2)
            seen[_key(v1, "~~", v2)].update(fixed=True, exo=1)
    if meanstructure:
        for ov in v.observed:
            default(ov, "~1", "")
            if ov in v.exo_ov:
                seen[_key(ov, "~1", "")].update(fixed=True, exo=1)
        for f in v.latent:
            default(f, "~1", "", 0.0)
    return grows


def _efa_echelon(pt: pd.DataFrame, stmts: list[Statement], ngroups: int) -> None:
    """ESEM blocks (lavaan's ``lav_partable_efa_constraints``): an ``efa`` column; in a block of
    m factors the k-th factor's first k - 1 loadings and the factors' covariances are fixed to 0
    (``user = 7``), which identifies the unrotated solution that is then rotated."""
    if ngroups > 1:
        raise SpecificationError("exploratory (ESEM) blocks, efa(\"block\")*factor, are supported with one "
                                 "group only (no group=)")
    block_of = {s.lhs: s.efa for s in stmts if s.op == "=~" and s.efa}
    for s in stmts:
        if s.op == "=~" and not s.efa and s.lhs in block_of:
            raise syntax_error(s.line, s.lineno, f"factor {s.lhs!r} is in the exploratory block "
                               f"efa({block_of[s.lhs]!r}) elsewhere: give efa(...) on every '=~' line of it")
    lvs_all = {s.lhs for s in stmts if s.op == "=~"}
    for s in stmts:
        if s.op == "=~" and (s.rhs in block_of or (s.efa and s.rhs in lvs_all)):
            raise SpecificationError(
                f"line {s.lineno}: {s.line!r}: exploratory (ESEM) blocks of higher-order factors, or exploratory "
                "factors measured by a higher-order factor, are not supported")
    pt["efa"] = [block_of.get(lhs, "") if op == "=~" else "" for lhs, op in zip(pt["lhs"], pt["op"])]
    for block in dict.fromkeys(block_of.values()):
        lvs = [f for f in dict.fromkeys(pt.loc[(pt["op"] == "=~") & (pt["efa"] == block), "lhs"])]
        if len(lvs) < 2:
            continue
        for k, f in enumerate(lvs):
            idx = np.flatnonzero(((pt["op"] == "=~") & (pt["lhs"] == f)).to_numpy())
            if len(idx) < k:
                raise SpecificationError(f"efa factor {f!r} of block {block!r} has {len(idx)} indicator(s); the "
                                         f"echelon identification of the block needs at least {k}: use fewer "
                                         "factors in the block or more items")
            pt.loc[pt.index[idx[:k]], ["fixed", "ustart", "user"]] = [True, 0.0, 7]
        cov = ((pt["op"] == "~~") & (pt["user"] == 0) & pt["lhs"].isin(lvs) & pt["rhs"].isin(lvs)
               & (pt["lhs"] != pt["rhs"])).to_numpy()
        pt.loc[pt.index[cov], ["fixed", "ustart", "user"]] = [True, 0.0, 7]


class _Equal:
    """Rows constrained equal (union-find; the root of a set is its first row)."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i):
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i, j):
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _partial_keys(group_partial: tuple[str, ...]) -> set:
    """The parameters ``group_partial`` frees from ``group_equal`` ('f1=~x2', 'x3~1')."""
    partial = set()
    for item in group_partial:
        m = re.match(r"^\s*([A-Za-z_.][\w.]*)\s*(=~|~~|~1|~)\s*([A-Za-z_.][\w.]*|1)?\s*$", item)
        if not m:
            raise SpecificationError(f"group_partial: cannot read {item!r}; expected e.g. 'f1=~x2' or 'x3~1'")
        lhs, op, rhs = m.group(1), m.group(2), m.group(3) or ""
        if op == "~" and rhs == "1":
            op, rhs = "~1", ""
        partial.add(_key(lhs, op, rhs))
    return partial


def _equal_labels(pt: pd.DataFrame, eq: _Equal) -> dict[str, list[int]]:
    """Rows sharing a label share one parameter (all fixed if one of them is); label -> rows."""
    free_mask = ~pt["fixed"].to_numpy(bool)
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(pt["label"]):
        if lab:
            by_label.setdefault(lab, []).append(i)
    # labels that name a parameter by 'lhs op rhs' (equal("f=~x2"))
    for idx in by_label.values():
        fr = [i for i in idx if free_mask[i]]
        for i in fr[1:]:
            eq.union(fr[0], i)
        fixed_vals = {pt.at[i, "ustart"] for i in idx if not free_mask[i]}
        if fr and fixed_vals:
            # a label shared by a fixed and a free row: lavaan fixes all of them
            for i in fr:
                pt.at[i, "fixed"] = True
                pt.at[i, "ustart"] = next(iter(fixed_vals))
            free_mask = ~pt["fixed"].to_numpy(bool)
    return by_label


def _equal_groups(pt: pd.DataFrame, eq: _Equal, v: _Variables, ngroups: int,
                  group_equal: tuple[str, ...], partial: set) -> None:
    """group.equal: a free unlabelled parameter of a type in `group_equal` (and not in
    `partial`) is one parameter across the groups, labelled with group 1's plabel."""
    free_mask = ~pt["fixed"].to_numpy(bool)

    def eq_type(r) -> str | None:
        op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
        if op == "=~":
            return "loadings"
        if op == "~":
            return "regressions"
        if op == "~1":
            return "intercepts" if lhs in v.observed else "means"
        if op == "~~":
            if lhs in v.latent:
                return "lv.variances" if lhs == rhs else "lv.covariances"
            return "residuals" if lhs == rhs else "residual.covariances"
        return None

    n = len(pt)
    keyed = {}
    for i in range(n):
        r = pt.iloc[i]
        keyed.setdefault((r["group"], _key(r["lhs"], r["op"], r["rhs"])), i)
    for i in range(n):
        r = pt.iloc[i]
        if r["group"] != 1 or not free_mask[i] or r["label"]:
            continue
        t = eq_type(r)
        k = _key(r["lhs"], r["op"], r["rhs"])
        if t not in group_equal or k in partial:
            continue
        for g in range(2, ngroups + 1):
            j = keyed.get((g, k))
            if j is not None and free_mask[j] and not pt.at[j, "label"]:
                eq.union(i, j)
                pt.at[i, "label"] = pt.at[i, "plabel"]
                pt.at[j, "label"] = pt.at[i, "plabel"]


def _constraint_statements(stmts: list[Statement], lab_rows: dict[str, list[int]], eq: _Equal):
    """Check the ':=', '<'/'>' and '==' statements against the labels; 'label == label' shares
    one parameter (`eq`); returns (definitions, general '==' statements, inequalities)."""
    defined: list[Statement] = []
    for s in stmts:
        if s.op != ":=":
            continue
        if s.lhs in lab_rows or any(d.lhs == s.lhs for d in defined):
            raise syntax_error(s.line, s.lineno, f"{s.lhs!r} is already a label or a defined parameter")
        known = set(lab_rows) | {d.lhs for d in defined}
        unknown = [n for n in expression_names(s.expr) if n not in known]
        if unknown:
            raise syntax_error(
                s.line, s.lineno,
                f"{unknown[0]!r} is not a label used in the model (nor a parameter defined above this line)",
            )
        defined.append(s)
    general: list[Statement] = []
    inequalities = [s for s in stmts if s.op in ("<", ">")]
    for s in inequalities:
        unknown = [n for n in expression_names(s.expr) if n not in set(lab_rows) | {d.lhs for d in defined}]
        if unknown:
            raise syntax_error(s.line, s.lineno, f"{unknown[0]!r} is not a label used in the model")
    for s in stmts:
        if s.op != "==":
            continue
        known = set(lab_rows) | {d.lhs for d in defined}
        unknown = [n for n in expression_names(s.expr) if n not in known]
        if unknown:
            raise syntax_error(s.line, s.lineno, f"{unknown[0]!r} is not a label used in the model")
        left, right = lab_rows.get(s.lhs), lab_rows.get(s.rhs)
        if left is not None and right is not None:
            eq.union(left[0], right[0])
        else:
            general.append(s)
    return defined, general, inequalities


def _number_free(pt: pd.DataFrame, eq: _Equal) -> int:
    """The 'free' column: 1-based parameter numbers, shared by equal rows (0 = fixed); the
    free rows' ustart is NaN.  Returns the number of distinct free parameters."""
    free_mask = ~pt["fixed"].to_numpy(bool)
    roots: dict[int, int] = {}
    free = np.zeros(len(pt), dtype=int)
    for i in range(len(pt)):
        if free_mask[i]:
            r = eq.find(i)
            if r not in roots:
                roots[r] = len(roots) + 1
            free[i] = roots[r]
    pt["free"] = free
    pt["ustart"] = pt["ustart"].where(~free_mask, np.nan)
    return len(roots)


def _linear_constraints(pt: pd.DataFrame, nfree: int, first_row: dict[str, int], defined: list,
                        general: list, inequalities: list):
    """Rows of A x = b ('==' other than label == label) and G x >= h ('<', '>') over the
    distinct free parameters x; nonlinear constraints are an error naming the line."""
    free = pt["free"].to_numpy()
    a_rows, b_vals = [], []
    g_rows, h_vals = [], []
    if general or inequalities:
        env: dict[str, tuple[float, dict]] = {}
        for lab, i in first_row.items():
            env[lab] = (0.0, {int(free[i]): 1.0}) if free[i] > 0 else (float(pt.at[i, "ustart"]), {})
        for d in defined:
            try:
                env[d.lhs] = linear_form(d.expr, env)
            except _NonLinear:
                env[d.lhs] = None
        known = {k: v for k, v in env.items() if v is not None}

        def linear_row(s, kind: str, examples: str):
            """(coefficients over the free parameters, constant) of a linear constraint."""
            try:
                const, coef = linear_form(s.expr, known)
            except (_NonLinear, KeyError):
                raise syntax_error(
                    s.line, s.lineno,
                    f"only linear {kind} constraints are supported ({examples}); this one is nonlinear "
                    "in the parameters",
                ) from None
            row = np.zeros(nfree)
            for k, v in coef.items():
                row[k - 1] += v
            return row, const

        for s in general:
            row, const = linear_row(s, "equality", "e.g. 'a == b', 'a == 2*b', 'a + b == 1'")
            if not np.any(row != 0):
                if abs(const) > 1e-12:
                    raise SpecificationError(
                        f"line {s.lineno}: {s.line!r}: the constraint involves no free parameter and "
                        f"does not hold (difference {const:.6g})"
                    )
                continue
            a_rows.append(row)
            b_vals.append(-const)
        for s in inequalities:
            row, const = linear_row(s, "inequality", "e.g. 'a > 0', 'a < b'")
            if not np.any(row != 0):
                raise SpecificationError(f"line {s.lineno}: {s.line!r}: the constraint involves no free parameter")
            g_rows.append(row)  # row @ x + const >= 0
            h_vals.append(-const)
    return ((np.array(a_rows).reshape(len(a_rows), nfree), np.array(b_vals, dtype=float)),
            (np.array(g_rows).reshape(len(g_rows), nfree), np.array(h_vals, dtype=float)))


def build_partable(
    text: str,
    *,
    ngroups: int = 1,
    std_lv: bool = False,
    meanstructure: bool = False,
    group_equal: tuple[str, ...] = (),
    group_partial: tuple[str, ...] = (),
    with_extras: bool = False,
):
    """Build a lavaan-like parameter table.

    Returns ``(partable, observed, latent)``, and with ``with_extras=True``
    also a dict: ``constraints`` ``(A, b, texts)`` (general linear equality
    constraints ``A x = b`` over the distinct free parameters ``x``, one row
    per ``==`` that is not 'label == label' or 'label == number'),
    ``definitions`` (``(name, rhs text, expression tree)`` per ``:=``, in
    order) and ``label_rows`` (label or plabel -> first row carrying it).  Columns: ``id, lhs, op, rhs,
    user, group, free, ustart, label, plabel, start, eq`` where ``free`` is
    the 1-based index of the estimated parameter (0 = fixed), shared by rows
    that are constrained equal (lavaan numbers them apart and adds ``==``
    rows; the estimates and standard errors are the same).

    The phases: statements -> variables (:func:`_variables`) -> rows per group with lavaan's
    defaults (:func:`_group_rows`) -> equal parameters (labels, ``group_equal``, 'label ==
    label') -> parameter numbers (:func:`_number_free`) -> linear constraints.

    The table of a given model text and options is built once per process (a
    repeated fit, a bootstrap or an invariance ladder rebuild the same tables);
    every call returns its own copies, so callers may modify what they get.
    """
    group_equal = (group_equal,) if isinstance(group_equal, str) else tuple(group_equal)
    group_partial = (group_partial,) if isinstance(group_partial, str) else tuple(group_partial)
    key = (text, int(ngroups), bool(std_lv), bool(meanstructure), group_equal, group_partial)
    try:
        hash(key)
    except TypeError:  # not a plain string model: built each time
        built = _build_partable(*key)
    else:
        built = _build_partable_cached(*key)
    pt, observed, latent, extras = built
    pt = pt.copy(deep=True)
    observed, latent = list(observed), list(latent)
    if not with_extras:
        return pt, observed, latent
    (a, b, con_text), (gm, h, ineq_text) = extras["constraints"], extras["inequalities"]
    extras = {
        "constraints": (a.copy(), b.copy(), list(con_text)),
        "inequalities": (gm.copy(), h.copy(), list(ineq_text)),
        # (name, rhs text, expression tree): tuples of strings, numbers and tuples
        "definitions": list(extras["definitions"]),
        "label_rows": dict(extras["label_rows"]),
        "exo": list(extras["exo"]),
    }
    return pt, observed, latent, extras


def _build_partable(text: str, ngroups: int, std_lv: bool, meanstructure: bool,
                    group_equal: tuple[str, ...], group_partial: tuple[str, ...]):
    """:func:`build_partable` itself: ``(partable, observed, latent, extras)``."""
    stmts = parse(text)
    for ge in group_equal:
        if ge not in GROUP_EQUAL_TYPES:
            raise SpecificationError(f"group_equal: unknown type {ge!r}; allowed: {', '.join(GROUP_EQUAL_TYPES)}")
    v = _variables(stmts)
    observed, latent = v.observed, v.latent
    rows: list[dict] = []
    for g in range(ngroups):
        rows.extend(_group_rows(stmts, v, g, ngroups, std_lv, meanstructure))
    pt = pd.DataFrame(rows)
    pt["exo"] = (pt["exo"].fillna(0).astype(int) if "exo" in pt else 0)
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["plabel"] = [f".p{i}." for i in pt["id"]]

    if any(s.efa for s in stmts):
        _efa_echelon(pt, stmts, ngroups)
    # ---- group.equal / group.partial: free latent means when intercepts are equal
    partial = _partial_keys(group_partial)
    if ngroups > 1 and "intercepts" in group_equal and "means" not in group_equal:
        sel = (pt["op"] == "~1") & pt["lhs"].isin(latent) & (pt["group"] > 1) & (pt["user"] == 0)
        pt.loc[sel, "fixed"] = False
        pt.loc[sel, "ustart"] = np.nan
    # ---- equal parameters: shared labels, group.equal, 'label == label'
    eq = _Equal(len(pt))
    by_label = _equal_labels(pt, eq)
    if ngroups > 1 and group_equal:
        _equal_groups(pt, eq, v, ngroups, group_equal, partial)
    # any other linear '==' constraint ('a == 0.5', 'a == 2*b', 'a + b == 1') is kept as a
    # row of A x = b over the distinct free parameters and imposed by
    # reparametrisation (custval._sem.model.SemModel.set_constraints); the
    # rows stay free, as in lavaan's parameter table.
    lab_rows: dict[str, list[int]] = {lab: list(idx) for lab, idx in by_label.items()}
    for i, pl in enumerate(pt["plabel"]):
        lab_rows.setdefault(pl, [i])
    defined, general, inequalities = _constraint_statements(stmts, lab_rows, eq)
    nfree = _number_free(pt, eq)
    # label -> first row with that label (its value is the parameter's value)
    first_row = {lab: idx[0] for lab, idx in lab_rows.items()}
    (a, b), (gm, h) = _linear_constraints(pt, nfree, first_row, defined, general, inequalities)
    extras = {
        "constraints": (a, b, [f"{s.lhs} == {s.rhs}" for s in general]),
        "inequalities": (gm, h, [f"{s.lhs} {s.op} {s.rhs}" for s in inequalities]),
        "definitions": [(d.lhs, d.rhs, d.expr) for d in defined],
        "label_rows": first_row,
        "exo": list(v.exo_ov),
    }
    pt = pt.drop(columns=["fixed"])
    return pt, observed, latent, extras


# the tables of recent (model text, options): a pure function of immutable arguments, whose
# results are only handed out as copies (build_partable)
_build_partable_cached = functools.lru_cache(maxsize=128)(_build_partable)
