// TBEL runtime, continued: ThingsBoard's time-series rolling argument of calculated fields
// (TbelCfTsRollingArg, 4.0+) and what its merge() makes. A rolling argument is a list of
// {ts, value} (values as doubles, NaN where a value is not a number) with `timeWindow`
// {startTs, endTs} and `values`; `foreach (t : arg)` walks its values. Methods, as ThingsBoard's
// calculated-field help lists them, each with an optional `ignoreNaN` (true by default):
// max, min, mean/avg, std, median, sum (NaN when a NaN is among the values and ignoreNaN is
// false), count (the non-NaN values, or all), first/last (the oldest/newest non-NaN value, or
// the oldest/newest), and merge(other[, settings]) / mergeAll([others][, settings]): the union
// of the timestamps, each with every argument's value at that time or the one before it
// (NaN before its first), as {ts, values: [v1, v2...]} (item.v1, item.v2... read them);
// settings {ignoreNaN, timeWindow}: ignoreNaN drops a timestamp where a value is NaN,
// timeWindow keeps the timestamps in [startTs, endTs). An empty window's aggregate is NaN.
// calculated/scripts.py builds the arguments: `new TbelCfArgs(msg)`.
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { err, isMap, num, D } = T;

  function double(v) {
    if (v === null || v === undefined || v === 'NaN') return NaN;
    try { return num(v); } catch (e) { return NaN; }
  }
  function nan(v) { return v !== v; }
  function flag(x) { return x === undefined || x === null ? true : T.toBool(x); }
  function numbers(r, ignoreNaN) {
    const out = [];
    for (let i = 0; i < r.length; i++) {
      const v = num(r[i].value);
      if (nan(v)) { if (ignoreNaN) continue; return null; }  // null: a NaN was met and counts
      out.push(v);
    }
    return out;
  }
  function aggregate(fn) {
    return (r, ignoreNaN) => {
      const xs = numbers(r, flag(ignoreNaN));
      return xs === null || xs.length === 0 ? NaN : D(fn(xs));
    };
  }
  function highest(xs) { let m = -Infinity; for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i]; return m; }
  function lowest(xs) { let m = Infinity; for (let i = 0; i < xs.length; i++) if (xs[i] < m) m = xs[i]; return m; }
  function total(xs) { let s = 0; for (let i = 0; i < xs.length; i++) s += xs[i]; return s; }
  function mean(xs) { return total(xs) / xs.length; }
  function edge(r, ignoreNaN, last) {
    const skip = flag(ignoreNaN);
    for (let k = 0; k < r.length; k++) {
      const item = r[last ? r.length - 1 - k : k];
      if (!skip || !nan(num(item.value))) return item.value;
    }
    return NaN;
  }

  class TbRolling extends Array { static get [Symbol.species]() { return Array; } }
  class TbMerged extends Array { static get [Symbol.species]() { return Array; } }
  class TbMergedItem {
    constructor(ts, values) { this.ts = ts; this.values = values; }
    toJSON() { return T.out({ ts: this.ts, values: this.values.map(out) }, 0); }  // out: 76.0 printed as a double
  }
  function out(v) { const n = num(v); return nan(n) ? 'NaN' : v; }
  function window(r) { return r.timeWindow; }
  function list(r) { return Array.prototype.slice.call(r); }

  const ROLLING = Object.assign(Object.create(null), {
    max: aggregate(highest),  // loops: a spread call takes at most 65,535 arguments
    min: aggregate(lowest),
    mean: aggregate(mean),
    avg: aggregate(mean),
    sum: aggregate(total),
    std: aggregate((xs) => { const m = mean(xs); return Math.sqrt(total(xs.map((x) => (x - m) * (x - m))) / xs.length); }),
    median: aggregate((xs) => {
      const s = xs.slice().sort((a, b) => a - b), h = s.length >> 1;
      return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
    }),
    count: (r, ignoreNaN) => {
      if (!flag(ignoreNaN)) return r.length;
      let n = 0;
      for (let i = 0; i < r.length; i++) if (!nan(num(r[i].value))) n++;
      return n;
    },
    first: (r, ignoreNaN) => edge(r, ignoreNaN, false),
    last: (r, ignoreNaN) => edge(r, ignoreNaN, true),
    merge: (r, other, settings) => merge([r, other], settings),
    mergeAll: (r, others, settings) => merge([r].concat(T.seq(others)), settings),
    getTimeWindow: window,
    getValues: list,
    size: (r) => r.length,
    isEmpty: (r) => r.length === 0,
    toString: (r) => JSON.stringify(r),
  });
  const MERGED = Object.assign(Object.create(null), {
    getTimeWindow: window, getValues: list, size: (r) => r.length, isEmpty: (r) => r.length === 0,
    toString: (r) => JSON.stringify(r),
  });
  const ITEM = Object.assign(Object.create(null), {
    getTs: (i) => i.ts, getValues: (i) => i.values, toString: (i) => JSON.stringify(i),
  });

  function rolling(raw) {
    if (raw instanceof TbRolling) return raw;
    if (!isMap(raw)) throw err('IllegalArgumentException', 'not a time series rolling argument');
    const r = new TbRolling();
    const values = T.seq(raw.values === undefined || raw.values === null ? [] : raw.values);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      r.push({ ts: v.ts, value: D(double(v.value)) });
    }
    const w = isMap(raw.timeWindow) ? raw.timeWindow : {};
    Object.defineProperty(r, 'timeWindow', { value: { startTs: w.startTs, endTs: w.endTs }, writable: true });
    return r;
  }

  function merge(args, settings) {
    const rs = args.map(rolling);
    const s = isMap(settings) ? settings : {};
    const ignoreNaN = s.ignoreNaN === undefined || s.ignoreNaN === null ? false : T.toBool(s.ignoreNaN);
    const w = isMap(s.timeWindow) ? s.timeWindow : rs[0].timeWindow;
    const start = w.startTs === undefined || w.startTs === null ? -Infinity : num(w.startTs);
    const end = w.endTs === undefined || w.endTs === null ? Infinity : num(w.endTs);
    const stamps = new Set();
    for (const r of rs) for (let i = 0; i < r.length; i++) stamps.add(num(r[i].ts));
    const sorted = Array.from(stamps).sort((a, b) => a - b);
    const at = rs.map(() => 0), current = rs.map(() => NaN);
    const m = new TbMerged();
    for (const ts of sorted) {
      for (let k = 0; k < rs.length; k++) {
        const r = rs[k];
        while (at[k] < r.length && num(r[at[k]].ts) <= ts) current[k] = r[at[k]++].value;
      }
      if (ts < start || ts >= end) continue;
      if (ignoreNaN && current.some((v) => nan(num(v)))) continue;
      m.push(new TbMergedItem(ts, current.map((v) => D(num(v)))));
    }
    Object.defineProperty(m, 'timeWindow', { value: { startTs: w.startTs, endTs: w.endTs }, writable: true });
    return m;
  }

  function rollingJSON() {
    return T.out({ timeWindow: this.timeWindow, values: list(this).map((i) => ({ ts: i.ts, value: out(i.value) })) }, 0);
  }
  function mergedJSON() { return T.out({ timeWindow: this.timeWindow, values: list(this) }, 0); }
  function arrayGet(o, k) {
    if (k === 'values') return list(o);
    if (k === 'timeWindow') return o.timeWindow;
    return undefined;
  }
  function itemGet(o, k) {
    if (k === 'ts') return o.ts;
    if (k === 'values') return o.values;
    const m = /^v([1-9][0-9]*)$/.exec(k);
    if (m !== null && +m[1] <= o.values.length) return o.values[+m[1] - 1];
    return undefined;
  }
  for (const [cls, table, json, get] of [[TbRolling, ROLLING, rollingJSON, arrayGet], [TbMerged, MERGED, mergedJSON, arrayGet],
    [TbMergedItem, ITEM, null, itemGet]]) {
    Object.defineProperty(cls.prototype, '__tbTable', { value: table, enumerable: false });
    Object.defineProperty(cls.prototype, '__tbGet', { value: get, enumerable: false });
    if (json !== null) Object.defineProperty(cls.prototype, 'toJSON', { value: json, enumerable: false });
  }

  // `new TbelCfArgs(msg)`: msg {ctx, args, rolling: [names]}; a rolling argument is sent once, in
  // ctx.args (calculated/scripts.py), and made one TbRolling in ctx.args and args alike.
  function cfArgs(msg) {
    const names = T.seq(msg.rolling === undefined || msg.rolling === null ? [] : msg.rolling);
    const ctxArgs = isMap(msg.ctx) && isMap(msg.ctx.args) ? msg.ctx.args : {};
    for (let i = 0; i < names.length; i++) {
      const sent = msg.args[names[i]];
      const r = rolling(sent === undefined ? ctxArgs[names[i]] : sent);
      msg.args[names[i]] = r;
      ctxArgs[names[i]] = r;
    }
    delete msg.rolling;
    return msg;
  }
  for (const table of [ROLLING, MERGED, ITEM]) {  // stack frames of the runtime are not the user's
    for (const k of Object.keys(table)) Object.defineProperty(table[k], 'name', { value: '__tbel_' + k });
  }
  T.ctors.TbelCfArgs = function (x0) {
    if (arguments.length !== 1) throw err('RuntimeException', 'cannot create an instance of TbelCfArgs');
    return cfArgs(x0);
  };
  T.rolling = rolling;
})();
