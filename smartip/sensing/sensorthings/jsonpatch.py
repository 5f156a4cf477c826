"""The JSON Patch (RFC 6902) operations an entity update needs: add, replace, remove, test (pure).

``frost-sta-client``'s ``patch`` sends ``application/json-patch+json``; the patched entity is then applied as an
ordinary PATCH body.
"""

import copy
from typing import Any

from smartip.core.errors import Invalid


def _tokens(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise Invalid(f"patch: path {pointer!r} must start with /", field="patch")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def apply_patch(document: dict[str, Any], patch: Any) -> dict[str, Any]:
    """``document`` with ``patch`` applied; array members and move/copy are refused with a clear 400."""
    if not isinstance(patch, list):
        raise Invalid("patch: a JSON Patch is a list of operations", field="patch")
    doc = copy.deepcopy(document)
    for i, op in enumerate(patch):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise Invalid(f"patch[{i}]: each operation needs 'op' and 'path'", field=f"patch[{i}]")
        *parents, last = _tokens(op["path"])
        node: Any = doc
        for token in parents:
            if not isinstance(node, dict) or token not in node:
                raise Invalid(f"patch[{i}]: {op['path']} does not exist", field=f"patch[{i}].path")
            node = node[token]
        if not isinstance(node, dict):
            raise Invalid(f"patch[{i}]: only object members can be patched", field=f"patch[{i}].path")
        kind = op["op"]
        if kind in ("add", "replace"):
            if "value" not in op:
                raise Invalid(f"patch[{i}]: {kind} needs a value", field=f"patch[{i}].value")
            if kind == "replace" and last not in node:
                raise Invalid(f"patch[{i}]: {op['path']} does not exist", field=f"patch[{i}].path")
            node[last] = op["value"]
        elif kind == "remove":
            if last not in node:
                raise Invalid(f"patch[{i}]: {op['path']} does not exist", field=f"patch[{i}].path")
            del node[last]
        elif kind == "test":
            if node.get(last) != op.get("value"):
                raise Invalid(f"patch[{i}]: test of {op['path']} failed", field=f"patch[{i}]")
        else:
            raise Invalid(
                f"patch[{i}]: operation {kind!r} is not supported (add, replace, remove, test)",
                field=f"patch[{i}].op",
            )
    return doc
