"""The TBEL runtime as the files it is read from (converters/tbel/runtime*.js, in _RUNTIME_FILES'
order): every file is loaded, the whole defines one global and touches one built-in prototype
property, and the rename pass after the parts leaves no runtime helper that would count as the
user's stack frame."""

import json
from pathlib import Path

import quickjs

from converters import tbel
from converters.tbel import _RUNTIME_FILES, RUNTIME_JS

FOLDER = Path(tbel.__file__).parent

SNAPSHOT = """(function () {
  const out = {globals: Object.getOwnPropertyNames(globalThis).sort(), protos: {}};
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    const C = globalThis[name];
    if (typeof C === 'function' && C.prototype && typeof C.prototype === 'object')
      out.protos[name] = Object.getOwnPropertyNames(C.prototype).sort();
  }
  return JSON.stringify(out);
})()"""


def _snapshot(context) -> dict:
    return json.loads(context.eval(SNAPSHOT))


def test_every_runtime_file_in_the_folder_is_loaded_once():
    on_disk = sorted(p.name for p in FOLDER.glob("*.js"))
    assert sorted(_RUNTIME_FILES) == on_disk
    assert len(set(_RUNTIME_FILES)) == len(_RUNTIME_FILES) and _RUNTIME_FILES[0] == "runtime.js"


def test_the_runtime_defines_only_tbel_and_only_int8arrays_tojson():
    context = quickjs.Context()
    before = _snapshot(context)
    context.eval(RUNTIME_JS)
    after = _snapshot(context)
    assert sorted(set(after["globals"]) - set(before["globals"])) == ["__tbel"]
    changed = {name: sorted(set(after["protos"][name]) ^ set(keys)) for name, keys in before["protos"].items()
               if set(after["protos"][name]) != set(keys)}
    assert changed == {"Int8Array": ["toJSON"]}


def test_every_helper_the_parts_put_on_tbel_is_named_as_the_runtimes():
    context = quickjs.Context()
    context.eval(RUNTIME_JS)
    unnamed = context.eval("""(function () {
      const T = globalThis.__tbel, out = [];
      const tables = {T, f: T.f, STR: T.STR, LIST: T.LIST, MAP: T.MAP, BARR: T.BARR, ENTRY: T.ENTRY, NUM: T.NUM,
                      DATE: T.DATE};
      for (const [where, table] of Object.entries(tables)) {
        for (const k of Object.getOwnPropertyNames(table)) {
          const v = Object.getOwnPropertyDescriptor(table, k).value;
          if (typeof v === 'function' && k !== 'TbSet' && v.name.slice(0, 4) !== '__tb') out.push(where + '.' + k);
        }
      }
      return out.join(' ');
    })()""")
    assert unnamed == ""
