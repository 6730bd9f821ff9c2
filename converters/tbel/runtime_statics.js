// TBEL runtime, continued (after runtime_format.js): Java statics (Integer, Long, Math, String,
// Arrays, ...).
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
  // Java's Double.toHexString: "0x1.8p1" for 3.0, "0x0.0000000000001p-1022" for a subnormal, the
  // fraction's trailing zeros dropped but one kept, and Float.toHexString's subnormals in p-126.
  function hexOfDouble(v) {
    if (v !== v) return 'NaN';
    if (v === Infinity || v === -Infinity) return v > 0 ? 'Infinity' : '-Infinity';
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, v);
    const bits = dv.getBigUint64(0);
    const sign = bits >> 63n ? '-' : '';
    const exp = Number((bits >> 52n) & 0x7ffn), frac = bits & ((1n << 52n) - 1n);
    if (exp === 0 && frac === 0n) return sign + '0x0.0p0';
    const digits = frac.toString(16).padStart(13, '0').replace(/0+$/, '') || '0';
    return exp === 0 ? sign + '0x0.' + digits + 'p-1022' : sign + '0x1.' + digits + 'p' + (exp - 1023);
  }
  function hexOfFloat(v) {
    const f = Math.fround(v);
    if (f !== 0 && Math.abs(f) < 1.1754943508222875e-38) {  // Float.MIN_NORMAL: a float subnormal
      return hexOfDouble(f * Math.pow(2, -896)).replace(/p-1022$/, 'p-126');
    }
    return hexOfDouble(f);
  }
  S.Double = {
    toHexString: (x) => hexOfDouble(num(x)),
    MAX_VALUE: D(Number.MAX_VALUE), MIN_VALUE: 5e-324, NaN: NaN, POSITIVE_INFINITY: Infinity, NEGATIVE_INFINITY: -Infinity,
    parseDouble: (s) => D(parseDouble(s)), valueOf: (s) => D(typeof s === 'string' ? parseDouble(s) : num(s)),
    toString: (x) => T.dstr(num(x)), isNaN: (x) => num(x) !== num(x), isFinite: (x) => isFinite(num(x)),
    isInfinite: (x) => Math.abs(num(x)) === Infinity, compare: (a, b) => (num(a) < num(b) ? -1 : num(a) > num(b) ? 1 : 0),
    longBitsToDouble: (x) => { const dv = new DataView(new ArrayBuffer(8)); dv.setBigInt64(0, big(x)); return D(dv.getFloat64(0)); },
    doubleToLongBits: (x) => { const dv = new DataView(new ArrayBuffer(8)); dv.setFloat64(0, num(x)); return new TbLong(dv.getBigInt64(0)); },
    sum: (a, b) => D(num(a) + num(b)), max: (a, b) => D(Math.max(num(a), num(b))), min: (a, b) => D(Math.min(num(a), num(b))),
  };
  S.Float = {
    toHexString: (x) => hexOfFloat(num(x)),
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
    forDigit: (d, r) => { const x = intOf(d), b = intOf(r); return b < 2 || b > 36 || x < 0 || x >= b ? '\0' : x.toString(b); },
    digit: (c, r) => { const b = intOf(r), v = parseInt(T.toChar(c), 36); return b < 2 || b > 36 || !(v < b) ? -1 : v; },
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
