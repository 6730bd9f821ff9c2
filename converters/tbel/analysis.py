"""What the code generator needs to know of a TBEL program before it writes any of it: the
functions it declares (hoisted), the top-level names those functions may read, and whether the
decoder only ever reads ``payload`` as text (then it is never turned into a list of byte boxes)."""

__all__ = ["collect_functions", "root_names", "payload_as_text_only"]


def root_names(body) -> list[str]:
    """Top-level names a hoisted function may read: root `var`s and root assignments."""
    names: list[str] = []
    for stmt in body:
        if stmt.kind == "var":
            names.append(stmt.name)
        elif stmt.kind == "decls":
            names.extend(d.name for d in stmt.decls)
        elif stmt.kind == "expr" and stmt.expr.kind == "assign" and stmt.expr.target.kind == "name":
            names.append(stmt.expr.target.name)
    return list(dict.fromkeys(names))


_TEXT_CALLS = {"decodeToJson", "decodeToString", "bytesToString"}


def payload_as_text_only(body) -> bool:
    uses, text_uses = 0, 0
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not hasattr(node, "kind"):
            continue
        if node.kind == "name" and node.name == "payload":
            uses += 1
        elif node.kind == "func" and "payload" in node.params:
            return False
        elif node.kind in ("var", "foreach") and node.name == "payload":
            return False
        if node.kind == "call" and node.name in _TEXT_CALLS and len(node.args) == 1 \
                and node.args[0].kind == "name" and node.args[0].name == "payload":
            text_uses += 1
        stack.extend(v for k, v in node.__dict__.items() if k not in ("kind", "line", "col"))
    return uses == text_uses


def collect_functions(body, found: set[str]) -> set[str]:
    for stmt in body:
        if stmt.kind == "func":
            found.add(stmt.name)
            collect_functions(stmt.body.body, found)
        for attr in ("then", "other", "body"):
            child = getattr(stmt, attr, None)
            if child is not None and getattr(child, "kind", None) == "block":
                collect_functions(child.body, found)
        if stmt.kind == "block":
            collect_functions(stmt.body, found)
        if stmt.kind == "switch":
            for case in stmt.cases:
                collect_functions(case.body, found)
    return found
