"""Static types of TBEL expressions, where they are certain, so that the code generator can write
plain JavaScript for them instead of a runtime call per operator.

A typed expression is a `Typed` string of JS with a representation:

- ``int``: a plain JS number that is a Java Integer, with a known range [lo, hi] inside 32 bits
  (so `+ - *` on it are written plain only when the result range proves no overflow: MVEL
  promotes an overflowing int to a Long);
- ``ub``: an unsigned byte 0..255 read straight from the decoder's payload, standing for the Java
  Byte of the same bits (signed -128..127): never stored as it is, boxed by `canon`;
- ``dbl``: a plain JS number with Double semantics, not yet boxed (a Double that happens to be
  integral must become a TbDouble box, "2.0", when it is stored or passed on: `canon` does that);
- ``str``: a JS string.

Everything else is untyped (a plain ``str``): the runtime's generic operators decide at run time,
as before. Only what cannot be wrong is typed; each rule below says which Java rule it follows
(MathProcessor: int op int stays int unless it overflows, `/` of ints is a Double, mixed types
are computed in double and cast to the wider box; bitwise ops on Byte/Integer give an Integer).
"""

from collections.abc import Callable

__all__ = ["Typed", "TypesMixin", "binary", "canon", "cond", "join_ranges", "INT_MIN", "INT_MAX"]

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
_NUMERIC = ("int", "ub", "dbl")


class Typed(str):
    """JS text with its representation ("int", "ub", "dbl", "str") and, for ints, its range."""

    ty: str
    lo: int
    hi: int
    boxed: "Callable[[], str] | None"  # makes the canonical JS when it is not computed from this one

    def __new__(cls, js: str, ty: str, lo: int = INT_MIN, hi: int = INT_MAX, boxed=None):
        self = super().__new__(cls, js)
        self.ty, self.lo, self.hi, self.boxed = ty, lo, hi, boxed
        return self


def ty(js) -> str | None:
    return getattr(js, "ty", None)


def canon(js) -> str:
    """The value as every untyped consumer expects it: bytes and doubles boxed."""
    t = ty(js)
    if t is None:
        return js
    if js.boxed is not None:
        return js.boxed()  # a shared constant, declared only when some consumer needs it
    if t == "ub":
        return f"__t.B({js})"
    if t == "dbl":
        return f"__t.D({js})"
    return str(js)


def _int(js, lo, hi) -> Typed | None:
    return Typed(js, "int", lo, hi) if INT_MIN <= lo <= hi <= INT_MAX else None


def _as_int(js) -> tuple[str, int, int] | None:
    """An Integer view: ints as they are, a payload byte as its signed value (bitwise and
    arithmetic on a Byte use its signed value, MathProcessor's `a.v`)."""
    t = ty(js)
    if t == "int":
        return str(js), js.lo, js.hi
    if t == "ub":
        return f"(({js} << 24) >> 24)", -128, 127
    return None


def _bits_hi(hi: int) -> int:
    return (1 << max(hi, 0).bit_length()) - 1


def _bitwise(op, a, b) -> Typed | None:
    if op == "&" and ty(a) == "ub" and ty(b) == "int" and 0 <= b.lo and b.hi <= 255:
        return Typed(f"({a} & {b})", "int", 0, b.hi)  # (byte & 0xFF): the unsigned bits
    if op == "&" and ty(b) == "ub" and ty(a) == "int" and 0 <= a.lo and a.hi <= 255:
        return Typed(f"({a} & {b})", "int", 0, a.hi)
    x, y = _as_int(a), _as_int(b)
    if x is None or y is None:
        return None
    (xa, xlo, xhi), (ya, ylo, yhi) = x, y
    if op == "&":
        his = [h for lo, h in ((xlo, xhi), (ylo, yhi)) if lo >= 0]
        lo, hi = (0, min(his)) if his else (INT_MIN, INT_MAX)
        return Typed(f"({xa} & {ya})", "int", lo, hi)
    if op in ("|", "^"):
        lo, hi = (0, _bits_hi(max(xhi, yhi))) if xlo >= 0 and ylo >= 0 else (INT_MIN, INT_MAX)
        return Typed(f"({xa} {op} {ya})", "int", lo, hi)
    shift = ylo if ylo == yhi and 0 <= ylo <= 31 else None
    if op == "<<":
        if shift is not None and xlo >= 0 and (xhi << shift) <= INT_MAX:
            return Typed(f"({xa} << {ya})", "int", xlo << shift, xhi << shift)
        return Typed(f"({xa} << {ya})", "int")
    if op == ">>":
        if shift is not None:
            return Typed(f"({xa} >> {ya})", "int", xlo >> shift, xhi >> shift)
        return Typed(f"({xa} >> {ya})", "int")
    if op == ">>>":
        if xlo >= 0 and shift is not None:
            return Typed(f"({xa} >>> {ya})", "int", xlo >> shift, xhi >> shift)
        if shift is not None and shift > 0:
            return Typed(f"({xa} >>> {ya})", "int", 0, (1 << (32 - shift)) - 1)
        return Typed(f"(({xa} >>> {ya}) | 0)", "int")
    return None


def _arith(op, a, b) -> Typed | None:
    ta, tb = ty(a), ty(b)
    if "ub" in (ta, tb):
        # Byte with Integer goes through double and is cast back (d2i saturates): typed only
        # when it stays in range; Byte / anything is left to the runtime.
        if op == "/" or "dbl" in (ta, tb):
            return None
    if ta == "dbl" or tb == "dbl":
        if ta in _NUMERIC and tb in _NUMERIC and "ub" not in (ta, tb):
            return Typed(f"({a} {op} {b})", "dbl")  # mixed or Double: double, boxed as Double
        return None
    x, y = _as_int(a), _as_int(b)
    if x is None or y is None:
        return None
    (xa, xlo, xhi), (ya, ylo, yhi) = x, y
    if op == "/":
        return Typed(f"({xa} / {ya})", "dbl")  # int / int is a Double in MVEL
    if op == "%":
        if ylo == yhi and ylo != 0:
            m = abs(ylo) - 1
            return _int(f"({xa} % {ya})", 0 if xlo >= 0 else -m, m if xhi > 0 else 0)
        return None
    if op == "+":
        return _int(f"({xa} + {ya})", xlo + ylo, xhi + yhi)
    if op == "-":
        return _int(f"({xa} - {ya})", xlo - yhi, xhi - ylo)
    if op == "*":
        corners = [xlo * ylo, xlo * yhi, xhi * ylo, xhi * yhi]
        return _int(f"({xa} * {ya})", min(corners), max(corners))
    return None


def _numeric_view(js) -> str | None:
    t = ty(js)
    if t in ("int", "dbl"):
        return str(js)
    if t == "ub":
        return f"(({js} << 24) >> 24)"
    return None


def binary(op: str, a, b) -> Typed | str | None:
    """Plain JS for `a op b` when both sides' types make the Java result certain, else None."""
    if op in ("&", "|", "^", "<<", ">>", ">>>"):
        return _bitwise(op, a, b)
    if op in ("+", "-", "*", "/", "%"):
        if op == "+" and ty(a) == "str" and ty(b) == "str":
            return Typed(f"({a} + {b})", "str")
        return _arith(op, a, b)
    x, y = _numeric_view(a), _numeric_view(b)
    if x is None or y is None:
        if ty(a) == "str" and ty(b) == "str" and op in ("==", "===", "!=", "!=="):
            return f"({a} {'===' if op in ('==', '===') else '!=='} {b})"
        return None
    if op in ("<", ">", "<=", ">="):
        return f"({x} {op} {y})"
    if op in ("==", "==="):
        return f"({x} === {y})"
    if op in ("!=", "!=="):
        return f"({x} !== {y})"
    return None


def join_ranges(values) -> tuple[int, int] | None:
    """The range of an int variable or function result from every value it may take, or None."""
    lo = hi = None
    for v in values:
        if ty(v) != "int":
            return None
        lo = v.lo if lo is None else min(lo, v.lo)
        hi = v.hi if hi is None else max(hi, v.hi)
    return None if lo is None else (lo, hi)


def cond(test: str, a, b) -> Typed | None:
    """`test ? a : b` keeps a representation both branches share."""
    ta, tb = ty(a), ty(b)
    if ta == tb == "int":
        return Typed(f"({test} ? {a} : {b})", "int", min(a.lo, b.lo), max(a.hi, b.hi))
    if ta == tb and ta in ("dbl", "str"):
        return Typed(f"({test} ? {a} : {b})", ta)
    return None


class TypesMixin:
    """What a code-generation pass records and reads for typing (a mixin of codegen.Generator)."""

    def assigned(self, js: str, value) -> None:
        self.assigns.setdefault(js, []).append(value)

    def bind_params(self, name: str, args) -> None:
        """A call of the script's function ``name`` with these typed arguments binds each of its
        definitions' parameters, as an assignment would: a parameter is typed only if every call
        passes it an int (a missing argument is null). ``args`` None: the function is used as a
        value, so its parameters may take anything."""
        from converters.tbel.codegen import safe

        for params in self.functions.get(name, ()):
            for k, param in enumerate(params):
                self.assigned(safe(param), args[k] if args is not None and k < len(args) else None)

    def param_guesses(self) -> dict:
        """For a first pass: int ranges of the parameters that only this pass's own untyped reads
        of parameters kept from a range (``s16(i) { u16(i) }``): a pass cannot prove them from
        nothing, so the next one assumes them and keeps them only if its own findings agree."""
        from converters.tbel.codegen import safe

        params = {safe(p) for defs in self.functions.values() for ps in defs for p in ps}
        guesses = {}
        for js in params - self.shared_reads:
            values = self.assigns.get(js, ())
            grounded = [v for v in values if not (ty(v) is None and v in params)]
            if grounded and len(grounded) < len(values) and (known := join_ranges(grounded)):
                guesses[js] = known
        return guesses

    def typed_name(self, name: str, js: str):
        fn = self.fn
        if fn is not self.root and not any(name in scope for scope in fn.scopes):
            self.shared_reads.add(js)
            return js
        known = self.var_types.get(js)
        return Typed(js, "int", *known) if known else js

    def payload_byte(self, index):
        """`payload[i]` of a decoder that never changes or hands on its payload: the unsigned byte
        as it arrived (typing "ub"), bounds-checked as the list would be."""
        if ty(index) == "int":
            x = self.fn.temp("x")
            if _plain(index):
                return Typed(f"(({x} = payload[{index}]) !== undefined ? {x} : __t.pslow(payload, {index}))", "ub")
            j = self.fn.temp("j")
            return Typed(f"(({x} = payload[{j} = {index}]) !== undefined ? {x} : __t.pslow(payload, {j}))", "ub")
        return Typed(f"__t.pu(payload, {canon(index)})", "ub")

    def inferred(self) -> tuple[dict, dict]:
        """The int ranges this pass proved, for the next pass."""
        var_types = {}
        for js, values in self.assigns.items():
            known = None if js in self.shared_reads else join_ranges(values)
            if known:
                var_types[js] = known
        fn_types = {}
        for name, values in self.returns.items():
            known = join_ranges(values)
            if known:
                fn_types[name] = known
        return var_types, fn_types


def _plain(js: str) -> bool:
    """A JS name or a non-negative integer literal: evaluating it twice costs and changes nothing."""
    return js.isdigit() or js.replace("$", "_").isidentifier()
