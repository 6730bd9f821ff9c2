// The TBEL runtime: Java semantics for transpiled TBEL (converters/tbel/codegen.py). Evaluated once
// in every TBEL context before the engine's prelude. Defines one global, __tbel; changes no
// built-in prototype. Values: a JS number is an Integer (or a Double when not integral, a Long
// when integral beyond 32 bits, as JSON gives them); TbLong/TbDouble/TbFloat/TbByte boxes carry the
// Java type where it decides a result (long/int division, "2.0", float repr, signed bytes).
// Every function is renamed __tbel_* at the end, so the engine's line of an error is the user's.
(function () {
  'use strict';
  const G = globalThis;
  const isArray = Array.isArray;
  const hasOwn = Object.hasOwn;
  const isInteger = Number.isInteger;
  const BigIntCtor = G.BigInt;
  const asIntN = BigInt.asIntN;
  const asUintN = BigInt.asUintN;
  const fround = Math.fround;
  const trunc = Math.trunc;
  const stringify = JSON.stringify;
  const parseJson = JSON.parse;
  const DateCtor = G.Date;

  class TbLong { constructor(b) { this.b = b; } toJSON() { return Number(this.b); } toString() { return String(this.b); } valueOf() { return Number(this.b); } }
  class TbDouble { constructor(v) { this.v = v; } toJSON() { return this.v; } toString() { return dstr(this.v); } valueOf() { return this.v; } }
  class TbFloat { constructor(v) { this.v = v; } toJSON() { return +fdigits(this.v); } toString() { return fstr(this.v); } valueOf() { return this.v; } }
  class TbByte { constructor(v) { this.v = v; } toJSON() { return this.v; } toString() { return String(this.v); } valueOf() { return this.v; } }
  class TbEntry { constructor(k, v) { this.key = k; this.value = v; } toJSON() { const o = {}; o[this.key] = this.value; return o; } }
  class TbDate { constructor(ms) { this.ms = ms; } toJSON() { return this.ms; } }
  const BYTES = [];
  for (let i = -128; i < 128; i++) BYTES.push(new TbByte(i));

  const K_BYTE = 99, K_SHORT = 105, K_INT = 106, K_LONG = 107, K_FLOAT = 108, K_DOUBLE = 109;
  function kind(x) {
    if (typeof x === 'number') {
      if (isInteger(x)) return (x | 0) === x ? K_INT : (Math.abs(x) < 9.2e18 ? K_LONG : K_DOUBLE);
      return K_DOUBLE;
    }
    if (x === null || typeof x !== 'object') return 0;
    const c = x.constructor;  // boxes are never maps, so a data key "constructor" cannot match
    return c === TbByte ? K_BYTE : c === TbLong ? K_LONG : c === TbDouble ? K_DOUBLE : c === TbFloat ? K_FLOAT : 0;
  }
  function num(x) {
    if (typeof x === 'number') return x;
    if (x instanceof TbLong) return Number(x.b);
    if (x instanceof TbByte || x instanceof TbDouble || x instanceof TbFloat) return x.v;
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (typeof x === 'string' && isNumber(x)) return parseFloat(x);
    throw err('NumberFormatException', 'not a number: ' + jstr(x));
  }
  function big(x) {
    if (x instanceof TbLong) return x.b;
    return BigIntCtor(trunc(num(x)));
  }
  function intOf(x) { return typeof x === 'number' && (x | 0) === x ? x : d2i(num(x)); }
  function L(b) { return new TbLong(asIntN(64, b)); }
  function D(v) { return isInteger(v) ? new TbDouble(v) : v; }
  function F(v) { return new TbFloat(fround(v)); }
  function B(v) { return BYTES[((v << 24) >> 24) + 128]; }
  function d2i(v) { return v !== v ? 0 : v >= 2147483647 ? 2147483647 : v <= -2147483648 ? -2147483648 : trunc(v) | 0; }
  function d2l(v) {
    if (v !== v) return 0n;
    if (v >= 9223372036854775807) return 9223372036854775807n;
    if (v <= -9223372036854775808) return -9223372036854775808n;
    return BigIntCtor(trunc(v));
  }
  function toType(v, k) {
    switch (k) {
      case K_BYTE: return B(d2i(v));
      case K_SHORT: return (d2i(v) << 16) >> 16;
      case K_INT: return d2i(v);
      case K_LONG: return new TbLong(d2l(v));
      case K_FLOAT: return F(v);
      default: return D(v);
    }
  }
  function isNumber(s) { return typeof s === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[dDfFlL]?$/.test(s); }
  function err(type, message) {
    const e = new Error(message);
    e.name = 'java.lang.' + type;
    return e;
  }
  function npe(what) { return err('NullPointerException', what); }
  // MVEL resolves names when a statement runs: an unknown one fails only if it is reached
  function unresolved(name) { throw err('RuntimeException', 'unresolvable property or identifier: ' + name); }

  // ---- number -> string, as Java's Double.toString / Float.toString
  function expJava(s) {
    let [m, e] = s.split('e');
    if (m.indexOf('.') < 0) m += '.0';
    return m + 'E' + (e[0] === '+' ? e.slice(1) : e);
  }
  function dstr(d) {
    if (d !== d) return 'NaN';
    if (d === Infinity) return 'Infinity';
    if (d === -Infinity) return '-Infinity';
    if (d === 0) return 1 / d < 0 ? '-0.0' : '0.0';
    const a = Math.abs(d);
    if (a >= 1e-3 && a < 1e7) { const s = String(d); return s.indexOf('.') < 0 ? s + '.0' : s; }
    return expJava(d.toExponential());
  }
  function fdigits(f) {
    if (f !== f || f === Infinity || f === -Infinity || f === 0) return String(f);
    for (let p = 1; p < 10; p++) { const s = f.toPrecision(p); if (fround(+s) === f) return String(+s); }
    return String(f);
  }
  function fstr(f) {
    if (f !== f || f === Infinity || f === -Infinity || f === 0) return dstr(f);
    const x = +fdigits(f);
    const a = Math.abs(x);
    if (a >= 1e-3 && a < 1e7) { const s = String(x); return s.indexOf('.') < 0 ? s + '.0' : s; }
    return expJava(x.toExponential());
  }
  function jstr(v) {
    if (v === null || v === undefined) return 'null';
    switch (typeof v) {
      case 'string': return v;
      case 'number': return isInteger(v) && Math.abs(v) < 9.2e18 ? String(v) : dstr(v);
      case 'boolean': return v ? 'true' : 'false';
      case 'bigint': return String(v);
    }
    if (v instanceof TbLong || v instanceof TbByte || v instanceof TbDouble || v instanceof TbFloat) return v.toString();
    if (isArray(v) || v instanceof Int8Array) {
      let s = '[';
      for (let i = 0; i < v.length; i++) s += (i ? ', ' : '') + jstr(v[i]);
      return s + ']';
    }
    if (v instanceof TbEntry) return jstr(v.key) + '=' + jstr(v.value);
    if (v instanceof TbDate) return new DateCtor(v.ms).toISOString();
    if (typeof v === 'object') {
      let s = '{', first = true;
      for (const k in v) { if (hasOwn(v, k)) { s += (first ? '' : ', ') + k + '=' + jstr(v[k]); first = false; } }
      return s + '}';
    }
    return String(v);
  }

  // ---- arithmetic (MathProcessor: same types stay, mixed types go through double to the wider box)
  const OPS = {
    add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, mod: (a, b) => a % b,
  };
  function sameInt(op, a, b) {
    switch (op) {
      case 'div': return D(a / b);
      case 'mod': if (b === 0) throw err('ArithmeticException', '/ by zero'); return (a % b) | 0;
    }
    const r = OPS[op](a, b);
    if ((r | 0) === r) return r;
    if (Math.abs(r) < 9007199254740992) return new TbLong(BigIntCtor(r));
    return L(op === 'mul' ? BigIntCtor(a) * BigIntCtor(b) : BigIntCtor(a) + (op === 'sub' ? -BigIntCtor(b) : BigIntCtor(b)));
  }
  function sameLong(op, a, b) {
    const x = big(a), y = big(b);
    switch (op) {
      case 'add': return L(x + y);
      case 'sub': return L(x - y);
      case 'mul': return L(x * y);
      case 'div': return D(Number(x) / Number(y));
      default: if (y === 0n) throw err('ArithmeticException', '/ by zero'); return L(x % y);
    }
  }
  function arith(op, a, b) {
    const ka = kind(a), kb = kind(b);
    if (ka && kb) {
      if (ka === kb) {
        if (ka === K_INT) return sameInt(op, a, b);
        if (ka === K_BYTE) return op === 'div' ? D(a.v / b.v) : sameInt(op, a.v, b.v);
        if (ka === K_LONG) return sameLong(op, a, b);
        if (ka === K_FLOAT) return op === 'div' ? D(a.v / b.v) : F(OPS[op](a.v, b.v));
        return D(OPS[op](num(a), num(b)));
      }
      return toType(OPS[op](num(a), num(b)), ka > kb ? ka : kb);
    }
    if (op === 'add') {
      if (isArray(a)) { const r = a.slice(); if (isArray(b)) { for (let i = 0; i < b.length; i++) r.push(b[i]); } else r.push(b); return r; }
      return jstr(a) + jstr(b);
    }
    if (a === null || a === undefined || b === null || b === undefined) return null;
    if ((ka || isNumber(a)) && (kb || isNumber(b))) {
      const k = ka > kb ? ka : kb;
      return toType(OPS[op](num(a), num(b)), k || K_DOUBLE);
    }
    throw err('RuntimeException', 'could not perform numeric operation on non-numeric types: ' + jstr(a) + ' ' + op + ' ' + jstr(b));
  }
  function add(a, b) {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) {
      const r = a + b;
      if ((r | 0) === r) return r;
    } else if (typeof a === 'string') {
      return typeof b === 'string' ? a + b : a + jstr(b);
    } else if (typeof b === 'string') return jstr(a) + b;
    return arith('add', a, b);
  }
  function sub(a, b) {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) {
      const r = a - b;
      if ((r | 0) === r) return r;
    }
    return arith('sub', a, b);
  }
  function mul(a, b) {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) {
      const r = a * b;
      if ((r | 0) === r) return r;
    }
    return arith('mul', a, b);
  }
  function div(a, b) {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) return D(a / b);
    return arith('div', a, b);
  }
  function mod(a, b) { return arith('mod', a, b); }
  function neg(a) {
    if (typeof a === 'number') return a === 0 ? 0 : -a;
    switch (kind(a)) {
      case K_LONG: return L(-a.b);
      case K_BYTE: return -a.v;
      case K_FLOAT: return F(-a.v);
      case K_DOUBLE: return D(-a.v);
    }
    throw err('RuntimeException', 'cannot negate ' + jstr(a));
  }
  function inc(a) { return typeof a === 'number' && (a | 0) === a && a !== 2147483647 ? a + 1 : add(a, 1); }
  function dec(a) { return typeof a === 'number' && (a | 0) === a && a !== -2147483648 ? a - 1 : sub(a, 1); }

  // ---- bitwise: integer types only; the left operand's type decides (Long on either side for & | ^)
  function fixed(x, k) {
    if (k === K_INT || k === K_BYTE || k === K_SHORT || k === K_LONG) return true;
    if (typeof x === 'boolean') return true;
    return false;
  }
  function bits(op, a, b) {
    if (typeof a === 'boolean') a = a ? 1 : 0;
    if (typeof b === 'boolean') b = b ? 1 : 0;
    const ka = kind(a), kb = kind(b);
    if (!fixed(a, ka) || !fixed(b, kb)) {
      if ((ka === K_DOUBLE || ka === K_FLOAT) && ka === kb) throw err('RuntimeException', 'bitwise operation on a non-fixed-point number.');
      if (ka && kb) return null;
      throw err('RuntimeException', 'bitwise operation on a non-numeric value: ' + jstr(a) + ', ' + jstr(b));
    }
    const shift = op === 'shl' || op === 'shr' || op === 'ushr';
    if (ka === K_LONG || (!shift && kb === K_LONG)) {
      const x = big(a), y = big(b);
      switch (op) {
        case 'and': return L(x & y);
        case 'or': return L(x | y);
        case 'xor': return L(x ^ y);
        case 'shl': return L(x << (y & 63n));
        case 'shr': return L(x >> (y & 63n));
        default: return L(asUintN(64, x) >> (y & 63n));
      }
    }
    const x = typeof a === 'number' ? a : a.v, y = typeof b === 'number' ? b : kb === K_LONG ? Number(b.b & 63n) : b.v;
    switch (op) {
      case 'and': return x & y;
      case 'or': return x | y;
      case 'xor': return x ^ y;
      case 'shl': return x << y;
      case 'shr': return x >> y;
      default: return (x >>> y) | 0;
    }
  }
  function band(a, b) { if (typeof b === 'number' && (b | 0) === b && a !== null && typeof a === 'object' && a.constructor === TbByte) return a.v & b;
    return typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b ? a & b : bits('and', a, b); }
  function bor(a, b) { if (typeof b === 'number' && (b | 0) === b && a !== null && typeof a === 'object' && a.constructor === TbByte) return a.v | b;
    return typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b ? a | b : bits('or', a, b); }
  // `list[i] & mask` in one call: a Byte or Integer element masked without boxing
  function idxand(o, i, m) {
    if (typeof i === 'number' && (i | 0) === i && i >= 0 && o !== null && typeof o === 'object') {
      if (o instanceof Int8Array) { if (i < o.length) return o[i] & m; }
      else if (isArray(o) && i < o.length) {
        const v = o[i];
        if (typeof v === 'number') { if ((v | 0) === v) return v & m; }
        else if (v !== null && typeof v === 'object' && v.constructor === TbByte) return v.v & m;
      }
    }
    return band(T.idx(o, i), m);
  }
  function bxor(a, b) { return typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b ? a ^ b : bits('xor', a, b); }
  function shl(a, b) { if (typeof b === 'number' && (b | 0) === b && a !== null && typeof a === 'object' && a.constructor === TbByte) return a.v << b;
    return typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b ? a << b : bits('shl', a, b); }
  function shr(a, b) { if (typeof b === 'number' && (b | 0) === b && a !== null && typeof a === 'object' && a.constructor === TbByte) return a.v >> b;
    return typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b ? a >> b : bits('shr', a, b); }
  function ushr(a, b) { return typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b ? (a >>> b) | 0 : bits('ushr', a, b); }
  function bnot(a) {
    if (typeof a === 'number' && (a | 0) === a) return ~a;
    const k = kind(a);
    if (k === K_LONG) return L(~big(a));
    if (k === K_BYTE) return ~a.v;
    throw err('RuntimeException', 'bitwise operation on a non-fixed-point number.');
  }

  // ---- comparison and equality (null compares false; numbers across boxes; deep equals)
  function cmp(a, b) {
    if (a === null || a === undefined || b === null || b === undefined) return NaN;
    const ka = kind(a), kb = kind(b);
    if (ka && kb) {
      if (ka === K_LONG && kb === K_LONG) { const x = big(a), y = big(b); return x < y ? -1 : x > y ? 1 : 0; }
      const x = num(a), y = num(b);
      return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
    }
    if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
    if ((ka && isNumber(b)) || (kb && isNumber(a))) { const x = num(a), y = num(b); return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN; }
    if (a instanceof TbDate && b instanceof TbDate) return a.ms - b.ms;
    throw err('RuntimeException', 'uncomparable values <<' + jstr(a) + '>> and <<' + jstr(b) + '>>');
  }
  function lt(a, b) { return typeof a === 'number' && typeof b === 'number' ? a < b : cmp(a, b) < 0; }
  function gt(a, b) { return typeof a === 'number' && typeof b === 'number' ? a > b : cmp(a, b) > 0; }
  function le(a, b) { return typeof a === 'number' && typeof b === 'number' ? a <= b : cmp(a, b) <= 0; }
  function ge(a, b) { return typeof a === 'number' && typeof b === 'number' ? a >= b : cmp(a, b) >= 0; }
  function eq(a, b) {
    if (a === b) return true;
    if (a === null || a === undefined || b === null || b === undefined) return (a === null || a === undefined) && (b === null || b === undefined);
    const ta = typeof a, tb = typeof b;
    if (ta === 'number' && tb === 'number') return false;
    if (ta === 'string' && tb === 'string') return false;
    const ka = kind(a), kb = kind(b);
    if (ka && kb) {
      if (ka === K_LONG && kb === K_LONG) return big(a) === big(b);
      return num(a) === num(b);
    }
    if (ka && tb === 'string') return isNumber(b) && num(a) === parseFloat(b);
    if (kb && ta === 'string') return isNumber(a) && num(b) === parseFloat(a);
    if (ta === 'boolean' || tb === 'boolean') return toBool(a) === toBool(b);  // MVEL converts both to Boolean
    if ((isArray(a) || a instanceof Int8Array) && (isArray(b) || b instanceof Int8Array)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!eq(a[i], b[i])) return false;
      return true;
    }
    if (a instanceof TbDate && b instanceof TbDate) return a.ms === b.ms;
    if (a instanceof TbEntry && b instanceof TbEntry) return eq(a.key, b.key) && eq(a.value, b.value);
    if (isMap(a) && isMap(b)) {
      let n = 0;
      for (const k in a) {
        if (!hasOwn(a, k)) continue;
        n++;
        if (!hasOwn(b, k) || !eq(a[k], b[k])) return false;
      }
      for (const k in b) if (hasOwn(b, k)) n--;
      return n === 0;
    }
    return false;
  }
  const ObjectProto = Object.prototype;
  const getProto = Object.getPrototypeOf;
  function isMap(o) {  // maps are plain objects: literals, JSON.parse results
    return o !== null && typeof o === 'object' && getProto(o) === ObjectProto;
  }
  function bool(x) {
    if (x === true || x === false) return x;
    if (x === null || x === undefined) return false;
    if (typeof x === 'string') return x.toLowerCase() === 'true';
    if (typeof x === 'number') return x !== 0;
    if (kind(x)) return num(x) !== 0;
    return true;
  }
  function toBool(x) { return bool(x); }

  // Jackson reads 20.0 as a Double: such number tokens (outside strings) are marked and
  // revived as TbDouble; text without any is parsed as is (the common case, no reviver cost).
  // Is there a value like 20.0 (digits, '.', zeros, then , ] or })? Exponent forms (1e3) stay plain.
  function maybeDouble(text) {
    for (let i = text.indexOf('.0'); i > 0; i = text.indexOf('.0', i + 2)) {
      const d = text.charCodeAt(i - 1);
      if (d < 48 || d > 57) continue;
      let j = i + 2;
      while (text.charCodeAt(j) === 48) j++;
      while (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13 || text.charCodeAt(j) === 9) j++;
      const c = text.charCodeAt(j);
      if (c === 44 || c === 93 || c === 125) return true;
    }
    return false;
  }
  const JSON_TOKENS = /"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/g;
  function reviveDouble(k, v) {
    return typeof v === 'string' && v.charCodeAt(0) === 0 && v.charCodeAt(1) === 68 ? D(+v.slice(2)) : v;
  }
  function parseJsonJava(text) {
    if (!maybeDouble(text)) return parseJson(text);
    let marked = false;
    const fixed = text.replace(JSON_TOKENS, (m, n) => {
      if (n === undefined || !/[.eE]/.test(n) || !isInteger(+n)) return m;
      marked = true;
      return '"\\u0000D' + n + '"';
    });
    return marked ? parseJson(fixed, reviveDouble) : parseJson(text);
  }

  const T = {
    TbLong, TbDouble, TbFloat, TbByte, TbEntry, TbDate, BYTES, K_BYTE, K_INT, K_LONG, K_FLOAT, K_DOUBLE,
    kind, num, big, intOf, L, D, F, B, d2i, d2l, toType, isNumber, err, npe, unresolved, dstr, fstr, fdigits, jstr,
    add, sub, mul, div, mod, neg, inc, dec, band, idxand, bor, bxor, shl, shr, ushr, bnot,
    lt, gt, le, ge, eq, bool, toBool, isMap, isArray, hasOwn, stringify, parseJson: parseJsonJava, DateCtor,
  };
  G.__tbel = T;
})();

// ---- member access, indexing, method dispatch, casts, collections
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
    throw err('RuntimeException', 'cannot create an instance of ' + type);
  }
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
    index,
  });
})();

// ---- methods: Java String/List/Map plus ExecutionArrayList/ExecutionHashMap extras
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

// ---- Java regex, String.format, decimal rounding, TbDate, Java statics
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { TbLong, TbDouble, TbFloat, TbByte, TbDate, kind, num, big, intOf, L, D, F, B, d2i, err, npe, jstr, isMap,
    isArray, hasOwn, K_INT, K_LONG, K_BYTE } = T;
  const RegExpCtor = RegExp;
  const cache = new Map();

  // Java regex -> JS: inline (?i)/(?s)/(?m) flags, \A \z \Z, POSIX classes; possessive
  // quantifiers and class intersections have no JS form and are refused.
  const POSIX = { Alpha: 'a-zA-Z', Digit: '0-9', Alnum: 'a-zA-Z0-9', Upper: 'A-Z', Lower: 'a-z', Punct: '!-\\/:-@\\[-`{-~',
    Space: ' \\t\\n\\x0B\\f\\r', XDigit: '0-9a-fA-F', Blank: ' \\t', Cntrl: '\\x00-\\x1F\\x7F', Graph: '!-~', Print: ' -~', ASCII: '\\x00-\\x7F' };
  function regex(src, flags) {
    src = jstr(src);
    const id = flags + ':' + src;
    let re = cache.get(id);
    if (re !== undefined) { re.lastIndex = 0; return re; }
    let s = src, f = flags;
    const m = /^\(\?([imsux]+)\)/.exec(s);
    if (m) { s = s.slice(m[0].length); for (const c of m[1]) if ('ims'.indexOf(c) >= 0 && f.indexOf(c) < 0) f += c; }
    if (/[*+?}][+]/.test(s.replace(/\\./g, '')) || /&&\[/.test(s)) throw err('PatternSyntaxException', 'unsupported Java regex construct in ' + src);
    s = s.replace(/\\([AzZ])|\\p\{(\w+)\}|\\P\{(\w+)\}|\\Q([\s\S]*?)(?:\\E|$)/g, (all, anchor, p, np, q) => {
      if (anchor) return anchor === 'A' ? '^' : '$';
      if (q !== undefined) return q.replace(/[.*+?^${}()|[\]\\\/]/g, '\\$&');
      const cls = POSIX[(p || np).replace(/^Is/, '')];
      if (cls === undefined) return all;
      return (p ? '[' : '[^') + cls + ']';
    });
    try { re = new RegExpCtor(s, f); } catch (e) { throw err('PatternSyntaxException', e.message + ' in ' + src); }
    if (cache.size > 200) cache.clear();
    cache.set(id, re);
    return re;
  }
  function replacement(rep) {
    rep = jstr(rep);
    let out = '';
    for (let i = 0; i < rep.length; i++) {
      const c = rep[i];
      if (c === '\\' && i + 1 < rep.length) { const x = rep[++i]; out += x === '$' ? '$$' : x; }
      else if (c === '$' && rep[i + 1] === '{') { const j = rep.indexOf('}', i); out += '$<' + rep.slice(i + 2, j) + '>'; i = j; }
      else if (c === '$' && /\d/.test(rep[i + 1] || '')) out += '$';
      else if (c === '$') throw err('IllegalArgumentException', 'Illegal group reference');
      else out += c;
    }
    return out;
  }
  // Java String.split: no capture groups in the result; trailing empty strings go when limit is 0.
  function split(s, re, limit) {
    const out = [];
    let src = jstr(re);
    if (s.length === 0) return [''];
    if (src.length === 1 && '.$|()[{^?*+\\'.indexOf(src) < 0 || (src.length === 2 && src[0] === '\\' && !/[0-9a-zA-Z]/.test(src[1]))) {
      const sep = src.length === 2 ? src[1] : src;
      const parts = s.split(sep);
      if (limit > 0 && parts.length > limit) { const head = parts.slice(0, limit - 1); head.push(parts.slice(limit - 1).join(sep)); return trim(head, limit); }
      return trim(parts, limit);
    }
    const r = regex(src, 'g');
    let last = 0, m;
    r.lastIndex = 0;
    while ((m = r.exec(s)) !== null) {
      if (m[0].length === 0) { if (m.index >= s.length) break; if (m.index === 0) { r.lastIndex++; continue; } }
      if (limit > 0 && out.length === limit - 1) break;
      out.push(s.slice(last, m.index));
      last = m.index + m[0].length;
      if (m[0].length === 0) r.lastIndex++;
    }
    out.push(s.slice(last));
    return trim(out, limit);
  }
  function trim(parts, limit) {
    if (limit === 0) while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    if (limit === 0 && parts.length === 1 && parts[0] === '') return parts;
    return parts;
  }

  // BigDecimal.valueOf(d).setScale(p, HALF_UP) on the decimal text of d.
  function plainDecimal(x) {
    let s = typeof x === 'number' ? String(x) : jstr(x);
    if (x instanceof TbFloat) s = T.fdigits(x.v);
    const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([-+]\d+))?$/i.exec(s);
    if (!m) return s;
    let int = m[2], frac = m[3] || '';
    const e = m[4] ? +m[4] : 0;
    if (e > 0) { frac = frac.padEnd(e, '0'); int += frac.slice(0, e); frac = frac.slice(e); }
    else if (e < 0) { int = int.padStart(-e + 1, '0'); frac = int.slice(int.length + e) + frac; int = int.slice(0, int.length + e); }
    return m[1] + (int.replace(/^0+(?=\d)/, '') || '0') + (frac ? '.' + frac : '');
  }
  function roundHalfUp(x, p) {
    const s = plainDecimal(x);
    const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
    if (!m) return s;
    let int = m[2], frac = (m[3] || '');
    if (frac.length <= p) return m[1] + int + (p > 0 ? '.' + frac.padEnd(p, '0') : '');
    const up = frac.charCodeAt(p) >= 53;
    let digits = int + frac.slice(0, p);
    if (up) {
      let arr = digits.split(''), i = arr.length - 1;
      while (i >= 0) { if (arr[i] === '9') { arr[i] = '0'; i--; } else { arr[i] = String.fromCharCode(arr[i].charCodeAt(0) + 1); break; } }
      if (i < 0) arr.unshift('1');
      digits = arr.join('');
    }
    const ip = digits.slice(0, digits.length - p) || '0', fp = digits.slice(digits.length - p);
    const neg = m[1] && /[1-9]/.test(digits);
    return (neg ? '-' : '') + ip + (p > 0 ? '.' + fp : '');
  }

  function group(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function hexOf(x, upper) {
    const k = kind(x);
    let h;
    if (k === K_BYTE) h = (x.v & 0xff).toString(16);
    else if (k === K_LONG) h = BigInt.asUintN(64, big(x)).toString(16);
    else if (k === K_INT) h = (x >>> 0).toString(16);
    else if (x instanceof TbLong) h = BigInt.asUintN(64, x.b).toString(16);
    else throw err('IllegalFormatConversionException', 'x != ' + T.typeName(x));
    return upper ? h.toUpperCase() : h;
  }
  function integral(x, conv) {
    const k = kind(x);
    if (k !== K_INT && k !== K_LONG && k !== K_BYTE) throw err('IllegalFormatConversionException', conv + ' != java.lang.' + T.typeName(x));
    return k === K_LONG ? big(x).toString() : String(num(x));
  }
  function format(fmt) {
    const args = Array.prototype.slice.call(arguments, 1);
    if (args.length === 1 && isArray(args[0]) && /%/.test(fmt)) { /* varargs passed as a list stay a list */ }
    let next = 0;
    return jstr(fmt).replace(/%(\d+\$)?([-#+ 0,(]*)(\d+)?(\.\d+)?([a-zA-Z%])/g, (all, pos, flags, width, prec, conv) => {
      if (conv === '%') return '%';
      if (conv === 'n') return '\n';
      const i = pos ? parseInt(pos, 10) - 1 : next++;
      if (i >= args.length) throw err('MissingFormatArgumentException', "Format specifier '" + all + "'");
      const x = args[i];
      const p = prec ? parseInt(prec.slice(1), 10) : -1;
      let s;
      switch (conv) {
        case 'd': s = x === null ? 'null' : integral(x, 'd'); if (flags.indexOf(',') >= 0) s = s.replace(/\d+/, group); break;
        case 'x': case 'X': s = x === null ? 'null' : hexOf(x, conv === 'X'); if (flags.indexOf('#') >= 0) s = (conv === 'X' ? '0X' : '0x') + s; break;
        case 'o': s = (kind(x) === K_LONG ? BigInt.asUintN(64, big(x)) : (intOf(x) >>> 0)).toString(8); break;
        case 'f': case 'e': case 'E': case 'g': case 'G': {
          if (x === null) { s = 'null'; break; }
          const k = kind(x);
          if (!k || k === K_INT || k === K_LONG || k === K_BYTE) {
            if (k && typeof x === 'number' && !isInteger(x)) { /* a plain non-integral number is a Double */ }
            else throw err('IllegalFormatConversionException', conv + ' != java.lang.' + T.typeName(x));
          }
          const v = num(x);
          if (conv === 'f') { s = v !== v || !isFinite(v) ? T.dstr(v) : roundHalfUp(x, p < 0 ? 6 : p); if (flags.indexOf(',') >= 0) s = s.replace(/\d+/, group); }
          else if (conv === 'e' || conv === 'E') { s = v.toExponential(p < 0 ? 6 : p).replace(/e([-+])(\d)$/, 'e$10$2'); if (conv === 'E') s = s.toUpperCase(); }
          else s = v.toPrecision(p < 0 ? 6 : p || 1);
          break;
        }
        case 's': case 'S': s = jstr(x); if (p >= 0) s = s.slice(0, p); if (conv === 'S') s = s.toUpperCase(); break;
        case 'c': s = x === null ? 'null' : typeof x === 'string' ? x : String.fromCharCode(intOf(x)); break;
        case 'b': case 'B': s = x === null ? 'false' : typeof x === 'boolean' ? String(x) : 'true'; break;
        case 'h': s = x === null ? 'null' : (T.STR.hashCode(jstr(x)) >>> 0).toString(16); break;
        default: throw err('UnknownFormatConversionException', "Conversion = '" + conv + "'");
      }
      if (flags.indexOf('+') >= 0 && /^[0-9]/.test(s) && 'dfeg'.indexOf(conv.toLowerCase()) >= 0) s = '+' + s;
      else if (flags.indexOf(' ') >= 0 && /^[0-9]/.test(s)) s = ' ' + s;
      if (flags.indexOf('(') >= 0 && s[0] === '-') s = '(' + s.slice(1) + ')';
      const w = width ? parseInt(width, 10) : 0;
      if (s.length < w) {
        if (flags.indexOf('-') >= 0) s = s.padEnd(w);
        else if (flags.indexOf('0') >= 0) { const sign = /^[-+ ]/.test(s) ? s[0] : ''; const body = s.slice(sign.length); const pre = /^0[xX]/.test(body) ? body.slice(0, 2) : ''; s = sign + pre + body.slice(pre.length).padStart(w - sign.length - pre.length, '0'); }
        else s = s.padStart(w);
      }
      return s;
    });
  }
  const isInteger = Number.isInteger;

  // ---- TbDate: ISO text (with +0000 or +00:00 offsets), epoch millis, or fields (as JS Date).
  function newDate(a) {
    const DateCtor = T.DateCtor;
    if (a.length === 0) return new TbDate(DateCtor.now());
    if (a.length === 1) {
      const x = a[0];
      if (x instanceof TbDate) return new TbDate(x.ms);
      if (typeof x === 'string') return new TbDate(parseDate(x));
      return new TbDate(num(x));
    }
    // TbDate(year, month 1-12, date, hrs, min, sec, ms) in the server's zone (UTC here)
    const f = a.map((x) => (typeof x === 'string' ? parseInt(x, 10) : num(x)));
    let y = f[0];
    y = y < 70 ? 2000 + y : y <= 99 ? 1900 + y : y;
    return new TbDate(DateCtor.UTC(y, (f[1] || 1) - 1, f.length > 2 ? f[2] : 1, f[3] || 0, f[4] || 0, f[5] || 0, f[6] || 0));
  }
  const ISO_OFFSET = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(?:([+-]\d\d):?(\d\d)|(Z))$/;
  function parseDate(s) {
    // an offset with seconds (+03:00:00, +043056), which JS cannot read: the rest read as UTC, then shifted
    const os = /^(.*\d)\s*([+-])(\d\d):?(\d\d):?(\d\d)$/.exec(s.trim());
    if (os !== null && /\d\d:\d\d/.test(os[1])) {
      const at = parseDate(/^\d/.test(os[1]) ? os[1] + 'Z' : os[1] + ' GMT');
      return at - (os[2] === '-' ? -1 : 1) * ((+os[3] * 60 + +os[4]) * 60 + +os[5]) * 1000;
    }
    const m = ISO_OFFSET.exec(s);
    if (m !== null) {
      const ms = T.DateCtor.parse(m[4] ? s : m[1] + m[2] + ':' + m[3]);
      if (ms === ms) return ms;
    }
    let t = s.trim();
    if (!/^\d/.test(t)) { const rfc = T.DateCtor.parse(t); if (rfc === rfc) return rfc; }
    t = t.replace(' ', 'T');
    if (/^\d{4}-\d\d-\d\d$/.test(t)) t += 'T00:00:00Z';
    else if (t.indexOf('T') > 0) {
      t = t.replace(/(T[\d:.]+)([+-]\d\d)(\d\d)$/, '$1$2:$3').replace(/(T[\d:.]+)([+-]\d\d)$/, '$1$2:00');
      if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(t)) t += 'Z';
    }
    const ms = T.DateCtor.parse(t);
    if (ms !== ms) throw err('DateTimeParseException', "Text '" + s + "' could not be parsed");
    return ms;
  }
  function instantText(ms) { const t = new T.DateCtor(ms).toISOString(); return t.endsWith('.000Z') ? t.slice(0, -5) + 'Z' : t; }
  const DATE = Object.create(null);
  const dget = (name) => (d) => new T.DateCtor(d.ms)[name]();
  Object.assign(DATE, {
    getTime: (d) => new TbLong(BigInt(Math.trunc(d.ms))), valueOf: (d) => new TbLong(BigInt(Math.trunc(d.ms))),
    // Java's Instant.toString: no fraction when the milliseconds are 0 (2023-08-06T04:04:05Z)
    toISOString: (d) => instantText(d.ms), toJSON: (d) => instantText(d.ms),
    toString: (d) => new T.DateCtor(d.ms).toISOString(),
    getFullYear: dget('getUTCFullYear'), getYear: dget('getUTCFullYear'), getMonth: (d) => new T.DateCtor(d.ms).getUTCMonth() + 1,
    getDate: dget('getUTCDate'), getDay: (d) => new T.DateCtor(d.ms).getUTCDay() || 7, getUTCDay: (d) => new T.DateCtor(d.ms).getUTCDay() || 7, getHours: dget('getUTCHours'), getMinutes: dget('getUTCMinutes'), getSeconds: dget('getUTCSeconds'),
    getMilliseconds: dget('getUTCMilliseconds'), getUTCFullYear: dget('getUTCFullYear'), getUTCMonth: (d) => new T.DateCtor(d.ms).getUTCMonth() + 1,
    getUTCDate: dget('getUTCDate'), getUTCHours: dget('getUTCHours'), getUTCMinutes: dget('getUTCMinutes'), getUTCSeconds: dget('getUTCSeconds'),
    toLocaleString: (d) => new T.DateCtor(d.ms).toISOString(),
    equals: (d, x) => x instanceof TbDate && x.ms === d.ms,
    before: (d, x) => d.ms < x.ms, after: (d, x) => d.ms > x.ms,
  });

  Object.assign(T, { regex, replacement, split, plainDecimal, roundHalfUp, format, newDate, parseDate, DATE, hexOf });
})();

// ---- Java statics (Integer, Long, Math, String, Arrays, ...)
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { TbLong, TbDate, kind, num, big, intOf, L, D, F, B, d2i, d2l, err, npe, jstr, isMap, isArray, hasOwn,
    K_INT, K_LONG, K_BYTE, K_FLOAT, K_DOUBLE } = T;

  function nfe(s) { return err('NumberFormatException', 'For input string: "' + jstr(s) + '"'); }
  function parseIntStrict(s, radix, bitsN) {
    if (s === null || s === undefined) throw err('NumberFormatException', 'Cannot parse null string: null');
    s = jstr(s);
    const r = radix === undefined ? 10 : intOf(radix);
    const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, r);
    const m = /^([-+]?)(.+)$/.exec(s);
    if (!m || !m[2].toLowerCase().split('').every((c) => digits.indexOf(c) >= 0)) throw nfe(s);
    let v = 0n;
    const R = BigInt(r);
    for (const c of m[2].toLowerCase()) v = v * R + BigInt(digits.indexOf(c));
    if (m[1] === '-') v = -v;
    const lim = 1n << BigInt(bitsN - 1);
    if (v >= lim || v < -lim) throw nfe(s);
    return v;
  }
  const S = {};
  S.Integer = {
    MIN_VALUE: -2147483648, MAX_VALUE: 2147483647, SIZE: 32, BYTES: 4,
    parseInt: (s, r) => Number(parseIntStrict(s, r, 32)),
    valueOf: (s, r) => typeof s === 'string' ? Number(parseIntStrict(s, r, 32)) : T.toInt(s),
    toString: (x, r) => (r === undefined ? String(intOf(x)) : intOf(x).toString(intOf(r))),
    toHexString: (x) => (intOf(x) >>> 0).toString(16),
    toBinaryString: (x) => (intOf(x) >>> 0).toString(2),
    toOctalString: (x) => (intOf(x) >>> 0).toString(8),
    compare: (a, b) => (intOf(a) < intOf(b) ? -1 : intOf(a) > intOf(b) ? 1 : 0),
    signum: (x) => Math.sign(intOf(x)), bitCount: (x) => { let v = intOf(x) >>> 0, n = 0; while (v) { n += v & 1; v >>>= 1; } return n; },
    max: (a, b) => Math.max(intOf(a), intOf(b)), min: (a, b) => Math.min(intOf(a), intOf(b)), sum: (a, b) => T.add(intOf(a), intOf(b)),
    reverseBytes: (x) => { const v = intOf(x); return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); },
    toUnsignedString: (x) => String(intOf(x) >>> 0), toUnsignedLong: (x) => new TbLong(BigInt(intOf(x) >>> 0)),
  };
  S.Long = {
    MIN_VALUE: new TbLong(-9223372036854775808n), MAX_VALUE: new TbLong(9223372036854775807n), SIZE: 64, BYTES: 8,
    parseLong: (s, r) => new TbLong(parseIntStrict(s, r, 64)),
    valueOf: (s, r) => typeof s === 'string' ? new TbLong(parseIntStrict(s, r, 64)) : T.toLong(s),
    toString: (x, r) => big(x).toString(r === undefined ? 10 : intOf(r)),
    toHexString: (x) => BigInt.asUintN(64, big(x)).toString(16),
    toBinaryString: (x) => BigInt.asUintN(64, big(x)).toString(2),
    toOctalString: (x) => BigInt.asUintN(64, big(x)).toString(8),
    compare: (a, b) => (big(a) < big(b) ? -1 : big(a) > big(b) ? 1 : 0),
    signum: (x) => (big(x) > 0n ? 1 : big(x) < 0n ? -1 : 0),
    max: (a, b) => (big(a) > big(b) ? T.toLong(a) : T.toLong(b)), min: (a, b) => (big(a) < big(b) ? T.toLong(a) : T.toLong(b)),
  };
  function parseDouble(s) {
    if (s === null || s === undefined) throw npe('parseDouble(null)');
    const t = jstr(s).trim();
    if (!/^[-+]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)[fFdD]?)$/.test(t)) throw nfe(s);
    return parseFloat(t.replace(/[fFdD]$/, ''));
  }
  S.Double = {
    MAX_VALUE: D(Number.MAX_VALUE), MIN_VALUE: 5e-324, NaN: NaN, POSITIVE_INFINITY: Infinity, NEGATIVE_INFINITY: -Infinity,
    parseDouble: (s) => D(parseDouble(s)), valueOf: (s) => D(typeof s === 'string' ? parseDouble(s) : num(s)),
    toString: (x) => T.dstr(num(x)), isNaN: (x) => num(x) !== num(x), isFinite: (x) => isFinite(num(x)),
    isInfinite: (x) => Math.abs(num(x)) === Infinity, compare: (a, b) => (num(a) < num(b) ? -1 : num(a) > num(b) ? 1 : 0),
    longBitsToDouble: (x) => { const dv = new DataView(new ArrayBuffer(8)); dv.setBigInt64(0, big(x)); return D(dv.getFloat64(0)); },
    doubleToLongBits: (x) => { const dv = new DataView(new ArrayBuffer(8)); dv.setFloat64(0, num(x)); return new TbLong(dv.getBigInt64(0)); },
    sum: (a, b) => D(num(a) + num(b)), max: (a, b) => D(Math.max(num(a), num(b))), min: (a, b) => D(Math.min(num(a), num(b))),
  };
  S.Float = {
    MAX_VALUE: F(3.4028234663852886e38), MIN_VALUE: F(1.401298464324817e-45), NaN: F(NaN),
    parseFloat: (s) => F(parseDouble(s)), valueOf: (s) => F(typeof s === 'string' ? parseDouble(s) : num(s)),
    toString: (x) => T.fstr(Math.fround(num(x))), isNaN: (x) => num(x) !== num(x),
    intBitsToFloat: (x) => { const dv = new DataView(new ArrayBuffer(4)); dv.setInt32(0, intOf(x)); return F(dv.getFloat32(0)); },
    floatToIntBits: (x) => { const dv = new DataView(new ArrayBuffer(4)); dv.setFloat32(0, num(x)); return dv.getInt32(0); },
  };
  S.Boolean = {
    TRUE: true, FALSE: false,
    parseBoolean: (s) => typeof s === 'string' && s.toLowerCase() === 'true',
    valueOf: (s) => (typeof s === 'boolean' ? s : typeof s === 'string' && s.toLowerCase() === 'true'),
    toString: (b) => jstr(b), logicalAnd: (a, b) => a && b, logicalOr: (a, b) => a || b, logicalXor: (a, b) => a !== b,
  };
  S.Byte = {
    MIN_VALUE: B(-128), MAX_VALUE: B(127),
    parseByte: (s, r) => B(Number(parseIntStrict(s, r, 8))), valueOf: (s) => (typeof s === 'string' ? B(Number(parseIntStrict(s, 10, 8))) : T.toByte(s)),
    toUnsignedInt: (b) => intOf(b) & 0xff, toString: (b) => jstr(b),
  };
  S.Short = { MIN_VALUE: -32768, MAX_VALUE: 32767, parseShort: (s, r) => Number(parseIntStrict(s, r, 16)), toUnsignedInt: (x) => intOf(x) & 0xffff };
  S.Character = {
    isDigit: (c) => /^[0-9]$/.test(T.toChar(c)), isLetter: (c) => /^[a-zA-Z\u00C0-\uFFFF]$/.test(T.toChar(c)),
    isLetterOrDigit: (c) => /^[a-zA-Z0-9\u00C0-\uFFFF]$/.test(T.toChar(c)), isWhitespace: (c) => /^\s$/.test(T.toChar(c)),
    isUpperCase: (c) => { const x = T.toChar(c); return x !== x.toLowerCase(); }, isLowerCase: (c) => { const x = T.toChar(c); return x !== x.toUpperCase(); },
    toUpperCase: (c) => T.toChar(c).toUpperCase(), toLowerCase: (c) => T.toChar(c).toLowerCase(),
    getNumericValue: (c) => parseInt(T.toChar(c), 36), toString: (c) => T.toChar(c), valueOf: (c) => T.toChar(c),
  };
  S.String = {
    format: T.format,
    join: function (sep) {
      const items = arguments.length === 2 && (isArray(arguments[1]) || arguments[1] instanceof Int8Array) ? T.seq(arguments[1]) : Array.prototype.slice.call(arguments, 1);
      return items.map(jstr).join(jstr(sep));
    },
    valueOf: (x) => jstr(x),
    copyValueOf: (x) => (isArray(x) ? x.join('') : jstr(x)),
  };
  function sameKind(a, b, v) {
    const k = Math.max(kind(a), kind(b));
    return k === K_DOUBLE || k === K_FLOAT ? T.toType(v, k) : T.toType(v, k);
  }
  S.Math = {
    PI: Math.PI, E: Math.E,
    abs: (x) => (kind(x) === K_LONG ? L(big(x) < 0n ? -big(x) : big(x)) : T.toType(Math.abs(num(x)), kind(x) === K_BYTE ? K_INT : kind(x))),
    pow: (a, b) => D(Math.pow(num(a), num(b))), sqrt: (x) => D(Math.sqrt(num(x))), cbrt: (x) => D(Math.cbrt(num(x))),
    log: (x) => D(Math.log(num(x))), log10: (x) => D(Math.log10(num(x))), log1p: (x) => D(Math.log1p(num(x))), exp: (x) => D(Math.exp(num(x))),
    floor: (x) => D(Math.floor(num(x))), ceil: (x) => D(Math.ceil(num(x))), rint: (x) => D(Math.round(num(x))),
    round: (x) => (kind(x) === K_FLOAT ? d2i(Math.floor(num(x) + 0.5)) : new TbLong(d2l(Math.floor(num(x) + 0.5)))),
    min: (a, b) => sameKind(a, b, Math.min(num(a), num(b))), max: (a, b) => sameKind(a, b, Math.max(num(a), num(b))),
    random: () => D(Math.random()), signum: (x) => D(Math.sign(num(x))), hypot: (a, b) => D(Math.hypot(num(a), num(b))),
    sin: (x) => D(Math.sin(num(x))), cos: (x) => D(Math.cos(num(x))), tan: (x) => D(Math.tan(num(x))),
    asin: (x) => D(Math.asin(num(x))), acos: (x) => D(Math.acos(num(x))), atan: (x) => D(Math.atan(num(x))),
    atan2: (a, b) => D(Math.atan2(num(a), num(b))), toRadians: (x) => D(num(x) * Math.PI / 180), toDegrees: (x) => D(num(x) * 180 / Math.PI),
    floorDiv: (a, b) => sameKind(a, b, Math.floor(num(a) / num(b))), floorMod: (a, b) => sameKind(a, b, ((num(a) % num(b)) + num(b)) % num(b)),
  };
  S.Arrays = {
    copyOfRange: (a, from, to) => {
      const x = intOf(from), y = intOf(to);
      if (a === null || a === undefined) throw npe('copyOfRange(null)');
      if (x < 0 || x > a.length) throw err('ArrayIndexOutOfBoundsException', 'Index ' + x + ' out of bounds for length ' + a.length);
      if (x > y) throw err('IllegalArgumentException', x + ' > ' + y);
      if (a instanceof Int8Array) { const r = new Int8Array(y - x); r.set(a.subarray(x, Math.min(y, a.length))); return r; }
      const r = a.slice(x, y);
      while (r.length < y - x) r.push(null);
      return r;
    },
    copyOf: (a, n) => S.Arrays.copyOfRange(a, 0, n),
    asList: function () { return arguments.length === 1 && isArray(arguments[0]) ? arguments[0].slice() : Array.prototype.slice.call(arguments); },
    toString: (a) => jstr(a), equals: (a, b) => T.eq(a, b),
    fill: (a, v) => { T.touched(a); for (let i = 0; i < a.length; i++) a[i] = a instanceof Int8Array ? intOf(v) : v; return null; },
    sort: (a) => { T.touched(a); if (a instanceof Int8Array) a.sort(); else a.sort(T.sortKey); return null; },
  };
  S.Collections = {
    sort: (l) => { T.touched(l); l.sort(T.sortKey); return null; }, reverse: (l) => { T.touched(l); l.reverse(); return null; },
    emptyList: () => [], emptyMap: () => ({}), singletonList: (x) => [x], max: (l) => l.reduce((a, b) => (T.gt(b, a) ? b : a)),
    min: (l) => l.reduce((a, b) => (T.lt(b, a) ? b : a)),
  };
  S.System = { currentTimeMillis: () => new TbLong(BigInt(T.DateCtor.now())), nanoTime: () => new TbLong(BigInt(T.DateCtor.now()) * 1000000n) };
  S.Date = { now: () => new TbLong(BigInt(T.DateCtor.now())), parse: (s) => new TbLong(BigInt(T.parseDate(jstr(s)))),
    UTC: function () {
      const a = Array.prototype.slice.call(arguments);
      while (a.length < 3) a.push(0);
      if (num(a[0]) === 0) a[0] = 1899;
      if (num(a[1]) === 0) a[1] = 12;
      if (num(a[2]) === 0) a[2] = 31;
      return new TbLong(BigInt(T.newDate(a).ms));
    } };
  S.JSON = {
    stringify: (x) => { const s = T.stringify(x); return s === undefined ? null : s; },
    parse: (s) => T.parseJson(jstr(s)),
  };
  S.Object = {
    assign: function (target) {
      T.touched(target);
      for (let i = 1; i < arguments.length; i++) { const o = arguments[i]; if (o !== null && o !== undefined) for (const k in o) if (hasOwn(o, k)) T.mapPut(target, k, o[k]); }
      return target;
    },
    keys: (m) => T.keys(m), values: (m) => T.values(m),
  };
  S.Number = { isInteger: (x) => Number.isInteger(num(x)), isNaN: (x) => num(x) !== num(x), parseFloat: (s) => D(parseFloat(jstr(s))), parseInt: (s, r) => parseInt(jstr(s), r === undefined ? 10 : intOf(r)) };
  T.S = S;
  T.parseIntStrict = parseIntStrict;
  T.parseDoubleStrict = parseDouble;
})();

// ---- TbUtils: ThingsBoard's TBEL helpers
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { TbLong, TbFloat, TbByte, BYTES, kind, num, big, intOf, L, D, F, B, err, npe, jstr, isMap, isArray, hasOwn, K_LONG } = T;
  const fromCharCode = String.fromCharCode;
  const nonAscii = /[\x80-\xff]/;
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

  function raw(data) {  // List<Byte>/byte[]/List<Integer|String> -> Int8Array
    if (data === null || data === undefined) throw npe('bytes are null');
    if (data === T.payload.list && data.length === T.payload.raw.length) return Int8Array.from(T.payload.raw);
    if (data instanceof Int8Array) return data;
    if (typeof data === 'string') return utf8(data);
    const n = data.length, r = new Int8Array(n);
    for (let i = 0; i < n; i++) {
      const x = data[i];
      r[i] = x instanceof TbByte ? x.v : slowByte(x);
    }
    return r;
  }
  function slowByte(x) {
    const v = typeof x === 'string' ? f.parseInt(x) : intOf(x);
    if (v > 255 || v < -128) throw err('NumberFormatException', "The value '" + jstr(x) + "' could not be correctly converted to a byte.");
    return v;
  }
  function list(bytes) { const r = new Array(bytes.length); for (let i = 0; i < bytes.length; i++) r[i] = BYTES[bytes[i] + 128]; return r; }
  function utf8(s) {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.codePointAt(i);
      if (c > 0xffff) i++;
      if (c >= 0xd800 && c <= 0xdfff) c = 0x3f;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return Int8Array.from(out);
  }
  function decodeUtf8(b) {
    let ascii = true;
    const n = b.length;
    for (let i = 0; i < n; i++) if (b[i] < 0) { ascii = false; break; }
    if (ascii) {
      let out = '';
      for (let i = 0; i < n; i += 8192) out += fromCharCode.apply(null, b.subarray(i, Math.min(n, i + 8192)));
      return out;
    }
    let s = '';
    for (let i = 0; i < b.length;) {
      const c = b[i] & 0xff;
      let cp, n;
      if (c < 0x80) { cp = c; n = 1; }
      else if (c >= 0xc2 && c < 0xe0) { cp = c & 31; n = 2; }
      else if (c >= 0xe0 && c < 0xf0) { cp = c & 15; n = 3; }
      else if (c >= 0xf0 && c < 0xf5) { cp = c & 7; n = 4; }
      else { s += '\ufffd'; i++; continue; }
      let ok = i + n <= b.length;
      for (let j = 1; ok && j < n; j++) { const x = b[i + j] & 0xff; if ((x & 0xc0) !== 0x80) ok = false; else cp = (cp << 6) | (x & 63); }
      if (!ok) { s += '\ufffd'; i++; continue; }
      s += String.fromCodePoint(cp);
      i += n;
    }
    return s;
  }
  function text(b) {
    const p = T.payload;
    if (b === p.list && b.length === p.raw.length) {
      const r = p.raw, n = r.length;
      let ascii = true;
      for (let i = 0; i < n; i++) if (r[i] > 127) { ascii = false; break; }
      if (ascii) {
        let out = '';
        for (let i = 0; i < n; i += 8192) out += fromCharCode.apply(null, i === 0 && n <= 8192 ? r : r.slice(i, i + 8192));
        return out;
      }
    }
    return decodeUtf8(raw(b));
  }
  function latin1(b) { let s = ''; for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] & 0xff); return s; }
  function charsetDecode(b, cs) {
    const c = cs === undefined || cs === null ? 'UTF-8' : jstr(cs).toUpperCase();
    if (c === 'UTF-8' || c === 'UTF8') return decodeUtf8(b);
    if (c === 'ISO-8859-1' || c === 'LATIN1' || c === 'US-ASCII' || c === 'ASCII') return latin1(c.indexOf('ASCII') >= 0 ? b.map((x) => x & 0x7f) : b);
    throw err('UnsupportedEncodingException', jstr(cs));
  }
  function b64encode(b) {
    let s = '';
    for (let i = 0; i < b.length; i += 3) {
      const x = b[i] & 0xff, y = i + 1 < b.length ? b[i + 1] & 0xff : 0, z = i + 2 < b.length ? b[i + 2] & 0xff : 0;
      s += B64[x >> 2] + B64[((x & 3) << 4) | (y >> 4)] + (i + 1 < b.length ? B64[((y & 15) << 2) | (z >> 6)] : '=') + (i + 2 < b.length ? B64[z & 63] : '=');
    }
    return s;
  }
  const atobFn = globalThis.atob;
  function b64decode(s) {
    s = jstr(s);
    if (typeof atobFn === 'function') {
      let bin;
      try { bin = atobFn(s); } catch (e) { throw err('IllegalArgumentException', 'Illegal base64 character in "' + s + '"'); }
      const out = new Int8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    s = s.replace(/[\r\n]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || (s.replace(/=+$/, '').length % 4 === 1)) throw err('IllegalArgumentException', 'Illegal base64 character in "' + s + '"');
    const t = s.replace(/=+$/, '');
    const out = new Int8Array(Math.floor(t.length * 3 / 4));
    let bitsAcc = 0, n = 0, o = 0;
    for (let i = 0; i < t.length; i++) {
      bitsAcc = (bitsAcc << 6) | B64.indexOf(t[i]); n += 6;
      if (n >= 8) { n -= 8; out[o++] = (bitsAcc >> n) & 0xff; }
    }
    return out;
  }
  const HEX = '0123456789ABCDEF';
  function hex(b) { let s = ''; for (let i = 0; i < b.length; i++) { const v = b[i] & 0xff; s += HEX[v >> 4] + HEX[v & 15]; } return s; }
  function prepare(value, bigEndian) {
    if (value === null || value === undefined || jstr(value).trim() === '') return null;
    let v = jstr(value).trim().split('0x').join('').split('0X').join('').split(',').join('.');
    return bigEndian === false ? reverseHex(v) : v;
  }
  function reverseHex(v) {
    if (v.startsWith('-')) throw err('IllegalArgumentException', 'The hexadecimal string must be without a negative sign.');
    if (v.length % 2) throw err('IllegalArgumentException', 'The hexadecimal string must be even-length.');
    let r = '';
    for (let i = v.length - 2; i >= 0; i -= 2) r += v.slice(i, i + 2);
    return r;
  }
  const isBinary = (s) => (typeof s === 'string' && /^[01]+$/.test(s) ? 2 : -1);
  const isOctal = (s) => (typeof s === 'string' && /^[0-7]+$/.test(s) ? 8 : -1);
  const isDecimal = (s) => (typeof s === 'string' && /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? 10 : -1);
  const isHexadecimal = (s) => (typeof s === 'string' && /^-?(0[xX])?[0-9a-fA-F]+$/.test(s) ? 16 : -1);
  const asText = (s) => (s === null || s === undefined ? s : jstr(s));
  function radixOf(valueP, radix, value) {
    let r;
    if (!radix) {
      r = isDecimal(valueP) > 0 ? 10 : isHexadecimal(valueP);
      if (r < 0) throw err('NumberFormatException', 'Value: "' + value + '" is not numeric or hexDecimal format!');
    } else if (radix >= 25 && radix <= 36) return radix;
    else if (radix === 2) r = isBinary(valueP);
    else if (radix === 8) r = isOctal(valueP);
    else if (radix === 10) r = isDecimal(valueP);
    else if (radix === 16) r = isHexadecimal(valueP);
    else throw err('IllegalArgumentException', 'Invalid radix: [' + radix + ']');
    if (r < 0) throw err('NumberFormatException', radix ? 'Failed radix [' + radix + '] for value: "' + value + '", must be [' + r + '] !' : 'Invalid "' + value + '". It is not numeric or hexadecimal format!');
    if (jstr(value).startsWith('0x')) r = 16;
    if (r === 16) { const v = jstr(value).startsWith('-') ? jstr(value).slice(1) : jstr(value); if (v.length % 2) throw err('NumberFormatException', 'The hexadecimal value: "' + value + '" must be of even length, or if the decimal value must be a number!'); }
    return r;
  }
  function parseIntLong(value, radix, bigEndian, bitsN) {
    const p = prepare(value, bigEndian);
    if (p === null) return null;
    const r = radixOf(p, radix === undefined ? 0 : intOf(radix), value);
    if (r === 2) {  // two's complement of the padded binary string
      const s = p.padStart(bitsN, '0');
      return BigInt.asIntN(bitsN, BigInt('0b' + s));
    }
    return T.parseIntStrict(p, r, bitsN);
  }
  function bytesArg(data) { return data instanceof Int8Array ? data : raw(data); }
  function readInt(data, offset, length, bigEndian, max) {
    const b = data instanceof Int8Array ? data : raw(data);
    const off = offset === undefined ? 0 : intOf(offset);
    const len = length === undefined ? (b.length < off ? b.length : Math.min(b.length - off, max)) : intOf(length);
    if (off > b.length) throw err('IllegalArgumentException', 'Offset: ' + off + ' is out of bounds for array with length: ' + b.length + '!');
    if (off + len > b.length) throw err('IllegalArgumentException', 'Offset: ' + off + ' and Length: ' + len + ' is out of bounds for array with length: ' + b.length + '!');
    if (len > max) throw err('IllegalArgumentException', 'Length: ' + len + ' is too large. Maximum ' + max + ' bytes is allowed!');
    readLen = len;
    if (len <= 6) {  // exact in a double: no BigInt
      let v = 0;
      for (let i = 0; i < len; i++) v = v * 256 + (b[bigEndian === false ? off + len - 1 - i : off + i] & 0xff);
      return v;
    }
    let v = 0n;
    for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[bigEndian === false ? off + len - 1 - i : off + i] & 0xff);
    return v;
  }
  let readLen = 0;
  function floatBits(data, offset, length, bigEndian, size) {
    const v = BigInt(readInt(data, offset, length, bigEndian, size));
    const dv = new DataView(new ArrayBuffer(8));
    // TbUtils 4.x: a short read fills the value's low end either way (a 4-byte buffer, the bytes put
    // at its far end for big-endian, at its start for little-endian): [0x41, 0xEA] LE is 0x0000EA41
    const shifted = v;
    if (size === 4) { dv.setUint32(0, Number(shifted)); return dv.getFloat32(0); }
    dv.setBigUint64(0, shifted);
    return dv.getFloat64(0);
  }
  function binary(v, n, bigEndian) {
    const r = [];
    for (let i = n - 1; i >= 0; i--) r.push(Number((v >> BigInt(i)) & 1n));
    return bigEndian === false ? r.reverse() : r;
  }
  function hexNumber(number, bigEndian, pref, len, max) {
    const n = big(number);
    let h = BigInt.asUintN(64, n).toString(16).toUpperCase();
    max = max < 0 ? h.length : max;
    h = h.replace(/^0+(?!$)/, '');
    if (h.length % 2) h = '0' + h;
    if (n < 0n) {
      let g = h.replace(/^F+(?!$)/, '');
      if (g.length % 2) g = 'F' + g;
      h = g.length > max ? g.slice(g.length - max) : g.length === max ? g : 'FF' + g;
    }
    if (bigEndian === false) h = reverseHex(h);
    const l = len === undefined || len === -1 || len === 0 ? h.length : intOf(len);
    const out = h.slice(Math.max(0, h.length - l));
    return pref === true ? '0x' + out : out;
  }
  function flat(json, map, exclude, path, pathInKey) {
    if (isArray(json)) {
      for (let i = 0; i < json.length; i++) flat(json[i], map, exclude, path + '.' + i, pathInKey);
    } else if (isMap(json)) {
      for (const k in json) {
        if (!hasOwn(json, k) || exclude.indexOf(k) >= 0) continue;
        flat(json[k], map, exclude, path ? path + '.' + k : k, pathInKey);
      }
    } else if (pathInKey) T.mapPut(map, path, json);
    else {
      let k = path.slice(path.lastIndexOf('.') + 1);
      if (/^\d+$/.test(k)) { let pos = path.length; for (let i = 0; i < 2; i++) pos = path.lastIndexOf('.', pos - 1); k = path.slice(pos + 1); }
      T.mapPut(map, k, json);
    }
  }
  const URI_KEEP = /[A-Za-z0-9\-_.!~*'();/?:@&=+$,#]/;

  const f = {
    decodeToString: (b) => text(b),
    latin1Text: (s) => {  // the decoder's payload as the latin-1 string it arrived as (not TBEL-visible)
      if (!nonAscii.test(s)) return s;
      const b = new Int8Array(s.length);
      for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
      return decodeUtf8(b);
    },
    unsignedText: (p) => {  // the decoder's payload as unsigned bytes (not a TBEL-visible name)
      const n = p.length;
      let out = '';
      for (let i = 0; i < n; i += 8192) out += fromCharCode.apply(null, n <= 8192 ? p : p.slice(i, i + 8192));
      return nonAscii.test(out) ? decodeUtf8(Int8Array.from(p)) : out;
    },
    decodeToJson: (b) => T.parseJson(typeof b === 'string' ? b : text(b)),
    bytesToString: (b, cs) => charsetDecode(raw(b), cs),
    stringToBytes: (s, cs) => {
      if (typeof s !== 'string') throw err('IllegalAccessException', "Invalid type parameter [" + T.typeName(s) + "]. Expected 'String'");
      const c = cs === undefined ? 'UTF-8' : jstr(cs).toUpperCase();
      if (c === 'UTF-8' || c === 'UTF8') return list(utf8(s));
      return list(Int8Array.from(s.split('').map((ch) => (ch.charCodeAt(0) < 256 ? ch.charCodeAt(0) : 63))));
    },
    parseBytesToInt: (d, o, l, be) => readInt(d, o, l, be, 4) | 0,
    parseBytesToLong: (d, o, l, be) => new TbLong(BigInt.asIntN(64, BigInt(readInt(d, o, l, be, 8)))),
    parseBytesToFloat: (d, o, l, be) => { const v = floatBits(d, o, l, be, 4); if (v !== v) throw err('NumberFormatException', 'byte[] 0x' + hex(bytesArg(d)) + ' is a Not-a-Number (NaN) value'); return F(v); },
    parseBytesToDouble: (d, o, l, be) => { const v = floatBits(d, o, l, be, 8); if (v !== v) throw err('NumberFormatException', 'byte[] 0x' + hex(bytesArg(d)) + ' is a Not-a-Number (NaN) value'); return D(v); },
    parseBytesIntToFloat: (d, o, l, be) => F(Number(readInt(d, o, l, be, 4))),
    parseBytesLongToDouble: (d, o, l, be) => D(Number(readInt(d, o, l, be, 8))),
    base64ToBytes: (s) => b64decode(s),
    base64ToBytesList: (s) => list(b64decode(s)),
    bytesToBase64: (b) => b64encode(raw(b)),
    hexToBytes: (s) => list(f.hexToBytesArray(s)),
    hexToBytesArray: (s) => {
      const h = prepare(s, true);
      if (h === null) throw err('IllegalArgumentException', 'Hex string must be not empty!');
      if (h.length % 2) throw err('IllegalArgumentException', 'Hex string must be even-length.');
      if (isHexadecimal(jstr(s)) !== 16) throw err('NumberFormatException', 'Value: "' + s + '" is not numeric or hexDecimal format!');
      const r = new Int8Array(h.length / 2);
      for (let i = 0; i < r.length; i++) r[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
      return r;
    },
    bytesToHex: (b) => hex(raw(b)),
    base64ToHex: (s) => hex(b64decode(s)),
    hexToBase64: (s) => b64encode(f.hexToBytesArray(s)),
    parseHexToInt: (s, be) => { const v = parseIntLong(s, 16, be, 32); return v === null ? null : Number(v); },
    parseLittleEndianHexToInt: (s) => f.parseHexToInt(s, false),
    parseBigEndianHexToInt: (s) => f.parseHexToInt(s, true),
    parseHexToLong: (s, be) => { const v = parseIntLong(s, 16, be, 64); return v === null ? null : new TbLong(v); },
    parseLittleEndianHexToLong: (s) => f.parseHexToLong(s, false),
    parseBigEndianHexToLong: (s) => f.parseHexToLong(s, true),
    parseHexToFloat: (s, be) => { const p = prepare(s, be); if (p === null) return null; return T.S.Float.intBitsToFloat(Number(BigInt.asIntN(32, BigInt('0x' + p)))); },
    parseLittleEndianHexToFloat: (s) => f.parseHexToFloat(s, false),
    parseBigEndianHexToFloat: (s) => f.parseHexToFloat(s, true),
    parseLittleEndianHexToDouble: (s) => f.parseHexToDouble(s, false),
    parseBigEndianHexToDouble: (s) => f.parseHexToDouble(s, true),
    // the hex digits read as an integer, then that integer as a float ("0x0A" is 10.0)
    parseHexIntLongToFloat: (s, be) => { const p = prepare(s, be); if (p === null) return null; radixOf(p, 16, s); return F(Number(BigInt.asIntN(32, BigInt('0x' + p)))); },
    parseHexToDouble: (s, be) => { const p = prepare(s, be); if (p === null) return null; return T.S.Double.longBitsToDouble(new TbLong(BigInt.asIntN(64, BigInt('0x' + p)))); },
    parseInt: (s, r) => { const v = parseIntLong(s, r, true, 32); return v === null ? null : Number(v); },
    parseLong: (s, r) => { const v = parseIntLong(s, r, true, 64); return v === null ? null : new TbLong(v); },
    parseFloat: (s, r) => {
      const p = prepare(s, true);
      if (p === null) return null;
      if (radixOf(p, r === undefined ? 0 : intOf(r), s) === 16) return T.S.Float.intBitsToFloat(Number(BigInt.asIntN(32, BigInt('0x' + p))));
      return F(T.parseDoubleStrict(jstr(s).trim()));
    },
    parseDouble: (s, r) => {
      const p = prepare(s, true);
      if (p === null) return null;
      const rx = radixOf(p, r === undefined ? 0 : intOf(r), s);
      if (rx === 10) return D(T.parseDoubleStrict(p));
      return T.S.Double.longBitsToDouble(new TbLong(BigInt.asIntN(64, BigInt('0x' + p))));
    },
    toFixed: (v, p) => (v instanceof TbFloat ? F(+T.roundHalfUp(v, intOf(p))) : D(+T.roundHalfUp(v, intOf(p)))),
    intToHex: (i, be, pref, len) => hexNumber(i, be, pref, len, 8),
    longToHex: (l, be, pref, len) => hexNumber(l, be, pref, len, 16),
    intLongToRadixString: (n, radix, be, pref) => {
      const r = radix === undefined ? 10 : intOf(radix);
      if (r === 16) return hexNumber(n, be, pref, -1, -1);
      if (r === 2) { const s = BigInt.asUintN(64, big(n)).toString(2).replace(/^0+(?!$)/, ''); const w = s.length < 8 ? 8 : s.length < 16 ? 16 : s.length < 32 ? 32 : s.length < 64 ? 64 : 0; return w ? s.padStart(w, '0') : s; }
      if (r === 8) return BigInt.asUintN(64, big(n)).toString(8);  // Long.toOctalString: unsigned
      if (r !== 10 && (r < 25 || r > 36)) throw err('IllegalArgumentException', 'Invalid radix: [' + r + ']');
      return big(n).toString(r);
    },
    floatToHex: (x, be) => { const h = '0x' + (T.S.Float.floatToIntBits(x) >>> 0).toString(16).toUpperCase().padStart(8, '0'); return be === false ? '0x' + reverseHex(h.slice(2)) : h; },
    doubleToHex: (x, be) => { const h = '0x' + BigInt.asUintN(64, T.S.Double.doubleToLongBits(x).b).toString(16).toUpperCase().padStart(16, '0'); return be === false ? '0x' + reverseHex(h.slice(2)) : h; },
    printUnsignedBytes: (l) => T.seq(l).map((b) => intOf(b) & 0xff),
    parseByteToBinaryArray: (b, n, be) => binary(BigInt(intOf(b) & 0xff), n === undefined ? 8 : intOf(n), be),
    parseBytesToBinaryArray: (l, n) => {
      const b = raw(l);
      let v = 0n;
      for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i] & 0xff);
      const total = b.length * 8, want = n === undefined ? total : intOf(n);
      const all = binary(v, total, true);
      return all.slice(Math.max(0, total - want));
    },
    parseLongToBinaryArray: (x, n) => { const w = n === undefined ? 64 : intOf(n); return binary(BigInt.asUintN(64, big(x)), 64, true).slice(64 - w); },
    parseBinaryArrayToInt: (l, o, n) => {
      const a = T.seq(l), off = o === undefined ? 0 : intOf(o), end = Math.min((n === undefined ? a.length : intOf(n)) + off, a.length);
      let v = 0;
      for (let i = off; i < end; i++) v = (v << 1) | (intOf(a[i]) & 1);
      // TbUtils: eight bits read whole from the start with the first one set are a negative byte
      if (a.length === 8 && off === 0 && intOf(a[0]) === 1) v -= 1 << (end - off);
      return v;
    },
    bytesToExecutionArrayList: (b) => list(raw(b)),
    byteArrayToExecutionArrayList: (b) => list(raw(b)),
    raiseError: (message, value) => { throw err('RuntimeException', value === undefined || value === null ? jstr(message) : jstr(message) + ' for value ' + jstr(value)); },
    toFlatMap: (json, a, b) => {
      const exclude = isArray(a) ? a.map(jstr) : [];
      const pathInKey = typeof a === 'boolean' ? a : typeof b === 'boolean' ? b : true;
      const map = {};
      flat(json, map, exclude, '', pathInKey);
      return map;
    },
    // TbUtils takes a String: MVEL converts any other argument (isDecimal(2) is isDecimal("2"))
    isBinary: (s) => isBinary(asText(s)),
    isOctal: (s) => isOctal(asText(s)),
    isDecimal: (s) => isDecimal(asText(s)),
    isHexadecimal: (s) => isHexadecimal(asText(s)),
    encodeURI: (s) => { const b = utf8(jstr(s)); let r = ''; for (let i = 0; i < b.length; i++) { const c = String.fromCharCode(b[i] & 0xff); r += (b[i] >= 0 && URI_KEEP.test(c)) ? c : '%' + HEX[(b[i] & 0xff) >> 4] + HEX[b[i] & 15]; } return r; },
    decodeURI: (s) => decodeUtf8(utf8(jstr(s)).length && Int8Array.from(jstr(s).replace(/%([0-9a-fA-F]{2})|[\s\S]/g, (m, h) => (h ? String.fromCharCode(parseInt(h, 16)) : m)).split('').map((c) => c.charCodeAt(0)).flatMap((c) => (c < 256 ? [c] : Array.from(utf8(String.fromCharCode(c))))))),
    btoa: (s) => b64encode(utf8(jstr(s))),
    atob: (s) => decodeUtf8(b64decode(s)),
    padStart: (s, n, c) => { let r = jstr(s); const ch = jstr(c); while (r.length < intOf(n)) r = ch + r; return r; },
    padEnd: (s, n, c) => { let r = jstr(s); const ch = jstr(c); while (r.length < intOf(n)) r = r + ch; return r; },
    isNaN: (x) => num(x) !== num(x),
    // NumberUtils.toInt: rounded half up (0.5 -> 1, 2.7 -> 3), where a cast truncates
    toInt: (x) => T.toInt(+T.roundHalfUp(x, 0)),
    hexToInt: (s) => f.parseHexToInt(s),
    toUnsignedInt: (b) => intOf(b) & 0xff,
    isInsideCircle: () => { throw err('UnsupportedOperationException', 'isInsideCircle is not supported'); },
    isInsidePolygon: () => { throw err('UnsupportedOperationException', 'isInsidePolygon is not supported'); },
  };
  T.f = f;
  T.raw = raw;
  // Jackson writes a byte[] as base64 text; only TBEL contexts load this runtime.
  Object.defineProperty(Int8Array.prototype, 'toJSON', { value: function __tbelBytesJson() { return b64encode(this); },
    writable: true, configurable: true, enumerable: false });

  // Stack frames of the runtime must not count as the user's: name every function __tbel_*.
  const seen = new Set();
  function rename(o, depth) {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o) || depth > 3) return;
    seen.add(o);
    for (const k of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      const v = d.value;
      if (typeof v === 'function' && !seen.has(v)) {
        seen.add(v);
        if (typeof v.name === 'string' && v.name.slice(0, 4) !== '__tb') Object.defineProperty(v, 'name', { value: '__tbel_' + (v.name || k) });
        if (v.prototype && typeof v.prototype === 'object') rename(v.prototype, depth + 1);
      } else if (v && typeof v === 'object' && !(v instanceof Map) && !isArray(v)) rename(v, depth + 1);
    }
  }
  rename(T, 0);
})();
