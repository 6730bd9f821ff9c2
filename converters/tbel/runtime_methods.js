// TBEL runtime, continued (after runtime_members.js): methods, Java String/List/Map plus
// ExecutionArrayList/ExecutionHashMap extras, as method tables (STR, LIST, MAP, ...) on __tbel.
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { TbLong, TbEntry, TbDate, BYTES, kind, num, intOf, D, err, npe, jstr, eq, isMap, isArray, hasOwn,
    mapGet, mapPut, keys, values, entries, size, index, typeName } = T;
  const table = () => Object.create(null);

  function range(s, a, b, n) {
    if (a < 0 || b > n || a > b) throw err('StringIndexOutOfBoundsException', 'begin ' + a + ', end ' + b + ', length ' + n);
  }
  const STR = table();
  Object.assign(STR, {
    length: (s) => s.length,
    charAt: (s, i) => s[index(s, i, s.length)],
    charCodeAt: (s, i) => s.charCodeAt(intOf(i)),
    codePointAt: (s, i) => s.codePointAt(intOf(i)),
    substring: (s, a, b, c, n) => { const x = intOf(a), y = n > 1 ? intOf(b) : s.length; range(s, x, y, s.length); return s.substring(x, y); },
    substr: (s, a, b, c, n) => n > 1 ? s.substr(intOf(a), intOf(b)) : s.substr(intOf(a)),
    subSequence: (s, a, b) => STR.substring(s, a, b, 2),
    indexOf: (s, x, from, c, n) => s.indexOf(jstr(x), n > 1 ? intOf(from) : 0),
    lastIndexOf: (s, x, from, c, n) => n > 1 ? s.lastIndexOf(jstr(x), intOf(from)) : s.lastIndexOf(jstr(x)),
    contains: (s, x) => s.indexOf(jstr(x)) >= 0,
    startsWith: (s, x, from, c, n) => s.startsWith(jstr(x), n > 1 ? intOf(from) : 0),
    endsWith: (s, x) => s.endsWith(jstr(x)),
    equals: (s, x) => s === x,
    equalsIgnoreCase: (s, x) => typeof x === 'string' && s.toLowerCase() === x.toLowerCase(),
    compareTo: (s, x) => s < x ? -1 : s > x ? 1 : 0,
    isEmpty: (s) => s.length === 0,
    isBlank: (s) => s.trim().length === 0,
    toUpperCase: (s) => s.toUpperCase(),
    toLowerCase: (s) => s.toLowerCase(),
    trim: (s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''),
    strip: (s) => s.trim(),
    concat: (s, x) => s + jstr(x),
    replace: (s, a, b) => s.split(jstr(a)).join(jstr(b)),
    replaceAll: (s, re, rep) => s.replace(T.regex(re, 'g'), T.replacement(rep)),
    replaceFirst: (s, re, rep) => s.replace(T.regex(re, ''), T.replacement(rep)),
    matches: (s, re) => T.regex('^(?:' + re + ')$', '').test(s),
    split: (s, re, limit, c, n) => T.split(s, re, n > 1 ? intOf(limit) : 0),
    repeat: (s, k) => s.repeat(intOf(k)),
    toString: (s) => s,
    hashCode: (s) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; },
    getBytes: (s) => { const l = T.f.stringToBytes(s); const r = new Int8Array(l.length); for (let i = 0; i < l.length; i++) r[i] = l[i].v; return r; },
    toCharArray: (s) => s.split(''),
    chars: (s) => s.split('').map((c) => c.charCodeAt(0)),
    padStart: (s, k, ch, c, n) => s.padStart(intOf(k), n > 1 ? jstr(ch) : ' '),
    padEnd: (s, k, ch, c, n) => s.padEnd(intOf(k), n > 1 ? jstr(ch) : ' '),
    slice: (s, a, b, c, n) => n > 1 ? s.slice(intOf(a), intOf(b)) : s.slice(intOf(a)),
  });

  // ExecutionArrayList's sort order: numbers (and numeric texts) by value first, then texts
  function sortKey(a, b) {
    const x = sortNumber(a), y = sortNumber(b);
    if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : 0;
    if (x !== null || y !== null) return x !== null ? -1 : 1;
    const p = jstr(a), q = jstr(b);
    return p < q ? -1 : p > q ? 1 : 0;
  }
  function sortNumber(v) {
    if (kind(v) !== 0) return num(v);
    return typeof v === 'string' && /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) ? +v : null;
  }
  function find(l, x) { for (let i = 0; i < l.length; i++) if (eq(l[i], x)) return i; return -1; }
  const LIST = table();
  Object.assign(LIST, {
    size: (l) => l.length,
    length: (l) => l.length,
    isEmpty: (l) => l.length === 0,
    get: (l, i) => { const v = l[index(l, i, l.length)]; return v === undefined ? null : v; },
    set: (l, i, v) => { const j = index(l, i, l.length); const old = l[j]; l[j] = v; return old; },
    add: (l, a, b, c, n) => { if (n > 1) { const j = intOf(a); if (j < 0 || j > l.length) index(l, j, l.length); l.splice(j, 0, b); return null; } l.push(a); return true; },
    addAll: (l, a, b, c, n) => { if (n > 1) { l.splice(intOf(a), 0, ...T.seq(b)); return true; } const s = T.seq(a); for (let i = 0; i < s.length; i++) l.push(s[i]); return s.length > 0; },
    // ExecutionArrayList: push is add (true), unshift is add(0, x) (void), as ThingsBoard's docs tests show
    push: (l, a, b, c, n) => { l.push(a); if (n > 1) l.push(b); if (n > 2) l.push(c); return true; },
    pop: (l) => l.length ? l.pop() : null,
    shift: (l) => l.length ? l.shift() : null,
    unshift: (l, a) => { l.unshift(a); return null; },
    remove: (l, x) => {
      if (typeof x === 'number' && (x | 0) === x) return l.splice(index(l, x, l.length), 1)[0];
      const i = find(l, x); if (i >= 0) { l.splice(i, 1); return true; } return false;
    },
    removeAll: (l, c) => { const s = T.seq(c); let ch = false; for (let i = l.length - 1; i >= 0; i--) if (find(s, l[i]) >= 0) { l.splice(i, 1); ch = true; } return ch; },
    contains: (l, x) => find(l, x) >= 0,
    containsAll: (l, c) => T.seq(c).every((x) => find(l, x) >= 0),
    indexOf: (l, x, from, c, n) => { for (let i = n > 1 ? Math.max(0, intOf(from)) : 0; i < l.length; i++) if (eq(l[i], x)) return i; return -1; },
    toSpliced: (l, a, b, c, n) => { const r = l.slice(); LIST.splice(r, a, b, c, n); return r; },
    validateClazzInArrayIsOnlyNumber: (l) => l.every((x) => kind(x) !== 0),
    lastIndexOf: (l, x) => { for (let i = l.length - 1; i >= 0; i--) if (eq(l[i], x)) return i; return -1; },
    clear: (l) => { l.length = 0; return null; },
    slice: (l, a, b, c, n) => n === 0 ? l.slice() : n > 1 ? l.slice(intOf(a), intOf(b)) : l.slice(intOf(a)),
    subList: (l, a, b) => { const x = intOf(a), y = intOf(b); if (x < 0 || y > l.length || x > y) throw err('IndexOutOfBoundsException', 'fromIndex ' + x + ', toIndex ' + y); return l.slice(x, y); },
    splice: (l, a, b, c, n) => n > 3 ? l.splice(intOf(a), intOf(b), ...T.cargs.slice(2)) : n > 2 ? l.splice(intOf(a), intOf(b), c) : n > 1 ? l.splice(intOf(a), intOf(b)) : l.splice(intOf(a)),
    join: (l, sep, b, c, n) => l.map(jstr).join(n > 0 ? jstr(sep) : ','),
    concat: (l, x) => l.concat(isArray(x) ? x : [x]),
    sort: (l, desc, b, c, n) => { l.sort(sortKey); if (n > 0 && desc === false) l.reverse(); return null; },
    toSorted: (l, desc, b, c, n) => { const r = l.slice().sort(sortKey); if (n > 0 && desc === false) r.reverse(); return r; },
    reverse: (l) => { l.reverse(); return null; },
    toReversed: (l) => l.slice().reverse(),
    fill: (l, v, a, b, n) => n > 2 ? l.fill(v, intOf(a), intOf(b)) : n > 1 ? l.fill(v, intOf(a)) : l.fill(v),
    toArray: (l) => l.slice(),
    toList: (l) => l.slice(),
    clone: (l) => l.slice(),
    equals: (l, x) => eq(l, x),
    toString: (l) => jstr(l),
    with: (l, i, v) => { const r = l.slice(); r[index(l, i, l.length)] = v; return r; },
    getFirst: (l) => l.length ? l[0] : null,
    getLast: (l) => l.length ? l[l.length - 1] : null,
  });

  const BARR = table();
  Object.assign(BARR, {
    length: (a) => a.length,
    clone: (a) => a.slice(),
    toString: (a) => jstr(a),
    equals: (a, x) => eq(a, x),
  });

  const MAP = table();
  Object.assign(MAP, {
    get: (m, k) => mapGet(m, k),
    getOrDefault: (m, k, d) => { const key = T.key(k); return hasOwn(m, key) ? m[key] : d; },
    put: (m, k, v) => { const key = T.key(k); const old = hasOwn(m, key) ? m[key] : null; mapPut(m, key, v); return old; },
    putIfAbsent: (m, k, v) => { const key = T.key(k); if (hasOwn(m, key) && m[key] !== null) return m[key]; mapPut(m, key, v); return null; },
    putAll: (m, o) => { if (o === null || o === undefined) throw npe('putAll(null)'); for (const k in o) if (hasOwn(o, k)) mapPut(m, k, o[k]); return null; },
    containsKey: (m, k) => hasOwn(m, T.key(k)),
    containsValue: (m, v) => values(m).some((x) => eq(x, v)),
    remove: (m, k) => { const key = T.key(k); if (!hasOwn(m, key)) return null; const old = m[key]; delete m[key]; return old; },
    keySet: (m) => keys(m),
    keys: (m) => keys(m),
    values: (m) => values(m),
    entrySet: (m) => entries(m),
    size: (m) => size(m),
    isEmpty: (m) => size(m) === 0,
    clear: (m) => { for (const k of keys(m)) delete m[k]; return null; },
    replace: (m, k, v, w, n) => {
      const key = T.key(k);
      if (n > 2) { if (!hasOwn(m, key) || !eq(m[key], v)) return false; m[key] = w; return true; }  // replace(k, old, new)
      if (!hasOwn(m, key)) return null;
      const old = m[key]; m[key] = v; return old;
    },
    sortByKey: (m, desc, b, c, n) => reorder(m, entries(m).sort((x, y) => sortKey(x.key, y.key)), n > 0 && desc === false),
    sortByValue: (m, desc, b, c, n) => reorder(m, entries(m).sort((x, y) => sortKey(x.value, y.value)), n > 0 && desc === false),
    equals: (m, x) => eq(m, x),
    toString: (m) => jstr(m),
    clone: (m) => Object.assign({}, m),
  });
  function reorder(m, list, reverse) {
    if (reverse) list.reverse();
    for (const e of list) delete m[e.key];
    for (const e of list) mapPut(m, e.key, e.value);
    return null;
  }

  const ENTRY = table();
  Object.assign(ENTRY, {
    getKey: (e) => e.key, getValue: (e) => e.value, setValue: (e, v) => { const o = e.value; e.value = v; return o; },
    toString: (e) => jstr(e),
  });

  const NUM = table();
  Object.assign(NUM, {
    toString: (x, radix, b, c, n) => n > 0 ? T.S.Integer.toString(x, radix) : jstr(x),
    intValue: (x) => T.toInt(x), longValue: (x) => T.toLong(x), doubleValue: (x) => T.toDouble(x),
    floatValue: (x) => T.toFloat(x), byteValue: (x) => T.toByte(x), shortValue: (x) => T.toShort(x),
    equals: (x, y) => kind(y) === kind(x) && eq(x, y),
    compareTo: (x, y) => T.lt(x, y) ? -1 : T.gt(x, y) ? 1 : 0,
    toFixed: (x, p) => num(x).toFixed(intOf(p)),
    isNaN: (x) => num(x) !== num(x),
    hashCode: (x) => T.toInt(x),
  });
  const BOOL = table();
  Object.assign(BOOL, { toString: (x) => jstr(x), equals: (x, y) => x === y, booleanValue: (x) => x });

  const ObjectProto = Object.prototype, ArrayProto = Array.prototype, getProto = Object.getPrototypeOf;
  function tableOf(o) {
    switch (typeof o) {
      case 'string': return STR;
      case 'number': return NUM;
      case 'boolean': return BOOL;
    }
    const p = getProto(o);
    if (p === ObjectProto) return MAP;
    if (p === ArrayProto) return LIST;
    if (p === TbDate.prototype) return T.DATE;
    if (o.__tbTable) return o.__tbTable;  // runtime_sets.js: ExecutionLinkedHashSet
    if (isArray(o)) return LIST;
    if (o instanceof Int8Array) return BARR;
    if (kind(o)) return NUM;
    if (o instanceof TbDate) return T.DATE;
    if (o instanceof TbEntry) return ENTRY;
    return MAP;
  }
  function call(o, name, n, a, b, c) {
    if (o === null || o === undefined) throw npe("cannot call '" + name + "()' on null");
    if (o === T.payload.list) T.touched(o);
    const f = tableOf(o)[name];
    if (f === undefined) throw err('RuntimeException', "unknown method '" + name + "' on " + typeName(o));
    return f(o, a, b, c, n);
  }
  function ret(v) { return v === undefined ? null : v; }
  function c0(o, name) { return ret(call(o, name, 0)); }
  function c1(o, name, a) { return ret(call(o, name, 1, a)); }
  function c2(o, name, a, b) { return ret(call(o, name, 2, a, b)); }
  function c3(o, name, a, b, c) { return ret(call(o, name, 3, a, b, c)); }
  function cn(o, name, args) {
    if (o === null || o === undefined) throw npe("cannot call '" + name + "()' on null");
    T.touched(o);
    const f = tableOf(o)[name];
    if (f === undefined) throw err('RuntimeException', "unknown method '" + name + "' on " + typeName(o));
    T.cargs = args;  // the whole argument list, for the variadic methods (splice, toSpliced)
    return ret(f(o, ...args.slice(0, 3), args.length));
  }
  function nc0(o, name) { return o === null || o === undefined ? null : c0(o, name); }
  function nc1(o, name, a) { return o === null || o === undefined ? null : c1(o, name, a); }
  function nc2(o, name, a, b) { return o === null || o === undefined ? null : c2(o, name, a, b); }
  function nc3(o, name, a, b, c) { return o === null || o === undefined ? null : c3(o, name, a, b, c); }
  function ncn(o, name, args) { return o === null || o === undefined ? null : cn(o, name, args); }

  Object.assign(T, { STR, LIST, MAP, BARR, ENTRY, NUM, c0, c1, c2, c3, cn, nc0, nc1, nc2, nc3, ncn, sortKey });
})();
