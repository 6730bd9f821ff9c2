"""Recursive-descent (Pratt for expressions) parser from TBEL tokens to a small AST.

It follows MVEL where MVEL differs from Java/JS: `foreach`, `.?` null-safe chains, `switch`
without fall-through, and CollectionParser's map literals, where every top-level `:` inside
`{...}` starts a new key (so an unparenthesised ternary value is split, as in ThingsBoard).
"""

from converters.tbel.lexer import TbelSyntaxError, Token, tokenize

__all__ = ["Node", "parse"]

# Names that start a typed declaration (`int x = 1;`) or a cast (`(int) x`).
PRIMITIVES = {"int", "long", "double", "float", "char", "byte", "short", "boolean"}
TYPES = PRIMITIVES | {"String", "Integer", "Long", "Double", "Float", "Boolean", "Object", "Byte", "Short",
                      "Character", "List", "Map", "ArrayList", "HashMap", "LinkedHashMap", "Date", "Number"}
UNSUPPORTED = {"def": "def", "with": "with", "try": "try/catch", "throw": "throw",
               "import": "import", "class": "class", "lambda": "lambda", "assert": "assert"}
BINARY = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "===": 6, "!==": 6,
          "<": 7, ">": 7, "<=": 7, ">=": 7, "instanceof": 7, "<<": 8, ">>": 8, ">>>": 8,
          "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}
ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", ">>>="}


class Node:
    """One AST node: `kind`, the position of its first token, and kind-specific fields."""

    def __init__(self, kind: str, tok: Token, **fields):
        self.kind, self.line, self.col = kind, tok.line, tok.col
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.__dict__.items() if k not in ("kind", "line", "col")}
        return f"{self.kind}{fields}"


def parse(source: str) -> list[Node]:
    return Parser(tokenize(source)).program()


class Parser:
    def __init__(self, tokens: list[Token]):
        self.toks, self.pos = tokens, 0
        self.no_colon = False  # inside a map literal: a ternary does not take the ':'

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.toks[min(self.pos + ahead, len(self.toks) - 1)]

    def next(self) -> Token:
        tok = self.toks[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def is_op(self, *ops, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "op" and tok.value in ops

    def is_id(self, *names, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "id" and (not names or tok.value in names)

    def error(self, tok: Token | None = None, message: str | None = None):
        tok = tok or self.tok
        if message is None:
            message = "Unexpected end of script" if tok.kind == "eof" else f"Unexpected token {_show(tok)}"
        raise TbelSyntaxError(message, tok.line, tok.col)

    def expect(self, op: str) -> Token:
        if not self.is_op(op):
            if self.tok.kind == "eof":
                self.error(message=f"Expected '{op}' but the script ended")
            self.error(message=f"Expected '{op}' but found {_show(self.tok)}")
        return self.next()

    def ident(self) -> str:
        if self.tok.kind != "id":
            self.error(message=f"Expected a name but found {_show(self.tok)}")
        return self.next().value

    def end_statement(self) -> None:
        if self.is_op(";"):
            self.next()
        elif not (self.is_op("}") or self.tok.kind == "eof" or self._at_line_break()):
            self.error(message=f"Expected ';' but found {_show(self.tok)}")

    def _at_line_break(self) -> bool:
        # a statement whose expression cannot go on ends at its line's end: ThingsBoard compiles
        # library converters with `a = f(x)` and `b = g(y)` on two lines without ';' (MVEL captures
        # up to the next ';', so the text is accepted; we read it as two statements)
        prev = self.toks[self.pos - 1] if self.pos else None
        return prev is not None and self.tok.line > prev.line

    # -- statements
    def program(self) -> list[Node]:
        body = []
        while self.tok.kind != "eof":
            body.append(self.statement())
        return body

    def block(self) -> Node:
        start = self.expect("{")
        body = []
        while not self.is_op("}"):
            if self.tok.kind == "eof":
                self.error(message="Expected '}' but the script ended")
            body.append(self.statement())
        self.next()
        return Node("block", start, body=body)

    def body(self) -> Node:
        """The body of if/for/while: a block or a single statement."""
        if self.is_op("{"):
            return self.block()
        stmt = self.statement()
        return Node("block", stmt, body=[stmt], line=stmt.line)

    def statement(self) -> Node:
        tok = self.tok
        if tok.kind == "op":
            if tok.value == "{":
                return self.block()
            if tok.value == ";":
                self.next()
                return Node("empty", tok)
        if tok.kind == "id":
            word = tok.value
            handler = getattr(self, "stmt_" + word, None) if word in _KEYWORDS else None
            if word == "until" and not self.is_op("(", tok=self.peek()):
                handler = None  # a variable called until
            if handler is not None:
                return handler()
            if word in UNSUPPORTED and not self.is_op("=", ".", "[", "+=", "-=", "++", "--", ";", tok=self.peek()):
                self.error(tok, f"unsupported TBEL construct '{UNSUPPORTED[word]}'")
            if self.is_declaration():
                node = self.declaration()
                self.end_statement()
                return node
        expr = self.expression()
        self.end_statement()
        return Node("expr", tok, expr=expr)

    def is_declaration(self) -> bool:
        tok, nxt = self.tok, self.peek()
        if tok.value == "var":
            return nxt.kind == "id"
        if nxt.kind == "id" and nxt.value != "instanceof":
            return True  # `int x`, `String s`, `List items`
        if tok.value in TYPES and self.is_op("[", tok=nxt) and self.is_op("]", tok=self.peek(2)):
            return True  # `byte[] b`
        return False

    def declaration(self) -> Node:
        type_tok = self.next()
        type_name = type_tok.value
        if self.is_op("["):
            self.next()
            self.expect("]")
            type_name += "[]"
        decls = []
        while True:
            name_tok = self.tok
            name = self.ident()
            init = None
            if self.is_op("="):
                self.next()
                init = self.assignment()
            decls.append(Node("var", name_tok, name=name, init=init, type=None if type_name == "var" else type_name))
            if not self.is_op(","):
                break
            self.next()
        return decls[0] if len(decls) == 1 else Node("decls", type_tok, decls=decls)

    def stmt_function(self) -> Node:
        start = self.next()
        name = self.ident()
        self.expect("(")
        params = []
        while not self.is_op(")"):
            if self.is_id() and self.is_id(tok=self.peek()):
                self.next()  # a typed parameter: `function f(int a)`
            params.append(self.ident())
            if not self.is_op(","):
                break
            self.next()
        self.expect(")")
        return Node("func", start, name=name, params=params, body=self.block())

    def stmt_if(self) -> Node:
        start = self.next()
        self.expect("(")
        cond = self.expression()
        self.expect(")")
        then = self.body()
        other = None
        if self.is_id("else"):
            self.next()
            other = self.body()
        return Node("if", start, cond=cond, then=then, other=other)

    def stmt_while(self) -> Node:
        start = self.next()
        self.expect("(")
        cond = self.expression()
        self.expect(")")
        return Node("while", start, cond=cond, body=self.body())

    def stmt_until(self) -> Node:
        """MVEL's `until (c) {...}`: a while loop on the negated condition."""
        start = self.next()
        self.expect("(")
        cond = self.expression()
        self.expect(")")
        return Node("while", start, cond=Node("unary", start, op="!", expr=cond), body=self.body())

    def stmt_do(self) -> Node:
        start = self.next()
        body = self.body()
        negate = self.is_id("until")  # MVEL's do {...} until (c)
        if not negate and not self.is_id("while"):
            self.error(message=f"Expected 'while' but found {_show(self.tok)}")
        self.next()
        self.expect("(")
        cond = self.expression()
        self.expect(")")
        self.end_statement()
        if negate:
            cond = Node("unary", start, op="!", expr=cond)
        return Node("dowhile", start, cond=cond, body=body)

    def stmt_foreach(self) -> Node:
        start = self.next()
        self.expect("(")
        node = self.for_each(start)
        if node is None:
            self.error(message="Expected 'foreach (item : collection)'")
        return node

    def for_each(self, start: Token) -> Node | None:
        """After `for (`: `[type] name : collection) body`, or None (a classic for)."""
        save = self.pos
        if self.is_id() and self.is_id(tok=self.peek()) and self.is_op(":", tok=self.peek(2)):
            self.next()
        if self.is_id() and self.is_op(":", tok=self.peek()):
            name = self.next().value
            self.next()
            coll = self.expression()
            self.expect(")")
            return Node("foreach", start, name=name, coll=coll, body=self.body())
        self.pos = save
        return None

    def stmt_for(self) -> Node:
        start = self.next()
        self.expect("(")
        node = self.for_each(start)
        if node is not None:
            return node
        init = None
        if not self.is_op(";"):
            if self.is_id() and self.is_declaration():
                init = self.declaration()
            else:
                init = Node("expr", self.tok, expr=self.expression())
        self.expect(";")
        cond = None if self.is_op(";") else self.expression()
        self.expect(";")
        update = []
        while not self.is_op(")"):
            update.append(self.expression())
            if not self.is_op(","):
                break
            self.next()
        self.expect(")")
        return Node("for", start, init=init, cond=cond, update=update, body=self.body())

    def stmt_switch(self) -> Node:
        start = self.next()
        self.expect("(")
        disc = self.expression()
        self.expect(")")
        self.expect("{")
        cases = []
        labels: list = []
        while not self.is_op("}"):
            tok = self.tok
            if self.is_id("case"):
                self.next()
                labels.append(self.expression())
                self.expect(":")
            elif self.is_id("default"):
                self.next()
                self.expect(":")
                labels.append(None)
            else:
                self.error()
            if self.is_id("case", "default") or self.is_op("}"):
                if not self.is_op("}"):
                    continue  # stacked labels share the next body
            body = []
            while not (self.is_id("case", "default") or self.is_op("}")):
                if self.tok.kind == "eof":
                    self.error(message="Expected '}' but the script ended")
                body.append(self.statement())
            cases.append(Node("case", tok, labels=labels, body=body))
            labels = []
        self.next()
        return Node("switch", start, disc=disc, cases=cases)

    def stmt_return(self) -> Node:
        start = self.next()
        value = None if self.is_op(";", "}") or self.tok.kind == "eof" else self.expression()
        self.end_statement()
        return Node("return", start, value=value)

    def stmt_break(self) -> Node:
        start = self.next()
        self.end_statement()
        return Node("break", start)

    def stmt_continue(self) -> Node:
        start = self.next()
        self.end_statement()
        return Node("continue", start)

    # -- expressions (see exprs.py for the grammar below assignment)
    from converters.tbel.exprs import (
        assignment,
        binary,
        expression,
        map_literal,
        postfix,
        primary,
        unary,
    )


_KEYWORDS = {"function", "if", "while", "until", "do", "for", "foreach", "switch", "return", "break", "continue"}


def _show(tok: Token) -> str:
    if tok.kind == "eof":
        return "the end of the script"
    if tok.kind == "str":
        return "a string"
    if tok.kind == "num":
        return f"'{tok.value}'"
    return f"'{tok.value}'"
