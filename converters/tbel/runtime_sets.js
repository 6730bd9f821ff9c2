// TBEL runtime, continued (after runtime.js and its parts, see _RUNTIME_FILES in __init__.py):
// TbUtils' collection helpers newSet, toSet, isSet, isMap, isList, isArray. A set is
// ThingsBoard's ExecutionLinkedHashSet: insertion order, no two equal elements (Java equals),
// written to JSON as an array. It is a JS array subclass, so every list reader (size, foreach,
// contains, JSON) takes it as it is; only the methods that add differ (runtime_methods.js's method tables look up __tbTable first).
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { eq, isMap, err, kind } = T;
  const push = Array.prototype.push;
  // Java equals, not TBEL's loose ==: 2 and "2" (or an Integer and a Long) are two elements
  function same(a, b) { return kind(a) === kind(b) && (typeof a === 'string') === (typeof b === 'string') && eq(a, b); }
  function find(s, x) { for (let i = 0; i < s.length; i++) if (same(s[i], x)) return i; return -1; }
  function addOne(s, x) { if (find(s, x) >= 0) return false; push.call(s, x); return true; }
  function addEach(s, c) { const q = T.seq(c); let changed = false; for (let i = 0; i < q.length; i++) changed = addOne(s, q[i]) || changed; return changed; }

  class TbSet extends Array { static get [Symbol.species]() { return Array; } }
  const SET = Object.assign(Object.create(null), T.LIST, {
    add: (s, x, b, c, n) => { if (n > 1) throw err('RuntimeException', "unknown method 'add(index, value)' on LinkedHashSet"); return addOne(s, x); },
    addAll: (s, c) => addEach(s, c),
    push: (s, x) => { addOne(s, x); return s.length; },
    remove: (s, x) => { const i = find(s, x); if (i < 0) return false; s.splice(i, 1); return true; },
    toList: (s) => Array.prototype.slice.call(s),
    clone: (s) => { const r = new TbSet(); addEach(r, s); return r; },
  });
  for (const k of ['get', 'set', 'indexOf', 'lastIndexOf', 'subList']) delete SET[k];
  Object.defineProperty(TbSet.prototype, '__tbTable', { value: SET, enumerable: false });

  function newSet() { return new TbSet(); }
  function toSet(c) { const r = new TbSet(); if (c !== null && c !== undefined) addEach(r, c); return r; }
  function isSet(o) { return o instanceof TbSet; }
  // Java arrays are byte[] (Int8Array) and what `new int[n]` / `new T[] {...}` made (runtime_members.js marks them)
  function isJavaArray(o) { return o instanceof Int8Array || (Array.isArray(o) && o.__tbJavaArray === true); }
  function isList(o) { return Array.isArray(o) && !(o instanceof TbSet) && !isJavaArray(o); }
  Object.assign(T.f, { newSet, toSet, isSet, isMap: (o) => isMap(o), isList, isArray: isJavaArray });
  T.TbSet = TbSet;
  // a map's entrySet() and keySet() are sets too (ThingsBoard's docs: entrySet().addAll(list) skips duplicates)
  function asSet(a) { return Object.setPrototypeOf(a, TbSet.prototype); }
  const entrySet = T.MAP.entrySet, keySet = T.MAP.keySet;
  T.MAP.entrySet = (m) => asSet(entrySet(m));
  T.MAP.keySet = (m) => asSet(keySet(m));
  // Stack frames of the runtime must not count as the user's (see runtime_rename.js): name them __tbel_*.
  for (const table of [SET, T.f, { entrySet: T.MAP.entrySet, keySet: T.MAP.keySet }]) {
    for (const k of Object.keys(table)) {
      const v = table[k];
      if (typeof v === 'function' && v.name.slice(0, 4) !== '__tb') Object.defineProperty(v, 'name', { value: '__tbel_' + k });
    }
  }
})();
