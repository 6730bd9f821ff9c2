"""What the code generator needs to know of a TBEL program before it writes any of it: the
functions it declares (hoisted), the top-level names those functions may read, and whether the
decoder only ever reads ``payload`` as text (then it is never turned into a list of byte boxes)."""

__all__ = ["collect_functions", "root_names", "payload_as_text_only", "payload_read_only"]


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


def _nodes(body):
    """Every AST node under `body`, in no particular order."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
        elif hasattr(node, "kind"):
            yield node
            stack.extend(v for k, v in node.__dict__.items() if k not in ("kind", "line", "col"))


def payload_as_text_only(body, calls=_TEXT_CALLS) -> bool:
    uses, text_uses = 0, 0
    for node in _nodes(body):
        if node.kind == "name" and node.name == "payload":
            uses += 1
        elif node.kind == "func" and "payload" in node.params:
            return False
        elif node.kind in ("var", "foreach") and node.name == "payload":
            return False
        if node.kind == "call" and node.name in calls and len(node.args) == 1 \
                and node.args[0].kind == "name" and node.args[0].name == "payload":
            text_uses += 1
    return uses == text_uses


def payload_read_only(body) -> bool:
    """True when ``payload`` is only indexed (never written, never handed on), measured
    (`.length`/`.size`) or decoded as text: then its bytes can be read as they arrived."""
    stack = [(node, None, None) for node in body]
    while stack:
        node, parent, field = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend((child, parent, field) for child in node)
            continue
        if not hasattr(node, "kind"):
            continue
        if node.kind == "func" and "payload" in node.params:
            return False
        if node.kind in ("var", "foreach") and node.name == "payload":
            return False
        if node.kind == "name" and node.name == "payload" and not _read_only_use(parent, field):
            return False
        stack.extend((v, node, k) for k, v in node.__dict__.items() if k not in ("kind", "line", "col"))
    return True


def _read_only_use(parent, field) -> bool:
    if parent is None:
        return False
    if parent.kind == "index" and field == "obj":
        return not parent.ns and not getattr(parent, "written", False)
    if parent.kind == "member" and field == "obj":
        return parent.name in ("length", "size") and not parent.ns
    if parent.kind == "call" and field == "args":
        return parent.name in _TEXT_CALLS and len(parent.args) == 1
    return False


def mark_written(body) -> None:
    """Flag every index node that is an assignment or ++/-- target (`written`)."""
    for node in _nodes(body):
        if node.kind in ("assign", "update") and node.target.kind == "index":
            node.target.written = True


def collect_functions(body, found: dict | None = None) -> dict[str, list[tuple[str, ...]]]:
    """The script's functions, wherever defined: name -> the parameter names of each definition."""
    found = {} if found is None else found
    for stmt in body:
        if stmt.kind == "func":
            found.setdefault(stmt.name, []).append(tuple(stmt.params))
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
