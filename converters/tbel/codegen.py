"""TBEL AST -> the JavaScript body of Decoder(...)/Encoder(...), one TBEL line per JS line.

Every statement is written on the JS line of its TBEL line (the prologue shares line 1), so the
engine's "(line N)" of a runtime error is the TBEL line. Operators, member access and method
calls go through the runtime (`__t`, the `__tbel` object of runtime*.js) for Java semantics;
variables are renamed where MVEL's block scoping differs from JS `var`.
"""

import json

from converters.tbel import typing
from converters.tbel.analysis import collect_functions, payload_as_text_only, payload_read_only, root_names
from converters.tbel.codegen_expr import ExprMixin, _case_test, _prim
from converters.tbel.lexer import TbelSyntaxError
from converters.tbel.typing import TypesMixin

__all__ = ["TEXT_PAYLOAD", "generate"]

# First in the body of a decoder that only ever decodes its payload as text (decodeToJson,
# decodeToString): the engine then hands it the payload as the latin-1 string it arrives as.
TEXT_PAYLOAD = "/*tbel:text-payload*/"
_STRING_CALLS = {"decodeToJson", "decodeToString"}

_JS_RESERVED = set("""
arguments await break case catch class const continue debugger default delete do else enum eval export
extends false finally for function if implements import in instanceof interface let new null package
private protected public return static super switch this throw true try typeof var void while with
yield undefined NaN Infinity globalThis
""".split())
_PARAMS = {"decoder": ("payload", "metadata"), "encoder": ("msg", "metadata", "msgType", "integrationMetadata")}


def safe(name: str) -> str:
    return name + "$" if name in _JS_RESERVED or name.startswith("__") else name


class Out:
    """Lines of JS as fragment lists; a fragment may be a placeholder list filled in later."""

    def __init__(self):
        self.lines: list[list] = [[]]

    def at(self, line: int) -> None:
        while len(self.lines) < line:
            self.lines.append([])

    def write(self, text) -> None:
        self.lines[-1].append(text)

    def text(self) -> str:
        def flat(frags):
            return "".join(f if isinstance(f, str) else flat(f) for f in frags)
        return "\n".join(flat(line) for line in self.lines)


class Func:
    """Per-JS-function state: the scope stack (TBEL name -> JS name) and the JS names to declare."""

    def __init__(self, params, parent=None, name=None):
        self.name = name
        self.scopes = [dict((p, safe(p)) for p in params)]
        self.declared: set[str] = set()
        self.used = {safe(p) for p in params}
        self.parent = parent
        self.counter = 0
        self.types: dict[str, str] = {}  # JS name -> declared primitive type

    def temp(self, prefix: str) -> str:
        self.counter += 1
        name = f"__{prefix}{self.counter}"
        self.declared.add(name)
        return name


class Generator(ExprMixin, TypesMixin):
    """One pass of code generation. `var_types` and `fn_types` are what the previous pass proved
    (JS variable name / function name -> int range); this pass records, for the next one, every
    value assigned to each variable and returned by each function (typing.py)."""

    def __init__(self, kind: str, functions: dict[str, list[tuple[str, ...]]], var_types=None, fn_types=None,
                 untyped=False):
        self.kind = kind
        self.untyped = untyped
        self.out = Out()
        self.functions = functions
        self.consts: list[str] = []
        self.const_ids: dict[str, str] = {}
        self.breaks: list[str | None] = []
        self.var_types: dict[str, tuple[int, int]] = var_types or {}
        self.fn_types: dict[str, tuple[int, int]] = fn_types or {}
        self.assigns: dict[str, list] = {}
        self.returns: dict[str, list] = {}
        self.shared_reads: set[str] = set()  # root variables read inside functions: never typed

    def program(self, body) -> str:
        params = _PARAMS[self.kind]
        self.root = self.fn = Func(params)
        for name in root_names(body):
            js = safe(name)
            self.fn.scopes[0][name] = js
            self.fn.declared.add(js)
            self.fn.used.add(js)
        for p in params:
            self.assigned(safe(p), None)
        decl = []
        self.string_payload = self.kind == "decoder" and not self.untyped and payload_as_text_only(body, _STRING_CALLS)
        self.out.write((TEXT_PAYLOAD if self.string_payload else "") + "var __t = __tbel;")
        # A script that reads the payload only through decodeToJson/decodeToString (most of them)
        # never needs it as a List<Byte>: skip building one box per byte. One that only indexes
        # it (and reads its length) reads the unsigned bytes as they arrive (payload_byte).
        self.text_payload = self.kind == "decoder" and payload_as_text_only(body)
        self.raw_payload = self.kind == "decoder" and (
            self.text_payload or (not self.untyped and payload_read_only(body)))
        if self.kind == "decoder" and not self.raw_payload:
            self.out.write(" payload = __t.bytes(payload);")
        self.out.write(decl)
        self.statements(body, tail=True)
        names = sorted(self.fn.declared - set(params))
        parts = names + [f"{k} = {v}" for v, k in self.const_ids.items()]
        if parts:
            decl.append(" var " + ", ".join(parts) + ";")
        self.out.write("\n")
        return self.out.text()

    # -- constants shared by every run (immutable boxes)
    def const(self, js: str) -> str:
        name = self.const_ids.get(js)
        if name is None:
            name = self.const_ids[js] = f"__k{len(self.const_ids)}"
        return name

    # -- scopes
    def push(self) -> None:
        self.fn.scopes.append({})

    def pop(self) -> None:
        self.fn.scopes.pop()

    def resolve(self, name: str) -> str | None:
        fn = self.fn
        for scope in reversed(fn.scopes):
            if name in scope:
                return scope[name]
        if fn is not self.root:
            return self.root.scopes[0].get(name)
        return None

    def declare(self, name: str, type_name: str | None = None) -> str:
        fn = self.fn
        scope = fn.scopes[-1]
        if name in scope:
            js = scope[name]
        else:
            js = safe(name)
            if self.resolve(name) is not None or js in fn.used and js not in fn.declared:
                fn.counter += 1
                js = f"{safe(name)}${fn.counter}"
            scope[name] = js
        fn.declared.add(js)
        fn.used.add(js)
        if type_name:
            fn.types[js] = type_name
        return js

    def implicit(self, name: str) -> str:
        """An assignment to a name never declared: a variable of the enclosing function."""
        js = self.resolve(name)
        if js is not None:
            return js
        fn = self.fn
        js = safe(name)
        fn.scopes[0][name] = js
        fn.declared.add(js)
        fn.used.add(js)
        return js

    # -- statements
    def statements(self, body, tail: bool = False) -> None:
        """`tail`: a function or script body, whose last expression is its value (MVEL)."""
        last = len(body) - 1
        for i, stmt in enumerate(body):
            if tail and i == last and stmt.kind == "expr":
                self.at(stmt)
                self.out.write(f"return {self.result(stmt.expr)};")
                continue
            self.statement(stmt)

    def at(self, node) -> None:
        self.out.at(node.line)

    def statement(self, s) -> None:
        self.at(s)
        getattr(self, "s_" + s.kind)(s)

    def s_empty(self, s) -> None:
        pass

    def s_expr(self, s) -> None:
        self.out.write(self.expr(s.expr, stmt=True) + ";")

    def s_var(self, s) -> None:
        self.out.write(self.var_init(s) + ";")

    def var_init(self, d) -> str:
        typed = None if d.init is None else self.texpr(d.init)
        js = self.declare(d.name, _prim(d.type))
        self.assigned(js, typed if d.type is None else None)
        value = "null" if typed is None else typing.canon(typed)
        return f"{js} = {self.coerce(js, value)}"

    def s_decls(self, s) -> None:
        for d in s.decls:
            self.s_var(d)

    def s_block(self, s) -> None:
        self.out.write("{")
        self.push()
        self.statements(s.body)
        self.pop()
        self.out.write("}")

    def s_if(self, s) -> None:
        self.out.write(f"if ({self.cond(s.cond)}) ")
        self.s_block(s.then)
        if s.other is not None:
            self.out.write(" else ")
            if len(s.other.body) == 1 and s.other.body[0].kind == "if":
                self.at(s.other.body[0])
                self.s_if(s.other.body[0])
            else:
                self.s_block(s.other)

    def loop_body(self, body) -> None:
        self.breaks.append(None)
        self.s_block(body)
        self.breaks.pop()

    def s_while(self, s) -> None:
        self.out.write(f"while ({self.cond(s.cond)}) ")
        self.loop_body(s.body)

    def s_dowhile(self, s) -> None:
        self.out.write("do ")
        self.loop_body(s.body)
        self.out.write(f" while ({self.cond(s.cond)});")

    def s_for(self, s) -> None:
        self.push()
        init = ""
        if s.init is not None:
            decls = s.init.decls if s.init.kind == "decls" else [s.init]
            parts = []
            for d in decls:
                if d.kind == "var":
                    parts.append(self.var_init(d))
                else:
                    parts.append(self.expr(d.expr, stmt=True))
            init = ", ".join(parts)
        cond = "" if s.cond is None else self.cond(s.cond)
        update = ", ".join(self.expr(u, stmt=True) for u in s.update)
        self.out.write(f"for ({init}; {cond}; {update}) ")
        self.loop_body(s.body)
        self.pop()

    def s_foreach(self, s) -> None:
        i, c = self.fn.temp("i"), self.fn.temp("c")
        coll = self.expr(s.coll)
        self.push()
        js = self.declare(s.name)
        self.assigned(js, None)
        self.out.write(f"for ({i} = 0, {c} = __t.seq({coll}); {i} < {c}.length; {i}++) {{{js} = {c}[{i}]; ")
        self.breaks.append(None)
        self.s_block(s.body)
        self.breaks.pop()
        self.out.write("}")
        self.pop()

    def s_switch(self, s) -> None:
        d = self.fn.temp("d")
        label = d.replace("__d", "__s")
        self.out.write(f"{label}: {{{d} = {self.expr(s.disc)}; ")
        default = None
        first = True
        for case in s.cases:
            if None in case.labels:
                default = case
                continue
            test = " || ".join(_case_test(d, v, self.expr(v)) for v in case.labels)
            self.out.at(case.line)
            self.out.write(("if" if first else " else if") + f" ({test}) ")
            first = False
            self.case_body(case, label)
        if default is not None:
            self.out.at(default.line)
            self.out.write(" else " if not first else "")
            self.case_body(default, label)
        self.out.write("}")

    def case_body(self, case, label) -> None:
        self.breaks.append(label)
        self.out.write("{")
        self.push()
        for stmt in case.body:
            if stmt.kind == "break":
                # TBEL's switch parser ends a case's block at its own `break` (the keyword is
                # consumed, never run): it leaves the switch only, and nothing after it belongs
                # to the case.
                self.at(stmt)
                self.out.write(f"break {label};")
                break
            self.statement(stmt)
        self.pop()
        self.out.write("}")
        self.breaks.pop()

    def s_break(self, s) -> None:
        if not self.breaks:
            raise TbelSyntaxError("'break' outside a loop or switch", s.line, s.col)
        # A case's own top-level `break` is case_body's. A break nested deeper in a case (inside
        # an `if {...}`) is a real MVEL break: its flag climbs the variable scopes until a loop
        # clears it, and a switch never does, so it ends the enclosing loop (plain JS `break`
        # from the labelled block). With no loop around it, the flag would end the whole
        # function; we end only the switch there.
        label = self.breaks[-1]
        self.out.write("break;" if label is None or None in self.breaks else f"break {label};")

    def s_continue(self, s) -> None:
        if None not in self.breaks:
            raise TbelSyntaxError("'continue' outside a loop", s.line, s.col)
        self.out.write("continue;")

    def s_return(self, s) -> None:
        if s.value is None:
            self.returned(None)
            self.out.write("return null;")
        else:
            self.out.write(f"return {self.result(s.value)};")

    def returned(self, value) -> None:
        if self.fn is not self.root:
            self.returns.setdefault(self.fn.name, []).append(value)

    def result(self, node) -> str:
        """The script's own result goes through __t.out (null map values dropped, as ThingsBoard's
        Gson serialisation of a TBEL result does); a function's return value does not."""
        typed = self.texpr(node)
        self.returned(typed)
        js = typing.canon(typed)
        return f"__t.out({js}, 0)" if self.fn is self.root else js

    def s_func(self, s) -> None:
        outer, outer_breaks = self.fn, self.breaks
        self.fn = Func(s.params, outer, s.name)
        if not s.body.body or s.body.body[-1].kind not in ("return", "expr"):
            self.returned(None)  # it may end without a return: null
        self.breaks = []
        decl = []
        params = ", ".join(safe(p) for p in s.params)
        self.out.write(f"function {safe(s.name)}({params}) {{")
        self.out.write(decl)
        self.statements(s.body.body, tail=True)
        self.out.write("}")
        if self.fn.declared:
            decl.append("var " + ", ".join(sorted(self.fn.declared)) + ";")
        self.fn, self.breaks = outer, outer_breaks


def generate(body, kind: str, typed: bool = True) -> str:
    """Passes until the int ranges stop changing: a pass's output is kept only when the ranges it
    found are the ones it assumed (the first assumes nothing; what it hands on includes guessed
    parameters, typing.param_guesses), so every value it treats as an int is one; without such a
    pass after six, the output of a pass that assumes nothing. `typed=False` writes every operator as a
    runtime call (the reference the typed output is tested against)."""
    functions = collect_functions(body)
    if not typed:
        return Generator(kind, functions, untyped=True).program(body)
    var_types, fn_types = {}, {}
    for attempt in range(6):
        gen = Generator(kind, functions, var_types, fn_types)
        js = gen.program(body)
        found = gen.inferred()
        if attempt == 0:
            found = ({**found[0], **gen.param_guesses()}, found[1])
        if found == (var_types, fn_types):
            return js
        var_types, fn_types = found
    return Generator(kind, functions).program(body)


def js_string(text: str) -> str:
    return json.dumps(text)
