// TBEL runtime, continued: `new Date(text, pattern[, locale[, zone]])` read with a Java
// DateTimeFormatter pattern. The numeric fields (uuuu/yyyy, yy, M/MM, d/dd, H/HH, h/hh, m/mm,
// s/ss, S..., a) and offsets (X, XX, XXX, x..., Z...) are read; names of months or days (MMM,
// EEE) and a zone id are not, and a text that does not match fails as ThingsBoard's constructor
// does. Without an offset in the text the date is in the server's zone (UTC) or the zone given.
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { TbDate, err } = T;
  const FIELDS = { y: 'year', u: 'year', M: 'month', d: 'day', H: 'hour', h: 'hour12', m: 'minute', s: 'second', S: 'fraction', a: 'ampm' };

  function compile(pattern) {
    let re = '^', i = 0;
    const groups = [];
    while (i < pattern.length) {
      const c = pattern[i];
      if (c === "'") {
        const end = pattern.indexOf("'", i + 1);
        if (end < 0) throw err('IllegalArgumentException', 'Pattern ends with an incomplete string literal: ' + pattern);
        re += end === i + 1 ? "'" : escape(pattern.slice(i + 1, end));
        i = end + 1;
        continue;
      }
      let n = 1;
      while (pattern[i + n] === c) n++;
      if (/[A-Za-z]/.test(c)) {
        if (c === 'X' || c === 'x' || c === 'Z' || c === 'O') {
          re += c === 'X' ? '(Z|[+-]\\d\\d(?::?\\d\\d)?(?::?\\d\\d)?)' : '([+-]\\d\\d(?::?\\d\\d)?(?::?\\d\\d)?|Z|GMT)';
          groups.push('offset');
        } else if (FIELDS[c] === undefined || (c === 'M' && n > 2)) {
          throw err('IllegalArgumentException', "Unsupported pattern letter '" + c.repeat(n) + "' in " + pattern);
        } else if (c === 'a') {
          re += '([AaPp][Mm])';
          groups.push('ampm');
        } else {
          re += c === 'S' ? '(\\d{' + n + '})' : n === 1 ? '(\\d{1,' + (c === 'y' || c === 'u' ? 9 : 2) + '})' : (c === 'y' || c === 'u') && n !== 2 ? '([+-]?\\d{' + n + ',9})' : '(\\d{' + n + '})';
          groups.push(c === 'y' || c === 'u' ? (n === 2 ? 'year2' : 'year') : FIELDS[c]);
        }
      } else {
        re += escape(c.repeat(n));
      }
      i += n;
    }
    return { re: new RegExp(re + '$'), groups };
  }
  function escape(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

  function offsetMs(text) {
    if (text === 'Z' || text === 'GMT') return 0;
    const m = /^([+-])(\d\d):?(\d\d)?:?(\d\d)?$/.exec(text);
    return (m[1] === '-' ? -1 : 1) * (((+m[2] * 60) + +(m[3] || 0)) * 60 + +(m[4] || 0)) * 1000;
  }

  function patternDate(text, pattern, zone) {
    const { re, groups } = compile(T.jstr(pattern));
    const m = re.exec(T.jstr(text));
    if (m === null) throw err('DateTimeParseException', "Text '" + text + "' could not be parsed with pattern '" + pattern + "'");
    const f = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: 0 };
    let hour12 = null, pm = null, offset = null;
    groups.forEach((g, k) => {
      const v = m[k + 1];
      if (g === 'offset') offset = offsetMs(v);
      else if (g === 'ampm') pm = v.toUpperCase() === 'PM';
      else if (g === 'hour12') hour12 = +v;
      else if (g === 'year2') f.year = 2000 + +v;
      else if (g === 'fraction') f.fraction = Math.round(+('0.' + v) * 1000);
      else f[g] = +v;
    });
    if (hour12 !== null) f.hour = (hour12 % 12) + (pm ? 12 : 0);
    const local = T.DateCtor.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, f.fraction);
    if (offset === null && zone !== undefined && zone !== null && !/^(UTC|GMT|Z)$/i.test(T.jstr(zone))) {
      throw err('DateTimeException', 'time zone ' + zone + ' is not supported here: give the offset in the text');
    }
    return new TbDate(local - (offset || 0));
  }

  const base = T.newDate;
  T.newDate = function __tbel_newDate(a) {
    if (a.length >= 2 && typeof a[0] === 'string' && typeof a[1] === 'string') return patternDate(a[0], a[1], a[3]);
    return base(a);
  };
})();
