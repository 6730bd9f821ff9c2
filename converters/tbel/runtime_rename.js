// TBEL runtime, continued: the last part of the core (runtime.js to runtime_utils.js). Stack
// frames of the runtime must not count as the user's: every function reachable from __tbel is
// renamed __tbel_* once, here. runtime_sets.js and runtime_dates.js come after and name their own.
(function () {
  'use strict';
  const T = globalThis.__tbel;
  const { isArray } = T;
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
