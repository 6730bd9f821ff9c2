// The TBEL runtime: Java semantics for transpiled TBEL (converters/tbel/codegen.py). Evaluated once
// in every TBEL context before the engine's prelude. Defines one global, __tbel; changes no
// built-in prototype but Int8Array's toJSON (runtime_utils.js). Values: a JS number is an Integer
// (or a Double when not integral, a Long when integral beyond 32 bits, as JSON gives them);
// TbLong/TbDouble/TbFloat/TbByte boxes carry the Java type where it decides a result (long/int
// division, "2.0", float repr, signed bytes). Every function is renamed __tbel_* at the end
// (runtime_rename.js), so the engine's line of an error is the user's. This file is the core
// (boxes, number text, arithmetic, bitwise, comparison, JSON); the parts that extend __tbel follow
// in the order of _RUNTIME_FILES (__init__.py).
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
