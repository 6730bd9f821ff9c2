// TBEL runtime, continued (after runtime_statics.js): TbUtils, ThingsBoard's TBEL helpers
// (__tbel.f).
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
})();
