"""Expressions of the TBEL -> JS code generator (a mixin of codegen.Generator)."""

import json

from converters.tbel import typing
from converters.tbel.typing import Typed, canon

__all__ = ["BUILTINS", "STATICS", "ExprMixin"]

# TbUtils functions, called without a receiver; runtime_utils.js (and runtime_sets.js) define each
# one on __tbel.f.
BUILTINS = frozenset("""
decodeToJson decodeToString stringToBytes bytesToString parseBytesToInt parseBytesToLong parseBytesToFloat
parseBytesToDouble parseBytesIntToFloat parseBytesLongToDouble base64ToBytes base64ToBytesList bytesToBase64
hexToBytes hexToBytesArray bytesToHex base64ToHex hexToBase64 parseHexToInt parseHexToLong parseHexToFloat
parseHexToDouble parseLittleEndianHexToInt parseBigEndianHexToInt parseLittleEndianHexToLong
parseBigEndianHexToLong parseInt parseLong parseFloat parseDouble toFixed intToHex longToHex floatToHex
doubleToHex intLongToRadixString parseByteToBinaryArray parseBytesToBinaryArray parseLongToBinaryArray
parseBinaryArrayToInt bytesToExecutionArrayList byteArrayToExecutionArrayList raiseError toFlatMap isBinary
isHexadecimal isOctal isDecimal encodeURI decodeURI btoa atob padStart padEnd isNaN printUnsignedBytes
toInt isInsidePolygon isInsideCircle toUnsignedInt hexToInt parseLittleEndianHexToFloat parseBigEndianHexToFloat
parseLittleEndianHexToDouble parseBigEndianHexToDouble parseHexIntLongToFloat isMap isList isArray newSet toSet isSet
""".split())
STATICS = frozenset("""
Integer Long Double Float Boolean String Math Arrays Byte Short Character Date JSON Object System
Collections Number
""".split())
_PREFIXES = ("java.util.", "java.lang.", "java.math.", "java.time.")
_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "&": "band", "|": "bor", "^": "bxor",
          "<<": "shl", ">>": "shr", ">>>": "ushr"}
_COMPARE = {"<": "lt", ">": "gt", "<=": "le", ">=": "ge"}
_CASTS = {"int": "toInt", "Integer": "toInt", "long": "toLong", "Long": "toLong", "double": "toDouble",
          "Double": "toDouble", "float": "toFloat", "Float": "toFloat", "char": "toChar", "Character": "toChar",
          "byte": "toByte", "Byte": "toByte", "short": "toShort", "Short": "toShort", "String": "toStr",
          "boolean": "toBool", "Boolean": "toBool"}
_BOOL_METHODS = {"equals", "equalsIgnoreCase", "contains", "containsKey", "containsValue", "isEmpty", "startsWith",
                 "endsWith", "matches", "add", "hasNext", "isArray", "containsAll"}


class ExprMixin:
    def expr(self, n, stmt: bool = False) -> str:
        """The JS of an expression as every consumer expects it (bytes and doubles boxed)."""
        return canon(self.texpr(n, stmt))

    def texpr(self, n, stmt: bool = False) -> str:
        """The JS of an expression, a `typing.Typed` where its Java type is certain."""
        js = getattr(self, "e_" + n.kind)(n, stmt) if n.kind in ("update", "assign") else \
            getattr(self, "e_" + n.kind)(n)
        return canon(js) if self.untyped else js

    def cond(self, n) -> str:
        js = self.expr(n)
        return js if self.is_bool(n) else f"__t.bool({js})"

    def is_bool(self, n) -> bool:
        k = n.kind
        if k in ("bool", "logical", "instanceof"):
            return True
        if k == "binary":
            return n.op in _COMPARE or n.op in ("==", "!=", "===", "!==")
        if k == "unary":
            return n.op == "!"
        if k == "mcall":
            return n.name in _BOOL_METHODS and not n.ns
        return False

    def coerce(self, js_name: str, value: str) -> str:
        type_name = self.fn.types.get(js_name)
        cast = _CASTS.get(type_name) if type_name else None
        return f"__t.{cast}({value})" if cast else value

    # -- literals
    def e_num(self, n) -> str:
        v, t = n.value, n.ntype
        if t == "int":
            return Typed(str(v) if v >= 0 else f"({v})", "int", v, v)
        if t == "long":
            return self.const(f"__t.L({v}n)")
        if t == "float":
            return self.const(f"__t.F({_float(v)})")
        raw = f"({_float(v)})" if v < 0 else _float(v)
        if float(v).is_integer() or v != v or v in (float("inf"), float("-inf")):
            return Typed(raw, "dbl", boxed=lambda: self.const(f"__t.D({_float(v)})"))
        return Typed(raw, "dbl", boxed=lambda: raw)

    def e_str(self, n) -> str:
        return Typed(json.dumps(n.value), "str")

    def e_bool(self, n) -> str:
        return "true" if n.value else "false"

    def e_null(self, n) -> str:
        return "null"

    def e_lambda(self, n) -> str:
        # ThingsBoard's sandbox compiles a lambda but refuses it when it runs (ScriptRuntimeException)
        return ("(() => { throw __t.err('RuntimeException', "
                "'Invalid statement: an anonymous function (lambdas are not allowed in TBEL)'); })()")

    def e_list(self, n) -> str:
        return "[" + ", ".join(self.expr(i) for i in n.items) + "]"

    def e_map(self, n) -> str:
        parts = []
        for key, value in n.entries:
            if key.kind == "str" and key.value != "__proto__":
                k = json.dumps(key.value)
            else:
                k = f"[__t.key({self.expr(key)})]"
            parts.append(f"{k}: {self.expr(value)}")
        return "({" + ", ".join(parts) + "})"

    # -- names and statics
    def static_path(self, n) -> str | None:
        parts = []
        while n.kind == "member" and not n.ns:
            parts.append(n.name)
            n = n.obj
        if n.kind != "name" or self.resolve(n.name) is not None:
            return None
        parts.append(n.name)
        path = ".".join(reversed(parts))
        for prefix in _PREFIXES:
            if path.startswith(prefix):
                path = path[len(prefix):]
        return path

    def e_name(self, n) -> str:
        js = self.resolve(n.name)
        if js is not None:
            return self.typed_name(n.name, js)
        if n.name in STATICS:
            return f"__t.S.{n.name}"
        if n.name in self.functions:
            self.bind_params(n.name, None)  # the function as a value: called with who knows what
        from converters.tbel.codegen import safe

        return safe(n.name)

    def e_member(self, n) -> str:
        path = self.static_path(n.obj)
        if path in STATICS:
            return f"__t.sfield(__t.S.{path}, {json.dumps(n.name)})"
        if n.name in ("length", "size") and not n.ns:
            return f"__t.len({self.expr(n.obj)}, {json.dumps(n.name)})"
        fn = "nget" if n.ns else "get"
        return f"__t.{fn}({self.expr(n.obj)}, {json.dumps(n.name)})"

    def e_index(self, n) -> str:
        if getattr(self, "raw_payload", False) and not n.ns and n.obj.kind == "name" \
                and n.obj.name == "payload" and self.resolve("payload") == "payload":
            return self.payload_byte(self.texpr(n.index))
        fn = "nidx" if n.ns else "idx"
        return f"__t.{fn}({self.expr(n.obj)}, {self.expr(n.index)})"

    def e_mcall(self, n) -> str:
        args = [self.expr(a) for a in n.args]
        path = self.static_path(n.obj)
        if path is not None and path in STATICS:
            return f"__t.S.{path}.{n.name}({', '.join(args)})"
        if path is not None and "." in path and path.split(".")[-1] in STATICS:
            return f"__t.S.{path.split('.')[-1]}.{n.name}({', '.join(args)})"
        obj = self.expr(n.obj)
        name = json.dumps(n.name)
        prefix = "__t.n" if n.ns else "__t."
        if len(args) <= 3:
            return f"{prefix}c{len(args)}({', '.join([obj, name] + args)})"
        return f"{prefix}cn({obj}, {name}, [{', '.join(args)}])"

    def e_call(self, n) -> str:
        # TbUtils' functions are MVEL imports, which its resolver consults before the script's own
        # functions: a script redefining decodeToString (with a JS body) still calls TbUtils'
        if n.name in self.functions and n.name not in BUILTINS:
            from converters.tbel.codegen import safe

            typed = [self.texpr(a) for a in n.args]
            self.bind_params(n.name, typed)
            call = f"{safe(n.name)}({', '.join(canon(a) for a in typed)})"
            known = self.fn_types.get(n.name)
            return Typed(call, "int", *known) if known else call
        args = ", ".join(self.expr(a) for a in n.args)
        if n.name in BUILTINS:
            if getattr(self, "text_payload", False) and len(n.args) == 1 and n.args[0].kind == "name" \
                    and n.args[0].name == "payload" and n.name != "bytesToString":
                text = "latin1Text" if self.string_payload else "unsignedText"
                return f"__t.f.{n.name}(__t.f.{text}(payload))"
            return f"__t.f.{n.name}({args})"
        return f"__t.nofn({json.dumps(n.name)})"

    def e_new(self, n) -> str:
        args = ", ".join(self.expr(a) for a in n.args)
        name = n.type.rsplit(".", 1)[-1]
        return f"__t.nw({json.dumps(name)}{', ' if args else ''}{args})"

    def e_newarr(self, n) -> str:
        name = json.dumps(n.type.rsplit(".", 1)[-1])
        if n.items is not None:
            return f"__t.arr({name}, [{', '.join(self.expr(i) for i in n.items)}])"
        return f"__t.newarr({name}, {self.expr(n.size)})"

    # -- operators
    def e_unary(self, n) -> str:
        if n.op == "!":
            return f"!{self.cond(n.expr)}"
        if n.op == "-":
            inner = self.texpr(n.expr)
            if typing.ty(inner) == "int" and inner.lo > typing.INT_MIN:
                return Typed(f"(0 - {inner})", "int", -inner.hi, -inner.lo)
            if typing.ty(inner) == "dbl":
                return Typed(f"(-{inner})", "dbl")
            return f"__t.neg({canon(inner)})"
        if n.op == "~":
            return f"__t.bnot({self.expr(n.expr)})"
        return self.expr(n.expr)

    def e_binary(self, n) -> str:
        op = n.op
        raw = getattr(self, "raw_payload", False) and n.left.kind == "index" and n.left.obj.kind == "name" \
            and n.left.obj.name == "payload"
        if op == "&" and n.left.kind == "index" and not n.left.ns and _int_lit(n.right) and not raw:
            # `bytes[i] & 0xFF`: one runtime call, no Byte box
            return f"__t.idxand({self.expr(n.left.obj)}, {self.expr(n.left.index)}, {self.expr(n.right)})"
        a, b = self.texpr(n.left), self.texpr(n.right)
        typed = typing.binary(op, a, b)
        if typed is not None:
            return typed
        if op == "+" and "str" in (typing.ty(a), typing.ty(b)):
            return Typed(f"__t.add({canon(a)}, {canon(b)})", "str")
        a, b = canon(a), canon(b)
        fast = _fast_binary(op, n.left, a, n.right, b)
        if fast is not None:
            return fast
        if op in ("==", "==="):
            return f"__t.eq({a}, {b})"
        if op in ("!=", "!=="):
            return f"!__t.eq({a}, {b})"
        if op in _COMPARE:
            return f"__t.{_COMPARE[op]}({a}, {b})"
        return f"__t.{_ARITH[op]}({a}, {b})"

    def e_logical(self, n) -> str:
        return f"({self.cond(n.left)} {n.op} {self.cond(n.right)})"

    def e_cond(self, n) -> str:
        test = self.cond(n.cond)
        if n.other is None:
            return f"({test} ? {self.expr(n.then)} : null)"
        then, other = self.texpr(n.then), self.texpr(n.other)
        typed = typing.cond(test, then, other)
        return typed if typed is not None else f"({test} ? {canon(then)} : {canon(other)})"

    def e_cast(self, n) -> str:
        fn = _CASTS.get(n.type)
        inner = self.expr(n.expr)
        return f"__t.{fn}({inner})" if fn else inner

    def e_instanceof(self, n) -> str:
        return f"__t.isa({self.expr(n.expr)}, {json.dumps(n.type.rsplit('.', 1)[-1])})"

    def e_assign(self, n, stmt: bool = False) -> str:
        t, op = n.target, n.op
        if t.kind == "name" and op != "=":
            # `x op= v` is `x = x op v`: the same typed and fast paths as the operator itself
            js = self.implicit(t.name)
            value = canon(self.e_binary(_Binary(op[:-1], t, n.value)))
            self.assigned(js, None)
            value = self.coerce(js, value)
            return f"{js} = {value}" if stmt else f"({js} = {value})"
        typed = self.texpr(n.value)
        value = canon(typed)
        if t.kind == "name":
            js = self.implicit(t.name)
            self.assigned(js, typed if op == "=" else None)
            if op != "=":
                value = f"__t.{_ARITH[op[:-1]]}({js}, {value})"
            value = self.coerce(js, value)
            return f"{js} = {value}" if stmt else f"({js} = {value})"
        if t.kind == "member":
            obj, key = self.expr(t.obj), json.dumps(t.name)
            if op != "=":
                value = f"__t.{_ARITH[op[:-1]]}(__t.get({obj}, {key}), {value})"
            return f"__t.put({obj}, {key}, {value})"
        obj, key = self.expr(t.obj), self.expr(t.index)
        if op != "=":
            value = f"__t.{_ARITH[op[:-1]]}(__t.idx({obj}, {key}), {value})"
        return f"__t.setidx({obj}, {key}, {value})"

    def e_update(self, n, stmt: bool = False) -> str:
        t = n.target
        fn = "inc" if n.op == "++" else "dec"
        if t.kind == "name":
            js = self.resolve(t.name)
            if js is None:  # fails when it runs, as MVEL's does: a branch never taken may hold it
                return f"__t.unresolved({json.dumps(t.name)})"
            self.assigned(js, None)
            step = "+ 1" if fn == "inc" else "- 1"
            limit = "!== 2147483647" if fn == "inc" else "!== -2147483648"
            value = self.coerce(js, f"(({js} | 0) === {js} && {js} {limit} ? {js} {step} : __t.{fn}({js}))")
            if stmt or n.prefix:
                return f"{js} = {value}" if stmt else f"({js} = {value})"
            tmp = self.fn.temp("u")
            return f"({tmp} = {js}, {js} = {value}, {tmp})"
        delta = "1" if n.op == "++" else "(-1)"
        mode = "true" if n.prefix or stmt else "false"
        if t.kind == "member":
            return f"__t.bump({self.expr(t.obj)}, {json.dumps(t.name)}, {delta}, {mode})"
        return f"__t.bumpidx({self.expr(t.obj)}, {self.expr(t.index)}, {delta}, {mode})"


class _Binary:
    """A binary node made by the generator (`x += v` as `x + v`)."""

    kind = "binary"

    def __init__(self, op, left, right):
        self.op, self.left, self.right = op, left, right
        self.line, self.col = left.line, left.col


def _simple(node) -> bool:
    """An operand that may be evaluated twice: a variable or an int literal."""
    return node.kind == "name" or (node.kind == "num" and node.ntype == "int")


def _int_lit(node) -> bool:
    return node.kind == "num" and node.ntype == "int"


def _fast_binary(op, left, a, right, b) -> str | None:
    """Plain JS for the Integer case of an operator whose operands are simple, the runtime otherwise:
    loop counters and byte arithmetic stay cheap."""
    if not (_simple(left) and _simple(right)) or (_int_lit(left) and _int_lit(right)):
        return None
    checks = " && ".join(f"({x} | 0) === {x}" for node, x in ((left, a), (right, b)) if not _int_lit(node))
    if op in _COMPARE:
        return f"({checks} ? {a} {op} {b} : __t.{_COMPARE[op]}({a}, {b}))"
    if op in ("==", "===", "!=", "!==") and _int_lit(right):
        js = f"({a} === {b} || (typeof {a} !== 'number' && __t.eq({a}, {b})))"
        return js if op in ("==", "===") else f"!{js}"
    if op in ("==", "===", "!=", "!=="):
        js = f"({a} === {b} || __t.eq({a}, {b}))"
        return js if op in ("==", "===") else f"!{js}"
    if op in ("&", "|", "^", ">>", "<<"):
        return f"({checks} ? {a} {op} {b} : __t.{_ARITH[op]}({a}, {b}))"
    if op in ("+", "-") and _int_lit(right) and 0 <= right.value < 1 << 20:
        bound = f"{a} < {2147483647 - right.value}" if op == "+" else f"{a} > {-2147483648 + right.value}"
        return f"({checks} && {bound} ? {a} {op} {b} : __t.{_ARITH[op]}({a}, {b}))"
    return None


def _float(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(float(v))


def _case_test(d: str, label, js: str) -> str:
    # `switch` is an if-chain of loose `==` (MVEL); an int or string label usually matches exactly
    if label.kind == "num" and label.ntype == "int":
        return f"{d} === {js} || (typeof {d} !== 'number' && __t.eq({d}, {js}))"
    if label.kind == "str":
        return f"{d} === {js} || (typeof {d} !== 'string' && __t.eq({d}, {js}))"
    return f"__t.eq({d}, {js})"


def _prim(type_name: str | None) -> str | None:
    if type_name is None:
        return None
    return {"Integer": "int", "Long": "long", "Double": "double", "Float": "float", "Byte": "byte",
            "Short": "short", "Character": "char", "String": "String"}.get(type_name, type_name)
