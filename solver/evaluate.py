"""Forward evaluation: every quantity whose inputs are known, in topological order.

Values stay exact (sympy Rationals) while the arithmetic allows; anything
transcendental, and any power too large to hold exactly, becomes a 30-digit
Float (arbitrary exponent, so past a float's range it is still right). A value
that is not a real number (1/0, sqrt or log of a negative) is undefined, with
the reason in `Evaluator.undefined`, and so is everything that reads it. A
quantity that reads an unknown is left out of the values (its formula still
composes symbolically, see `compose`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import sympy

from lang.exprbuild import minmax
from lang.graph import Graph
from lang.lower import power_of_numbers
from solver.inline import Inliner

Values = dict[str, sympy.Expr]


def _settle(expr: sympy.Basic) -> sympy.Basic:
    """A number stays exact when rational; otherwise it becomes a Float."""
    if isinstance(expr, sympy.logic.boolalg.BooleanAtom):
        return expr
    if expr.is_Rational:
        # Exact while it stays small; a rational of thousands of digits only slows every step after.
        if expr.q.bit_length() > 512 or expr.p.bit_length() > 512:  # type: ignore[attr-defined]
            return sympy.Float(expr, 30)
        return expr
    if expr.is_Float:
        return expr
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        # a number that does not exist (1/0, log(0)) is nan, which every later step carries
        # without raising; a formula still holding symbols keeps its other branches
        return sympy.nan if expr.is_number else expr
    if expr.is_number:
        # maxn: `floor(exp(600))` needs all 261 digits of its argument to find the integer part
        value = sympy.Float(expr.evalf(30, maxn=_MAX_EVALF_PRECISION), 30)
        if value.is_real is False or value.has(sympy.I):
            return sympy.nan            # `sqrt(a)` with a < 0: no real value
        return value
    return expr


_MAX_EVALF_PRECISION = 4000     # bits: enough for any number below 1e1000 (the literals' limit)


def substitute(expr: sympy.Basic, values: Mapping[sympy.Symbol, sympy.Basic]) -> sympy.Basic:
    """Put numbers into a formula; an undefined result (max of 1/0, say) becomes nan, not an exception."""
    try:
        return _settle(_replace(expr, values))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return sympy.nan


KEEP_POINTS = 16


def decide(truth: sympy.Basic) -> bool | None:
    """A relation between two constants that sympy left undecided, decided in more digits.

    sympy compares at 15 digits and gives up where a side needs more to settle its integer part
    (`floor(exp(1000)) != 1`: a 435-digit number). Each side is evaluated at 30, 200 and then
    1200 digits; the relation is decided once the sides differ by more than that precision can
    blur. Two sides equal to every digit tried stay undecided (None), never guessed.

    >>> decide(sympy.Ne(sympy.floor(sympy.exp(1000)), 1, evaluate=False))
    True
    """
    if isinstance(truth, sympy.logic.boolalg.BooleanAtom):
        return bool(truth)
    if not isinstance(truth, sympy.core.relational.Relational):
        return None
    lhs, rhs = truth.lhs, truth.rhs
    if not (lhs.is_number and rhs.is_number):
        return None
    for digits in (30, 200, 1200):
        try:
            a, b = sympy.N(lhs, digits), sympy.N(rhs, digits)
            if not (a.is_real and b.is_real):
                return None
            gap = abs(a - b)
            if gap > abs(a + b) * sympy.Float(10) ** (10 - digits) + sympy.Float(10) ** (-digits):
                return bool(type(truth)(a, b))
        except (TypeError, ValueError, ArithmeticError):
            continue
    return None


def _replace(expr: sympy.Basic, values: Mapping[sympy.Symbol, sympy.Basic]) -> sympy.Basic:
    """`expr.xreplace(values)`, except that a power of two numbers too large to hold exactly
    (`a ^ b` with a = 3, b = 10^8) becomes a 30-digit Float instead of taking minutes, and a
    max or min still holding symbols is built without sympy's needless pairwise proofs
    (`solver.inline.minmax`: the same expression, a fraction of the time)."""
    if not expr.has(sympy.Pow, sympy.Max, sympy.Min):
        return expr.xreplace(values)
    if expr in values:
        return values[expr]  # type: ignore[index]
    if not expr.args:
        return expr
    args = [_replace(a, values) for a in expr.args]
    if isinstance(expr, sympy.Pow):
        power = power_of_numbers(args[0], args[1])  # type: ignore[arg-type]
        if power is not None:
            return power
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    if isinstance(expr, (sympy.Max, sympy.Min)):
        return minmax(type(expr), tuple(args))
    return expr.func(*args)


def why_undefined(expr: sympy.Basic, values: Mapping[sympy.Symbol, sympy.Basic]) -> str:
    """Why a formula has no value at these inputs, in words (called only when it has none)."""
    try:
        raw = _replace(expr, values)
    except (ValueError, TypeError):
        return "undefined: not a real number"
    except ArithmeticError:           # OverflowError, sympy's PrecisionExhausted
        return "undefined: too large to compute"
    if raw.has(sympy.zoo):
        return "undefined: a division by zero (or the logarithm of zero)"
    if raw.has(sympy.nan, sympy.oo, -sympy.oo):
        return "undefined: not a finite number"
    if raw.has(sympy.I) or raw.is_real is False:
        return "undefined: not a real number (a square root, logarithm or fractional power of a negative number)"
    return "undefined: too large to compute"


class Evaluator:
    """Evaluates a graph given values for some unknowns and choices."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.order = graph.upstream(list(graph.nodes))
        self.undefined: dict[str, str] = {}
        # the last few points evaluated, each with what was undefined AT that point (a point a
        # solver probed, e.g. a queue at saturation, must not leave its reasons behind)
        self._known: dict[tuple[object, ...], tuple[Values, dict[str, str]]] = {}
        # each node's composed formula per (free, fixed): a solver composes every requirement's
        # two sides over the same upstream quantities, each of which is composed once
        self._composed: dict[tuple[object, ...], dict[str, sympy.Basic]] = {}

    def values(self, fixed: Mapping[str, sympy.Expr] | None = None,
               only: Iterable[str] | None = None) -> Values:
        """Numbers for every node that can be computed (or those `only` needs).

        Exact evaluation is the cost of a derivation; the same point asked again (the answer of
        a goal asked twice, `eval` after `solve`) is served from the last few computed.
        """
        fixed = dict(fixed or {})
        key = (tuple(sorted(fixed.items(), key=lambda kv: kv[0])), None if only is None else tuple(only))
        found = self._known.get(key)
        if found is None:
            self.undefined = {}
            found = (self._values(fixed, only), self.undefined)
            if len(self._known) >= KEEP_POINTS:
                self._known.pop(next(iter(self._known)))
            self._known[key] = found
        self.undefined = dict(found[1])
        return dict(found[0])

    def _values(self, fixed: dict[str, sympy.Expr], only: Iterable[str] | None) -> Values:
        order = self.graph.upstream(list(only)) if only is not None else self.order
        known: Values = {}
        undefined_here: set[str] = set()
        nodes = self.graph.nodes
        for name in order:
            node = nodes[name]
            if name in fixed:
                known[name] = fixed[name]
                continue
            if node.kind == "input":
                assert node.expr is not None
                known[name] = node.expr if node.expr.is_Rational else substitute(node.expr, {})
            elif node.kind == "derived":
                # what reads an undefined quantity is undefined, and says which
                bad = next((d for d in node.deps if d in undefined_here), None)
                if bad is not None:
                    undefined_here.add(name)
                    # name the root cause: `c = b + 1` with `b = 1/0` reads `b`, a division by zero
                    why = self.undefined.get(bad, "")
                    self.undefined[name] = why if why.startswith("undefined: reads `") else \
                        f"undefined: reads `{bad}`, " + (why.removeprefix("undefined: ") or "which is undefined")
                    continue
                if all(d in known for d in node.deps):
                    assert node.expr is not None
                    inputs = {nodes[d].symbol: known[d] for d in node.deps}
                    value = substitute(node.expr, inputs)
                    if isinstance(value, sympy.Basic) and value.has(sympy.zoo, sympy.nan, sympy.oo):
                        undefined_here.add(name)
                        self.undefined[name] = why_undefined(node.expr, inputs)
                        continue
                    if value.is_number or isinstance(value, sympy.logic.boolalg.BooleanAtom):
                        known[name] = value
        return known

    def compose(self, target: str | sympy.Basic, free: Iterable[str],
                fixed: Mapping[str, sympy.Expr] | None = None) -> sympy.Basic:
        """The target as a formula in the free quantities only, everything else a number."""
        free = set(free)
        fixed = dict(fixed or {})
        nodes = self.graph.nodes
        if isinstance(target, str):
            roots = [target]
        else:
            roots = sorted(str(s) for s in target.free_symbols if str(s) in nodes)
        key = (tuple(sorted(free)), tuple(sorted(fixed.items(), key=lambda kv: kv[0])))
        formula = self._composed.get(key)
        if formula is None:
            if len(self._composed) >= KEEP_POINTS:
                self._composed.pop(next(iter(self._composed)))
            formula = self._composed[key] = {}
        for name in self.graph.upstream(roots):
            node = nodes[name]
            if name in formula:
                continue
            if name in free:
                formula[name] = node.symbol
            elif name in fixed:
                formula[name] = fixed[name]
            elif node.kind in ("input", "derived"):
                assert node.expr is not None
                formula[name] = substitute(node.expr, {nodes[d].symbol: formula[d] for d in node.deps})
            else:
                formula[name] = node.symbol   # an unknown nobody fixed: stays a symbol
        if isinstance(target, str):
            return formula[target]
        return substitute(target, {nodes[n].symbol: formula[n] for n in roots})

    def free_of(self, names: Iterable[str]) -> list[str]:
        """The unknowns and choices the given nodes depend on."""
        nodes = self.graph.nodes
        return [n for n in self.graph.upstream(list(names)) if nodes[n].kind in ("unknown", "choice")]


def lambdify(expr: sympy.Basic, variables: list[sympy.Symbol], cse: bool = False) -> Callable[..., object]:
    """Compile once to NumPy; the solver and sweeps call the result on whole arrays.

    Common-subexpression elimination costs compile time and pays off only over many points:
    sweeps ask for it, the solver's few-thousand-point grids do not.
    """
    # 1/0 left in a formula (an input set to zero) is undefined: NumPy's nan, not a printer error.
    try:
        expr = expr.xreplace({sympy.zoo: sympy.nan})
    except (ValueError, TypeError):      # max(nan, ...) cannot even be built: undefined throughout
        return _undefined
    _numpy_namespace()
    renamed = _renaming_printer(expr, variables)
    if renamed is None:
        expr, variables = _plain_names(expr, variables)
        printer = None
    else:
        variables, printer = renamed
    return sympy.lambdify(variables, expr, modules="numpy", cse=cse, printer=printer)  # type: ignore[no-any-return]


def _renaming_printer(expr: sympy.Basic, variables: list[sympy.Symbol]
                      ) -> tuple[list[sympy.Symbol], object] | None:
    """Plain-named arguments, and lambdify's own NumPy printer printing the variables they stand
    for (named like `chat.batch`) by their names: the code `_plain_names` gives, without
    rebuilding the formula (None: no variable needs it, or one is not a plain symbol)."""
    if all(v.name.isidentifier() for v in variables if isinstance(v, sympy.Symbol)):
        return None
    if not all(isinstance(v, sympy.Symbol) and not isinstance(v, sympy.Dummy) for v in variables):
        return None
    taken = {s.name for s in expr.free_symbols}
    plain = [v if v.name.isidentifier() else sympy.Symbol(f"_infer_arg{i}", **v.assumptions0)
             for i, v in enumerate(variables)]
    if any(p.name in taken for p, v in zip(plain, variables) if p is not v):
        return None
    names = {v: p.name for v, p in zip(variables, plain) if p is not v}
    # the settings lambdify gives the printer it makes for modules="numpy"
    printer = _printer_class()({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                                "user_functions": {}}, names)
    return plain, printer


_PRINTER: list[type] = []


def _printer_class() -> type:
    if not _PRINTER:
        from sympy.printing.numpy import NumPyPrinter

        class RenamingPrinter(NumPyPrinter):      # type: ignore[misc]
            def __init__(self, settings: dict[str, object], names: dict[sympy.Symbol, str]):
                super().__init__(settings)
                self.names = names

            def _print_Symbol(self, expr: sympy.Symbol) -> str:
                found = self.names.get(expr)
                return found if found is not None else super()._print_Symbol(expr)  # type: ignore[no-any-return]

        _PRINTER.append(RenamingPrinter)
    return _PRINTER[0]


def _plain_names(expr: sympy.Basic, variables: list[sympy.Symbol]) -> tuple[sympy.Basic, list[sympy.Symbol]]:
    """Variables named like `chat.batch` renamed to identifiers before lambdify sees them.

    lambdify renames such a variable itself, with `xreplace`, which rebuilds every max and min
    of the formula through sympy's slow pairwise proofs (half of a first question's compile
    time); `solver.inline` rebuilds them to the same expressions without. The compiled code
    differs only in the argument's name."""
    if all(v.name.isidentifier() for v in variables if isinstance(v, sympy.Symbol)):
        return expr, variables
    if not all(isinstance(v, sympy.Symbol) and not isinstance(v, sympy.Dummy) for v in variables):
        return expr, variables
    taken = {s.name for s in expr.free_symbols}
    plain = [v if v.name.isidentifier() else sympy.Symbol(f"_infer_arg{i}", **v.assumptions0)
             for i, v in enumerate(variables)]
    if any(p.name in taken for p, v in zip(plain, variables) if p is not v):
        return expr, variables
    rule = {v: p for v, p in zip(variables, plain) if p is not v}
    return Inliner().replace(expr, rule), plain


def _numpy_namespace() -> None:
    """Fill sympy's NumPy namespace for lambdify as its own `from numpy import *` would, less the
    twelve lazily loaded NumPy submodules that star-import drags in (`testing`, `f2py`, `random`,
    `polynomial`, `ma`, `fft`...: ~90 ms of CPU at every start, a tenth of a new question's time).
    No printed formula names a submodule; names, translations and `Abs` are as sympy sets them.
    Where sympy's internals are not the expected ones, lambdify fills the namespace itself."""
    import sys

    import numpy
    import numpy.linalg

    lam = sys.modules.get("sympy.utilities.lambdify")
    entry = getattr(lam, "MODULES", {}).get("numpy")
    if not (isinstance(entry, tuple) and len(entry) == 4):
        return
    namespace, default, translations, commands = entry
    if namespace != default or commands != ("import numpy; from numpy import *; from numpy.linalg import *",):
        return          # filled already, or a sympy that imports otherwise: leave it to sympy
    loaded = vars(numpy)
    namespace["numpy"] = numpy
    namespace.update({n: loaded[n] for n in numpy.__all__ if n in loaded})
    namespace.update({n: getattr(numpy.linalg, n) for n in numpy.linalg.__all__})
    for sympy_name, numpy_name in translations.items():
        namespace[sympy_name] = namespace[numpy_name]
    namespace.setdefault("Abs", abs)


def _undefined(*args: object) -> object:
    import numpy as np

    first = np.asarray(args[0], dtype=float) if args else np.zeros(())
    return np.full(first.shape, np.nan)

