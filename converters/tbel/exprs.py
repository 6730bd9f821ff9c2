"""The expression half of the TBEL parser (methods of parser.Parser; split out for size)."""

from converters.tbel.lexer import TbelSyntaxError

__all__ = ["assignment", "binary", "expression", "map_literal", "postfix", "primary", "unary"]

_WORD_OPERATORS = {"contains", "is", "soundslike", "strsim", "in", "convertable_to"}
_LITERALS = {"true": True, "false": False}


def _node(*args, **kw):
    from converters.tbel.parser import Node

    return Node(*args, **kw)


def expression(self):
    return self.assignment()


def assignment(self):
    from converters.tbel.parser import ASSIGN

    tok = self.tok
    left = _ternary(self)
    if self.tok.kind == "op" and self.tok.value in ASSIGN:
        op_tok = self.next()
        if left.kind not in ("name", "member", "index"):
            self.error(op_tok, f"Invalid assignment target before '{op_tok.value}'")
        value = self.assignment()
        return _node("assign", tok, op=op_tok.value, target=left, value=value)
    return left


def _ternary(self):
    tok = self.tok
    cond = self.binary(1)
    if not self.is_op("?"):
        return cond
    self.next()
    then = _ternary(self)
    other = None
    if self.is_op(":") and not self.no_colon:
        self.next()
        other = _ternary(self)
    elif not self.no_colon:
        self.expect(":")
    return _node("cond", tok, cond=cond, then=then, other=other)


def binary(self, min_prec: int):
    from converters.tbel.parser import BINARY

    left = self.unary()
    while True:
        tok = self.tok
        if tok.kind == "op":
            op = tok.value
        elif tok.kind == "id" and tok.value == "instanceof":
            op = "instanceof"
        elif tok.kind == "id" and tok.value in _WORD_OPERATORS:
            self.error(tok, f"unsupported TBEL construct '{tok.value}'")
        else:
            return left
        prec = BINARY.get(op)
        if prec is None or prec < min_prec:
            return left
        self.next()
        if op == "instanceof":
            left = _node("instanceof", tok, expr=left, type=_dotted(self))
            continue
        right = self.binary(prec + 1)
        kind = "logical" if op in ("&&", "||") else "binary"
        left = _node(kind, tok, op=op, left=left, right=right)


def unary(self):
    from converters.tbel.parser import PRIMITIVES, TYPES

    tok = self.tok
    if tok.kind == "op":
        op = tok.value
        if op in ("!", "-", "+", "~"):
            self.next()
            operand = self.unary()
            if op == "-" and operand.kind == "num" and not getattr(operand, "parens", False):
                operand.value = -operand.value
                if operand.long_by_size:
                    operand.ntype = "int"  # -2147483648 is an int literal
                return operand
            return _node("unary", tok, op=op, expr=operand)
        if op in ("++", "--"):
            self.next()
            target = self.unary()
            _check_target(self, target, tok)
            return _node("update", tok, op=op, prefix=True, target=target)
        if op == "(":
            nxt, close, after = self.peek(), self.peek(2), self.peek(3)
            if nxt.kind == "id" and nxt.value in TYPES and self.is_op(")", tok=close) and (
                    nxt.value in PRIMITIVES or after.kind in ("id", "num", "str") or self.is_op("(", tok=after)):
                self.next(), self.next(), self.next()
                return _node("cast", tok, type=nxt.value, expr=self.unary())
    return self.postfix()


def postfix(self):
    expr = self.primary()
    ns = False
    while True:
        tok = self.tok
        if tok.kind != "op":
            return expr
        op = tok.value
        if op in (".", ".?"):
            self.next()
            ns = ns or op == ".?"
            if self.is_op("{", "("):
                self.error(message="unsupported TBEL construct 'projection'")
            name = self.ident()
            if self.is_op("("):
                expr = _node("mcall", tok, obj=expr, name=name, args=_arguments(self), ns=ns)
            else:
                expr = _node("member", tok, obj=expr, name=name, ns=ns)
        elif op == "[":
            self.next()
            saved, self.no_colon = self.no_colon, False
            index = self.expression()
            self.no_colon = saved
            self.expect("]")
            expr = _node("index", tok, obj=expr, index=index, ns=ns)
        elif op == "(" and expr.kind == "name" and not getattr(expr, "parens", False):
            expr = _node("call", tok, name=expr.name, args=_arguments(self))
        elif op in ("++", "--") and expr.kind in ("name", "member", "index"):
            self.next()
            expr = _node("update", tok, op=op, prefix=False, target=expr)
        else:
            return expr


def primary(self):
    tok = self.next()
    kind = tok.kind
    if kind == "num":
        node = _node("num", tok, value=tok.value, ntype=tok.extra)
        node.long_by_size = tok.extra == "long" and tok.value == 1 << 31
        return node
    if kind == "str":
        return _node("str", tok, value=tok.value)
    if kind == "id":
        word = tok.value
        if word in _LITERALS:
            return _node("bool", tok, value=_LITERALS[word])
        if word in ("null", "nil"):
            return _node("null", tok)
        if word == "new":
            return _new(self, tok)
        if word in ("function", "def"):
            return _lambda(self, tok)
        return _node("name", tok, name=word)
    if kind == "op":
        if tok.value == "(":
            saved, self.no_colon = self.no_colon, False
            expr = self.expression()
            self.no_colon = saved
            self.expect(")")
            expr.parens = True
            return expr
        if tok.value == "[":
            return _node("list", tok, items=_items(self, "]"))
        if tok.value == "{":
            self.pos -= 1
            return self.map_literal()
    self.pos -= 1
    self.error()


def map_literal(self):
    start = self.expect("{")
    saved, self.no_colon = self.no_colon, True
    entries, items, key = [], [], None
    while not self.is_op("}"):
        expr = self.assignment()
        if self.is_op(":"):
            self.next()
            key = expr  # every top-level ':' starts a new key (MVEL CollectionParser)
            continue
        if key is None:
            items.append(expr)
        else:
            entries.append((_key(key), expr))
            key = None
        if not self.is_op(","):
            break
        self.next()
    if key is not None:
        self.error(message="Expected a value after ':' in a map literal")
    self.no_colon = saved
    self.expect("}")
    if items and not entries:
        return _node("list", start, items=items)  # MVEL's inline array {1, 2}
    if items:
        self.error(start, "A map literal mixes 'key: value' entries and bare values")
    return _node("map", start, entries=entries)


def _key(node):
    if node.kind == "name" and not getattr(node, "parens", False):
        return _node("str", node, value=node.name)
    return node


def _lambda(self, tok):
    """An anonymous `function (a, b) { ... }` (or `def (a) { ... }`) used as a value. ThingsBoard's
    sandboxed MVEL compiles the script but throws "Invalid statement" (ScriptRuntimeException)
    when the lambda is evaluated, so a script that carries one in a function it never calls still
    runs. The body is parsed (for syntax errors) and dropped; the value throws when reached."""
    if not self.is_op("("):
        raise TbelSyntaxError("unsupported TBEL construct 'lambda'", tok.line, tok.col)
    self.next()
    while not self.is_op(")"):
        self.next()
        if self.tok.kind == "eof":
            raise TbelSyntaxError("Expected ')' but the script ended", tok.line, tok.col)
    self.next()
    self.block()
    return _node("lambda", tok)


def _items(self, close: str) -> list:
    saved, self.no_colon = self.no_colon, False
    items = []
    while not self.is_op(close):
        items.append(self.assignment())
        if not self.is_op(","):
            break
        self.next()
    self.expect(close)
    self.no_colon = saved
    return items


def _arguments(self) -> list:
    self.expect("(")
    return _items(self, ")")


def _dotted(self) -> str:
    parts = [self.ident()]
    while self.is_op(".") and self.is_id(tok=self.peek()):
        self.next()
        parts.append(self.ident())
    return ".".join(parts)


def _new(self, tok):
    type_name = _dotted(self)
    if self.is_op("<"):  # generics: new ArrayList<>() / new HashMap<String, Object>()
        while not self.is_op(">"):
            if self.tok.kind == "eof":
                self.error()
            self.next()
        self.next()
    if self.is_op("["):
        self.next()
        if self.is_op("]"):
            self.next()
            if not self.is_op("{"):
                self.error(message="Expected '{' after 'new " + type_name + "[]'")
            self.next()
            return _node("newarr", tok, type=type_name, size=None, items=_items(self, "}"))
        saved, self.no_colon = self.no_colon, False
        size = self.expression()
        self.no_colon = saved
        self.expect("]")
        return _node("newarr", tok, type=type_name, size=size, items=None)
    if not self.is_op("("):
        self.error(message=f"Expected '(' after 'new {type_name}'")
    return _node("new", tok, type=type_name, args=_arguments(self))


def _check_target(self, target, tok):
    if target.kind not in ("name", "member", "index"):
        self.error(tok, f"Invalid target for '{tok.value}'")
