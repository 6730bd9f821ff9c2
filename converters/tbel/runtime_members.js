// TBEL runtime, continued (converters/tbel/runtime.js first, whose __tbel it extends): member
// access, indexing, method dispatch, casts, collections, the payload's bytes and the result's JSON.
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { TbLong, TbDouble, TbFloat, TbByte, TbEntry, TbDate, BYTES, K_INT, K_LONG, K_BYTE, kind, num, big, intOf,
    L, D, F, B, d2i, d2l, err, npe, jstr, eq, isMap, isArray, hasOwn } = T;
  const ObjectProto = Object.prototype;
  const getProto = Object.getPrototypeOf;

  function typeName(o) {
    if (o === null || o === undefined) return 'null';
    if (typeof o === 'string') return 'String';
    if (typeof o === 'boolean') return 'Boolean';
    if (isArray(o)) return 'ArrayList';
    if (o instanceof Int8Array) return 'byte[]';
    switch (kind(o)) {
      case K_INT: return 'Integer';
      case K_LONG: return 'Long';
      case K_BYTE: return 'Byte';
      case T.K_FLOAT: return 'Float';
      case T.K_DOUBLE: return 'Double';
    }
    if (o instanceof TbDate) return 'TbDate';
    if (o instanceof TbEntry) return 'Map.Entry';
    return 'LinkedHashMap';
  }
  function mapGet(m, k) {
    if (typeof k !== 'string') k = key(k);
    if (!hasOwn(m, k)) return null;
    const v = m[k];
    return v === undefined ? null : v;
  }
  function mapPut(m, k, v) {
    if (typeof k !== 'string') k = key(k);
    if (k === '__proto__') Object.defineProperty(m, k, { value: v, writable: true, enumerable: true, configurable: true });
    else m[k] = v;
    return v;
  }
  function key(k) { return typeof k === 'string' ? k : jstr(k); }
  function keys(m) { const r = []; for (const k in m) if (hasOwn(m, k)) r.push(k); return r; }
  function values(m) { const r = []; for (const k in m) if (hasOwn(m, k)) r.push(m[k]); return r; }
  function entries(m) { const r = []; for (const k in m) if (hasOwn(m, k)) r.push(new TbEntry(k, m[k])); return r; }
  function size(m) { let n = 0; for (const k in m) if (hasOwn(m, k)) n++; return n; }

  function get(o, k) {
    if (o === null || o === undefined) throw npe("cannot read property '" + k + "' of null");
    if (isMap(o)) {
      const v = o[k];  // data values are never functions; inherited names (toString...) are
      if (v !== undefined && typeof v !== 'function' && k !== '__proto__') return v;
      if (hasOwn(o, k)) return v === undefined ? null : v;
      switch (k) {
        case 'keys': case 'keySet': return keys(o);
        case 'values': return values(o);
        case 'size': return size(o);
        case 'empty': return size(o) === 0;
        case 'entrySet': return entries(o);
      }
      return null;
    }
    if (isArray(o)) {
      if (k === 'size' || k === 'length') return o.length;
      if (k === 'empty') return o.length === 0;
    } else if (typeof o === 'string' || o instanceof Int8Array) {
      if (k === 'length') return o.length;
      if (k === 'empty' && typeof o === 'string') return o.length === 0;
      if (k === 'bytes' && typeof o === 'string') return T.f.stringToBytes(o);
    } else if (o instanceof TbEntry) {
      if (k === 'key') return o.key;
      if (k === 'value') return o.value;
    } else if (o instanceof TbDate) {
      if (k === 'time') return new TbLong(BigInt(o.ms));
    }
    if (o.__tbGet !== undefined) {  // runtime_rolling.js: a calculated field's rolling argument
      const v = o.__tbGet(o, k);
      if (v !== undefined) return v;
    }
    throw err('RuntimeException', "could not access property '" + k + "' of " + typeName(o));
  }
  function nget(o, k) { return o === null || o === undefined ? null : get(o, k); }
  function put(o, k, v) {
    if (o !== null && typeof o === 'object' && getProto(o) === ObjectProto && k !== '__proto__') { o[k] = v; return v; }
    if (o === null || o === undefined) throw npe("cannot set property '" + k + "' of null");
    if (isMap(o)) return mapPut(o, k, v);
    if (o instanceof TbEntry && k === 'value') { o.value = v; return v; }
    throw err('RuntimeException', "could not set property '" + k + "' of " + typeName(o));
  }
  function index(o, i, n) {
    const j = intOf(i);
    if (j < 0 || j >= n) throw err('IndexOutOfBoundsException', 'Index ' + j + ' out of bounds for length ' + n);
    return j;
  }
  function idx(o, i) {
    if (typeof i === 'number' && (i | 0) === i && i >= 0 && o !== null && typeof o === 'object') {
      if (o instanceof Int8Array) { if (i < o.length) return BYTES[o[i] + 128]; }
      else if (isArray(o) && i < o.length) { const v = o[i]; return v === undefined ? null : v; }
    }
    return idxSlow(o, i);
  }
  function idxSlow(o, i) {
    if (o === null || o === undefined) throw npe('cannot index null');
    if (isArray(o)) { const v = o[index(o, i, o.length)]; return v === undefined ? null : v; }
    if (o instanceof Int8Array) return BYTES[o[index(o, i, o.length)] + 128];
    if (typeof o === 'string') return o[index(o, i, o.length)];
    if (isMap(o)) return mapGet(o, i);
    throw err('RuntimeException', 'cannot index ' + typeName(o));
  }
  // `x.length` / `x.size` without parentheses: the size of a list, array or string; data for a map
  function len(o, k) {
    if (o !== null && typeof o === 'object' && (isArray(o) || o instanceof Int8Array)) return o.length;
    if (typeof o === 'string' && k === 'length') return o.length;
    return get(o, k);
  }
  function nidx(o, i) { return o === null || o === undefined ? null : idx(o, i); }
  function setidx(o, i, v) {
    if (o === null || o === undefined) throw npe('cannot index null');
    touched(o);
    if (isArray(o)) { o[index(o, i, o.length)] = v; return v; }
    if (o instanceof Int8Array) { o[index(o, i, o.length)] = intOf(v); return v; }
    if (isMap(o)) return mapPut(o, i, v);
    throw err('RuntimeException', 'cannot index ' + typeName(o));
  }
  function bump(o, k, d, pre) {
    const old = get(o, k);
    const v = T.add(old, d);
    put(o, k, v);
    return pre ? v : old;
  }
  function bumpidx(o, i, d, pre) {
    const old = idx(o, i);
    const v = T.add(old, d);
    setidx(o, i, v);
    return pre ? v : old;
  }
  function seq(c) {
    if (isArray(c)) return c;
    if (c === null || c === undefined) throw npe('foreach over null');
    if (c instanceof Int8Array) { const r = []; for (let i = 0; i < c.length; i++) r.push(BYTES[c[i] + 128]); return r; }
    if (typeof c === 'string') return c.split('');
    if (typeof c === 'number' && (c | 0) === c) { const r = []; for (let i = 1; i <= c; i++) r.push(i); return r; }
    // `foreach (e : map)` iterates the entries (ThingsBoard's TBEL docs tests: e.key, e.getValue())
    if (isMap(c)) return entries(c);
    throw err('RuntimeException', 'non-iterable type: ' + typeName(c));
  }
  // The decoder's payload arrives as unsigned bytes; decodeToJson(payload) reads those directly
  // unless the script has written to the list (setidx, any method call on it forgets them).
  const payload = { list: null, raw: null };
  function bytes(p) {
    const n = p.length, r = new Array(n);
    for (let i = 0; i < n; i++) r[i] = BYTES[p[i] ^ 128];
    payload.list = r;
    payload.raw = p;
    return r;
  }
  function touched(o) { if (o === payload.list) payload.list = payload.raw = null; }
  // A decoder that only reads its payload (codegen payload_byte) indexes the unsigned bytes as they
  // arrived: pu(p, i) is p[i] with the list's bounds and index rules; pslow(p, i) is the rest.
  function pslow(p, i) {
    if (typeof i === 'string' && !isNumber(i)) throw err('NumberFormatException', 'For input string: "' + i + '"');
    return p[index(p, i, p.length)];
  }
  function pu(p, i) { return typeof i === 'number' && (i | 0) === i && i >= 0 && i < p.length ? p[i] : pslow(p, i); }

  // ---- casts and instanceof
  function toInt(x) {
    if (typeof x === 'number' && (x | 0) === x) return x;
    if (typeof x === 'string') return x.length === 1 ? x.charCodeAt(0) : T.S.Integer.parseInt(x);
    if (x === null || x === undefined) throw npe('cannot cast null to int');
    if (x instanceof TbLong) return Number(BigInt.asIntN(32, x.b));
    return d2i(num(x));
  }
  function toLong(x) {
    if (x instanceof TbLong) return x;
    if (typeof x === 'string') return x.length === 1 ? new TbLong(BigInt(x.charCodeAt(0))) : T.S.Long.parseLong(x);
    if (x === null || x === undefined) throw npe('cannot cast null to long');
    return new TbLong(d2l(num(x)));
  }
  function toDouble(x) {
    if (typeof x === 'string') return D(x.length === 1 && !/\d/.test(x) ? x.charCodeAt(0) : T.S.Double.parseDouble(x));
    if (x === null || x === undefined) throw npe('cannot cast null to double');
    return D(num(x));
  }
  function toFloat(x) {
    if (typeof x === 'string') return F(parseFloat(x));
    if (x === null || x === undefined) throw npe('cannot cast null to float');
    return F(num(x));
  }
  function toChar(x) {
    if (typeof x === 'string') return x.charAt(0);
    return String.fromCharCode(toInt(x) & 0xffff);
  }
  function toByte(x) { return B(toInt(x)); }
  function toShort(x) { return (toInt(x) << 16) >> 16; }
  function toStr(x) { return x === null || x === undefined ? null : jstr(x); }
  function isa(x, t) {
    if (x === null || x === undefined) return false;
    switch (t) {
      case 'ArrayList': case 'List': case 'Collection': case 'Iterable': case 'ExecutionArrayList': return isArray(x);
      case 'Map': case 'HashMap': case 'LinkedHashMap': case 'ExecutionHashMap': return isMap(x);
      case 'String': case 'CharSequence': return typeof x === 'string';
      case 'Integer': return kind(x) === K_INT;
      case 'Long': return kind(x) === K_LONG;
      case 'Double': return kind(x) === T.K_DOUBLE;
      case 'Float': return kind(x) === T.K_FLOAT;
      case 'Byte': return kind(x) === K_BYTE;
      case 'Number': return kind(x) !== 0;
      case 'Boolean': return typeof x === 'boolean';
      case 'Date': case 'TbDate': return x instanceof TbDate;
      case 'Object': return true;
      case 'byte[]': return x instanceof Int8Array;
    }
    return false;
  }
  function nw(type, x0) {
    if (type === 'Date' && arguments.length === 2 && typeof x0 === 'string') return new TbDate(T.parseDate(x0));
    const a = Array.prototype.slice.call(arguments, 1);
    switch (type) {
      case 'ArrayList': case 'LinkedList': case 'ExecutionArrayList':
        return a.length && isArray(a[0]) ? a[0].slice() : [];
      case 'HashMap': case 'LinkedHashMap': case 'ExecutionHashMap': case 'TreeMap':
        return a.length && isMap(a[0]) ? Object.assign({}, a[0]) : {};
      case 'Date': case 'TbDate': return T.newDate(a);
      case 'String': return a.length === 0 ? '' : typeof a[0] === 'string' ? a[0] : T.f.bytesToString(a[0], a[1]);
      case 'StringBuilder': return a.length ? jstr(a[0]) : '';
      case 'Integer': return toInt(a[0]);
      case 'Long': return toLong(a[0]);
      case 'Double': return toDouble(a[0]);
      case 'Float': return toFloat(a[0]);
      case 'Object': return {};
    }
    const make = ctors[type];  // a type another runtime file adds (runtime_rolling.js: TbelCfArgs)
    if (make !== undefined) return make.apply(null, a);
    throw err('RuntimeException', 'cannot create an instance of ' + type);
  }
  const ctors = Object.create(null);
  function newarr(type, n) {
    const len = intOf(n);
    if (type === 'byte') return new Int8Array(len);
    const fill = type === 'int' || type === 'short' || type === 'long' ? (type === 'long' ? new TbLong(0n) : 0)
      : type === 'double' ? D(0) : type === 'float' ? F(0) : type === 'boolean' ? false : type === 'char' ? '\0' : null;
    const r = new Array(len);
    for (let i = 0; i < len; i++) r[i] = fill;
    return javaArray(r);
  }
  function arr(type, items) {
    if (type === 'byte') { const r = new Int8Array(items.length); for (let i = 0; i < items.length; i++) r[i] = intOf(items[i]); return r; }
    return javaArray(items);
  }
  // a Java array other than byte[] is a JS array marked so (TbUtils isArray/isList tell it from a list)
  function javaArray(r) { Object.defineProperty(r, '__tbJavaArray', { value: true, enumerable: false }); return r; }
  function nofn(name) { throw err('RuntimeException', "function '" + name + "' is not defined"); }
  function sfield(cls, name) {
    const v = cls[name];
    if (v === undefined) throw err('RuntimeException', 'unknown static field ' + name);
    return v;
  }

  // ThingsBoard turns a TBEL result into JSON with Gson, which leaves out map entries whose value
  // is null (at any depth; nulls inside lists stay) and writes a Double or Float with Java's
  // toString: 62.0, not 62, so a whole number stays a floating-point value for whoever reads the
  // JSON. JSON.stringify cannot write 62.0: such a value becomes a marked string here and the
  // engine's serialiser (prelude.js __tbSerialise) unquotes it after stringify, only when `marked`
  // says there is one. Done in place: the script has finished.
  const objectKeys = Object.keys;
  const { dstr, fstr } = T;
  // NUL first: only a text holding this very marker next to a whole Double could be mistaken for one
  const MARK = '\u0000TbDouble:';
  function plain(v) {
    const c = v.constructor;
    if (c === TbDouble) return isWhole(v.v) ? (T.marked = true, MARK + dstr(v.v)) : v.v;
    if (c === TbFloat) { const x = +T.fdigits(v.v); return isWhole(x) ? (T.marked = true, MARK + fstr(v.v)) : x; }
    if (c === TbByte) return v.v;
    // a Long past 2^53 is written with all its digits, as Jackson writes it
    if (c === TbLong) { const n = Number(v.b); return Number.isSafeInteger(n) ? n : (T.marked = true, MARK + String(v.b)); }
    return undefined;
  }
  // a number JSON.stringify would write without a '.' or an exponent (Java's toString has one)
  function isWhole(x) { return Number.isInteger(x) && x > -1e21 && x < 1e21; }
  function out(x, depth) {
    if (x === null || typeof x !== 'object' || depth > 64) return x;
    const p = getProto(x);
    if (p === ArrayProto || x instanceof T.TbSet) {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        if (v !== null && typeof v === 'object') { const n = plain(v); if (n !== undefined) x[i] = n; else out(v, depth + 1); }
      }
      return x;
    }
    if (p !== ObjectProto) return x;
    const ks = objectKeys(x);
    for (let i = 0; i < ks.length; i++) {
      const v = x[ks[i]];
      if (v === null || v === undefined) delete x[ks[i]];
      else if (typeof v === 'object') {
        // Boxed numbers become the numbers (or marked texts) they print as, here where the walk
        // already is: JSON.stringify then calls no method per value.
        const n = plain(v);
        if (n !== undefined) x[ks[i]] = n;
        else out(v, depth + 1);
      }
    }
    return x;
  }
  const ArrayProto = Array.prototype;

  Object.assign(T, {
    out, len, typeName, mapGet, mapPut, key, keys, values, entries, size, get, nget, put, idx, nidx, setidx, bump, bumpidx,
    seq, bytes, payload, touched, pu, pslow, toInt, toLong, toDouble, toFloat, toChar, toByte, toShort, toStr, isa, nw, newarr, arr, nofn, sfield,
    index, ctors,
  });
})();
