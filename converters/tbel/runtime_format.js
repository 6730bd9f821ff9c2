// TBEL runtime, continued (after runtime_methods.js): Java regex, String.format, decimal rounding,
// TbDate.
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
    // ISO-8601 with an offset or Z, the common case, first: such a text ends in [+-]hh:mm, [+-]hhmm
    // or Z, so it is never one of the offsets with seconds below (whose pattern backtracks)
    const m = ISO_OFFSET.exec(s);
    if (m !== null) {
      const ms = T.DateCtor.parse(m[4] ? s : m[1] + m[2] + ':' + m[3]);
      if (ms === ms) return ms;
    }
    // an offset with seconds (+03:00:00, +043056), which JS cannot read: the rest read as UTC, then shifted
    const os = /^(.*\d)\s*([+-])(\d\d):?(\d\d):?(\d\d)$/.exec(s.trim());
    if (os !== null && /\d\d:\d\d/.test(os[1])) {
      const at = parseDate(/^\d/.test(os[1]) ? os[1] + 'Z' : os[1] + ' GMT');
      return at - (os[2] === '-' ? -1 : 1) * ((+os[3] * 60 + +os[4]) * 60 + +os[5]) * 1000;
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
