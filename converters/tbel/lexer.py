"""TBEL tokens: MVEL's lexical grammar as ThingsBoard scripts use it (Java literals, `.?`, `===`)."""

from typing import NamedTuple

__all__ = ["TbelSyntaxError", "Token", "tokenize"]


class TbelSyntaxError(Exception):
    """A TBEL script that does not parse: the message, the 1-based line and column in the body."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"{message} at line {line}, column {column}")
        self.message, self.line, self.column = message, line, column


class Token(NamedTuple):
    kind: str  # "num", "str", "id", "op", "eof"
    value: object
    line: int
    col: int
    extra: str = ""  # number type: "int", "long", "float", "double"


_OPS = sorted("""
>>>= >>> === !== <<= >>= == != <= >= && || ++ -- += -= *= /= %= &= |= ^= << >> .?
+ - * / % < > = ! ~ & | ^ ? : ; , . ( ) [ ] { } @ #
""".split(), key=len, reverse=True)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "'": "'", '"': '"', "\\": "\\",
            "/": "/"}


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i, n, line, line_start = 0, len(src), 1, 0
    while True:
        # whitespace and comments
        while i < n:
            c = src[i]
            if c == "\n":
                line += 1
                i += 1
                line_start = i
            elif c in " \t\r\f\v\ufeff\xa0":
                i += 1
            elif src.startswith("//", i):
                while i < n and src[i] != "\n":
                    i += 1
            elif src.startswith("/*", i):
                end = src.find("*/", i + 2)
                if end < 0:
                    raise TbelSyntaxError("Unterminated comment", line, i - line_start + 1)
                line += src.count("\n", i, end)
                nl = src.rfind("\n", i, end)
                if nl >= 0:
                    line_start = nl + 1
                i = end + 2
            else:
                break
        col = i - line_start + 1
        if i >= n:
            tokens.append(Token("eof", None, line, col))
            return tokens
        c = src[i]
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            i, tok = _number(src, i, line, col)
            tokens.append(tok)
        elif c.isalpha() or c in "_$":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            tokens.append(Token("id", src[i:j], line, col))
            i = j
        elif c in "\"'":
            i, text, lines = _string(src, i, line, col)
            tokens.append(Token("str", text, line, col))
            if lines:
                line += lines
                line_start = src.rfind("\n", 0, i) + 1
        else:
            for op in _OPS:
                if src.startswith(op, i):
                    # `a.?b` is null-safe access; `x ? .5 : 1` never happens in practice
                    tokens.append(Token("op", op, line, col))
                    i += len(op)
                    break
            else:
                raise TbelSyntaxError(f"Unexpected character {c!r}", line, col)


def _number(src: str, i: int, line: int, col: int) -> tuple[int, Token]:
    n = len(src)
    start = i
    if src.startswith(("0x", "0X"), i):
        j = i + 2
        while j < n and src[j] in "0123456789abcdefABCDEF_":
            j += 1
        digits = src[i + 2:j].replace("_", "")
        if not digits:
            raise TbelSyntaxError("Malformed hex literal", line, col)
        value = int(digits, 16)
        kind = "int"
        if j < n and src[j] in "lL":
            kind, j = "long", j + 1
            if value >= 1 << 63:
                value -= 1 << 64
        elif value >= 1 << 31:
            if value >= 1 << 32:
                raise TbelSyntaxError("Integer literal out of range", line, col)
            value -= 1 << 32  # 0xFFFFFFFF is the int -1, as in Java
        return _end(src, j, line, col), Token("num", value, line, col, kind)
    j = i
    while j < n and (src[j].isdigit() or src[j] == "_"):
        j += 1
    is_float = False
    if j < n and src[j] == "." and j + 1 < n and src[j + 1].isdigit():
        is_float = True
        j += 1
        while j < n and src[j].isdigit():
            j += 1
    elif j < n and src[j] == "." and not (j + 1 < n and (src[j + 1].isalpha() or src[j + 1] in "_$.?")):
        is_float = True  # "2." is a double
        j += 1
    if j < n and src[j] in "eE":
        k = j + 1
        if k < n and src[k] in "+-":
            k += 1
        if k < n and src[k].isdigit():
            is_float = True
            j = k
            while j < n and src[j].isdigit():
                j += 1
    text = src[start:j].replace("_", "")
    kind = "double" if is_float else "int"
    if j < n and src[j] in "lL" and not is_float:
        kind, j = "long", j + 1
    elif j < n and src[j] in "fF":
        kind, j = "float", j + 1
    elif j < n and src[j] in "dD":
        kind, j = "double", j + 1
    if kind in ("double", "float"):
        value: object = float(text)
    else:
        value = int(text, 8) if len(text) > 1 and text[0] == "0" and text.isdigit() and "8" not in text \
            and "9" not in text else int(text)
        if kind == "int" and value >= 1 << 31:
            kind = "long"  # MVEL widens a literal that does not fit an int
    return _end(src, j, line, col), Token("num", value, line, col, kind)


def _end(src: str, j: int, line: int, col: int) -> int:
    if j < len(src) and (src[j].isalnum() or src[j] == "_"):
        raise TbelSyntaxError("Malformed number", line, col)
    return j


def _string(src: str, i: int, line: int, col: int) -> tuple[int, str, int]:
    quote = src[i]
    j = i + 1
    out: list[str] = []
    lines = 0
    n = len(src)
    while True:
        if j >= n:
            raise TbelSyntaxError("Unterminated string literal", line, col)
        c = src[j]
        if c == quote:
            return j + 1, "".join(out), lines
        if c == "\\":
            e = src[j + 1] if j + 1 < n else ""
            if e == "u":
                hexd = src[j + 2:j + 6]
                try:
                    out.append(chr(int(hexd, 16)))
                except ValueError:
                    raise TbelSyntaxError("Malformed \\u escape", line, col) from None
                j += 6
                continue
            if e not in _ESCAPES:
                raise TbelSyntaxError(f"Invalid escape sequence \\{e}", line, col)
            out.append(_ESCAPES[e])
            j += 2
            continue
        if c == "\n":
            lines += 1
        out.append(c)
        j += 1
