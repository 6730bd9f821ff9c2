// Evaluated once in every fresh context, before any user code; the value of this script is the
// `compile` function the Python side keeps. Only strings cross to Python (DESIGN.md section 4):
// results are stringified here with a JSON.stringify captured before user code, and exceptions
// are caught and described here without calling user code, so Python never converts a user
// object. Names start with __tb so that stack frames of this file can be told from user frames.
(function () {
  'use strict';
  const G = globalThis;
  const O = Object;
  const defineProperty = O.defineProperty;
  const getOwnPropertyNames = O.getOwnPropertyNames;
  const getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  const getPrototypeOf = O.getPrototypeOf;
  const apply = Reflect.apply;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const indirectEval = G.eval;
  const stackGetter = getOwnPropertyDescriptor(G.Error.prototype, 'stack').get;
  const symbolToString = G.Symbol.prototype.toString;
  const reExec = G.RegExp.prototype.exec;
  const strSlice = G.String.prototype.slice;
  const strReplace = G.String.prototype.replace;
  const strIndexOf = G.String.prototype.indexOf;
  const strCharCodeAt = G.String.prototype.charCodeAt;
  const strPadStart = G.String.prototype.padStart;
  const numToString = G.Number.prototype.toString;
  const toWellFormed = G.String.prototype.toWellFormed;
  const ArrayCtor = G.Array;
  const arraySlice = G.Array.prototype.slice;
  const fromBase64 = G.Uint8Array.fromBase64;
  const reflectApply = G.Reflect.apply;
  const ErrorCtor = G.Error;
  const InternalErrorCtor = G.InternalError;
  const TypeErrorCtor = G.TypeError;
  const mapSet = G.Map.prototype.set;
  const mapHas = G.Map.prototype.has;
  const nativeGetters = new G.Map();  // built-in getters of error prototypes (DOMException name...)
  const MAX_LOG_LINES = 100;
  const MAX_LOG_LINE = 1024;
  const MAX_LOG_TOTAL = 16384;
  let logs = [];
  let logTotal = 0;

  // Built-in prototypes stay as they are (DESIGN.md section 4): real codecs extend them
  // (`Object.prototype.readInt8 = function ...`, TS-style helpers patching prototypes). A context
  // belongs to one converter version, so what a script does to its own prototypes harms only
  // itself, and whatever user code the prelude reaches while describing a result or an error
  // runs inside the same call, under the watched deadline. Only the engine's own getters on
  // error prototypes (DOMException's name/message) are remembered, to be read without user code.
  function __tbNativeGetters(proto) {
    const keys = getOwnPropertyNames(proto);
    for (let i = 0; i < keys.length; i++) {
      const desc = getOwnPropertyDescriptor(proto, keys[i]);
      if (!('value' in desc) && desc.get !== undefined) apply(mapSet, nativeGetters, [desc.get, true]);
    }
  }

  const errorNames = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError',
    'URIError', 'InternalError', 'AggregateError', 'SuppressedError', 'DOMException'];
  for (let i = 0; i < errorNames.length; i++) {
    const ctor = G[errorNames[i]];
    if (typeof ctor === 'function' && ctor.prototype) __tbNativeGetters(ctor.prototype);
  }
  // A user prepareStackTrace runs while errors are created, even while an interrupt unwinds.
  defineProperty(G.Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });

  // Reads a property along the prototype chain without running a user getter: data properties
  // and the engine's own getters (DOMException's name/message).
  function __tbDataProp(obj, key) {
    let o = obj;
    for (let depth = 0; o !== null && o !== undefined && depth < 32; depth++) {
      const desc = getOwnPropertyDescriptor(o, key);
      if (desc !== undefined) {
        if ('value' in desc) return desc.value;
        const get = desc.get;
        if (apply(mapHas, nativeGetters, [get])) {
          try { return apply(get, obj, []); } catch (e) { return undefined; }
        }
        return undefined;
      }
      o = getPrototypeOf(o);
    }
    return undefined;
  }

  function __tbPrimitive(v) {
    return typeof v === 'symbol' ? apply(symbolToString, v, []) : '' + v;
  }

  function __tbCap(text, max) {
    return text.length > max ? apply(strSlice, text, [0, max]) + '...' : text;
  }

  // Line of the first user frame in an error's stack (the wrapper puts body line N on line N).
  function __tbUserLine(err, lines) {
    let stack;
    try { stack = apply(stackGetter, err, []); } catch (e) { return 0; }
    if (typeof stack !== 'string') return 0;
    const re = /at (?:([^ \n(]*) \()?<input>:(\d+):\d+/g;
    for (let m = apply(reExec, re, [stack]); m !== null; m = apply(reExec, re, [stack])) {
      if (m[1] !== undefined && apply(strSlice, m[1], [0, 4]) === '__tb') continue;
      const line = +m[2];
      return line > lines ? lines : line;
    }
    return 0;
  }

  function __tbDescribe(e, lines, maxError) {
    let text;
    try {
      if (e === null || (typeof e !== 'object' && typeof e !== 'function')) {
        text = 'Uncaught ' + __tbPrimitive(e);
        if (typeof e === 'string') text = e;
      } else {
        const name = __tbDataProp(e, 'name');
        let message = __tbDataProp(e, 'message');
        message = message === undefined || message === null ? '' :
          (typeof message === 'object' || typeof message === 'function') ? '' : __tbPrimitive(message);
        const prefix = typeof name === 'string' && name !== '' ? name : 'Error';
        text = message !== '' ? prefix + ': ' + message : prefix;
        if (name === undefined && message === '') text = 'Error: a value that is not an Error was thrown';
        const line = lines ? __tbUserLine(e, lines) : 0;
        if (line > 0) text = text + ' (line ' + line + ')';
      }
    } catch (x) {
      text = 'Error: the thrown value could not be described';
    }
    // A lone surrogate would make the text undecodable on the Python side.
    return __tbCap(apply(toWellFormed, text, []), maxError);
  }

  // QuickJS throws null when it runs out of memory while building the error itself.
  function __tbIsOutOfMemory(e) {
    if (e === null) return true;
    try {
      return typeof e === 'object' && e instanceof InternalErrorCtor &&
        __tbDataProp(e, 'message') === 'out of memory';
    } catch (x) { return false; }
  }

  function __tbFormat(v) {
    if (typeof v === 'string') return v;
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return __tbPrimitive(v);
    if (v instanceof ErrorCtor) return __tbDescribe(v, 0, MAX_LOG_LINE);
    try {
      const s = stringify(v);
      return s === undefined ? '[' + typeof v + ']' : s;
    } catch (e) {
      return '[unprintable ' + typeof v + ']';
    }
  }

  function __tbLog(level) {
    return function __tbConsole() {
      if (logs.length >= MAX_LOG_LINES || logTotal >= MAX_LOG_TOTAL) return;
      let line = level;
      for (let i = 0; i < arguments.length; i++) line = line + ' ' + __tbFormat(arguments[i]);
      line = __tbCap(apply(toWellFormed, line, []), MAX_LOG_LINE);
      logTotal += line.length;
      logs[logs.length] = line;
    };
  }
  G.console = {
    log: __tbLog('INFO'), info: __tbLog('INFO'), debug: __tbLog('DEBUG'),
    warn: __tbLog('WARN'), error: __tbLog('ERROR'), trace: __tbLog('DEBUG'),
  };

  // quickjs-ng keeps long concatenations as ropes, which the Python binding cannot convert
  // ("Unknown quickjs tag: -6"): every string returned to Python is flattened by slice(0).
  function __tbFlat(text) {
    return apply(strSlice, text, [0]);
  }

  function __tbEscapeChar(c) {
    return '\\u' + apply(strPadStart, apply(numToString, apply(strCharCodeAt, c, [0]), [16]), [4, '0']);
  }

  // A result without logs (the common case) is its JSON text alone, as stringify made it (flat):
  // no copy. Anything else is framed: FRAMED, the status char, the length of the logs' JSON text,
  // ':', the logs, then the body; no JSON text starts with FRAMED. The logs are escaped to ASCII
  // so that their length is the same in JS (UTF-16 units) and Python.
  const FRAMED = '\u0001';
  function __tbFinish(status, body) {
    if (logs.length === 0) return status === '0' ? body : __tbFlat(FRAMED + status + '0:' + body);
    const text = apply(strReplace, stringify(logs), [/[\u0080-\uffff]/g, __tbEscapeChar]);
    logs = [];
    logTotal = 0;
    return __tbFlat(FRAMED + status + text.length + ':' + text + body);
  }

  function __tbFail(e, lines, maxError) {
    try {
      if (__tbIsOutOfMemory(e)) return __tbFinish('2', 'out of memory');
      return __tbFinish('1', __tbDescribe(e, lines, maxError));
    } catch (x) {
      logs = [];
      logTotal = 0;
      return FRAMED + '10:Error';
    }
  }

  // `"\u0000TbDouble:62.0"` -> `62.0` (the digits hold no quote: the next one closes the mark).
  // An indexOf walk: a global regex replace cost as much as the stringify itself.
  const TB_MARK = '"\\u0000TbDouble:';
  function __tbUnmark(text) {
    let at = apply(strIndexOf, text, [TB_MARK]);
    if (at < 0) return text;
    let out = '', from = 0;
    while (at >= 0) {
      const digits = at + TB_MARK.length;
      const close = apply(strIndexOf, text, ['"', digits]);
      out += apply(strSlice, text, [from, at]) + apply(strSlice, text, [digits, close]);
      from = close + 1;
      at = apply(strIndexOf, text, [TB_MARK, from]);
    }
    return out + apply(strSlice, text, [from]);
  }

  function __tbSerialise(result, what, maxOutput) {
    const kind = typeof result;
    if (result === undefined) throw 'the ' + what + ' returned nothing (undefined)';
    if (kind === 'function' || kind === 'symbol') throw 'the ' + what + ' returned a ' + kind + ', not data';
    let text;
    try {
      text = stringify(result);
    } catch (e) {
      throw 'the ' + what + ' result cannot be turned into JSON: ' + __tbDescribe(e, 0, 512);
    }
    if (typeof text !== 'string') throw 'the ' + what + ' result cannot be turned into JSON';
    const tbel = G.__tbel;  // TBEL: whole Doubles were marked as texts to be written 62.0 (runtime_members.js out)
    if (tbel !== undefined && tbel !== null && tbel.marked === true) {
      tbel.marked = false;
      text = __tbFlat(__tbUnmark(text));  // a concatenation: flattened for Python
    }
    if (text.length > maxOutput) {
      throw 'the ' + what + ' output is too large: ' + text.length + ' characters (limit ' + maxOutput + ' bytes)';
    }
    return text;
  }

  // Bytes arrive as base64 text (only strings cross) and become the array of byte values scripts
  // expect (`payload` is an Array, as in ThingsBoard) in C: the engine's Uint8Array.fromBase64, then
  // Array.prototype.slice, which makes a plain Array of a typed one. A loop over a latin-1 string
  // (charCodeAt per byte) took twice as long: 5.6 against 2.8 us for 70 bytes, 54 against 21 for 700.
  function __tbPayload(p) {
    return reflectApply(arraySlice, fromBase64(p), []);
  }

  // Metadata of a whole batch arrives as one JSON array (one encode in Python, one parse here,
  // instead of one each per message); a message then names its metadata by index.
  let batch = [];

  function __tbSetBatch(text) {
    try {
      batch = parse(text);
      return FRAMED + '00:';
    } catch (e) {
      batch = [];
      return __tbFail(e, 0, 1024);
    }
  }

  // runner(null, batchJson) sets the batch; runner(payloadBase64, index) decodes one message.
  // `text`: the payload arrives as a latin-1 string and the body takes it as it is (a TBEL decoder
  // that only ever decodes it as text), not as a list of byte values.
  function __tbDecodeRunner(fn, lines, maxOutput, maxError, text) {
    return function __tbRunDecoder(payload, index) {
      if (payload === null) return __tbSetBatch(index);
      try {
        logs = [];
        logTotal = 0;
        const result = fn(text ? payload : __tbPayload(payload), batch[index]);
        return __tbFinish('0', __tbSerialise(result, 'decoder', maxOutput));
      } catch (e) {
        return __tbFail(e, lines, maxError);
      }
    };
  }

  // runner(null, batchJson) sets the batch of [metadata, integrationMetadata] pairs;
  // runner(msgJson, index, msgType) encodes one message.
  function __tbEncodeRunner(fn, lines, maxOutput, maxError) {
    return function __tbRunEncoder(msg, index, msgType) {
      if (msg === null) return __tbSetBatch(index);
      try {
        logs = [];
        logTotal = 0;
        const meta = batch[index];
        const result = fn(parse(msg), meta[0], msgType, meta[1]);
        return __tbFinish('0', __tbSerialise(result, 'encoder', maxOutput));
      } catch (e) {
        return __tbFail(e, lines, maxError);
      }
    };
  }

  // TS013 (LoRa Alliance payload codec API, as in the TTN device repository and ChirpStack): a
  // script that defines decodeUplink(input) / encodeDownlink(input) and returns nothing at its
  // top level. The body runs first (defining the functions); a ThingsBoard body returns before
  // the trailer, a codec falls through to it and the trailer calls its entry point.
  const headers = {
    decoder: ' return function Decoder(payload, metadata) {',
    'decoder-text': ' return function Decoder(payload, metadata) {',
    encoder: ' return function Encoder(msg, metadata, msgType, integrationMetadata) {',
  };
  const trailers = {
    decoder: '\n;return __tbTs013(typeof decodeUplink === "function" ? decodeUplink : undefined, payload, metadata);\n}; })',
    'decoder-text': '\n;return undefined;\n}; })',
    encoder: '\n;return __tbTs013(typeof encodeDownlink === "function" ? encodeDownlink : undefined, msg, metadata);\n}; })',
  };
  const DateCtor = G.Date;
  const NumberCtor = G.Number;
  const isArray = G.Array.isArray;
  const btoaFn = G.btoa;
  const fromCharCode = G.String.fromCharCode;

  // CommonJS names a codec from a device repository may assign to (`exports.decodeUplink = f`):
  // closure variables of the script's own wrapper, never globals.
  function __tbModule() {
    const exports = {};
    return { exports: exports };
  }

  function __tbExported(m, name) {
    if (m && typeof m === 'object' && m.exports && typeof m.exports === 'object' &&
        typeof m.exports[name] === 'function') return m.exports[name];
    return undefined;
  }

  function __tbNumber(v) {
    if (v === undefined || v === null || v === '') return undefined;
    const n = NumberCtor(v);
    return n === n ? n : undefined;
  }

  // Returns {"@ts013": <what decodeUplink returned>}; the Python side maps {data, errors, warnings}.
  function __tbDecodeUplink(m, decodeUplink, payload, metadata) {
    const fn = decodeUplink || __tbExported(m, 'decodeUplink');
    if (fn === undefined) return undefined;
    const meta = metadata || {};
    const ts = __tbNumber(meta.ts);
    const input = { bytes: payload, fPort: __tbNumber(meta.fPort), recvTime: new DateCtor(ts === undefined ? DateCtor.now() : ts),
      variables: {} };
    const out = fn(input);
    if (out === null || typeof out !== 'object') throw new TypeErrorCtor('decodeUplink must return {data, errors, warnings}');
    return { '@ts013': out };
  }

  // encodeDownlink({data}) -> {bytes, fPort, errors, warnings}, turned into ThingsBoard's
  // {contentType: 'BINARY', data: base64, metadata: {fPort}}; errors fail the message.
  function __tbEncodeDownlink(m, encodeDownlink, msg, metadata) {
    const fn = encodeDownlink || __tbExported(m, 'encodeDownlink');
    if (fn === undefined) return undefined;
    const out = fn({ data: msg });
    if (out === null || typeof out !== 'object') throw new TypeErrorCtor('encodeDownlink must return {bytes, fPort, errors, warnings}');
    if (isArray(out.errors) && out.errors.length > 0) throw new ErrorCtor('encodeDownlink errors: ' + out.errors.join('; '));
    if (isArray(out.warnings)) for (let i = 0; i < out.warnings.length; i++) G.console.warn('encodeDownlink warning: ' + out.warnings[i]);
    if (!isArray(out.bytes)) throw new TypeErrorCtor('encodeDownlink must return bytes (an array of 0-255)');
    let binary = '';
    for (let i = 0; i < out.bytes.length; i++) binary += fromCharCode(out.bytes[i] & 0xff);
    const result = { contentType: 'BINARY', data: btoaFn(binary), metadata: {} };
    if (out.fPort !== undefined && out.fPort !== null) result.metadata.fPort = '' + out.fPort;
    return result;
  }

  // Returns the runner function, or a string: '<line>:<message>' of the compile error.
  // `lines` is the number of lines of `source`, so that errors never point past its end.
  return function __tbCompile(kind, source, lines, maxOutput, maxError) {
    let fn;
    try {
      // `module`/`exports` exist only for a script that uses them (a codec's `exports.decodeUplink = f`)
      const outer = apply(reExec, /\bexports\b/, [source]) !== null ?
        '(function (__tbTs013, module, exports) {' : '(function (__tbTs013) {';
      fn = indirectEval(outer + headers[kind] + source + trailers[kind]);
    } catch (e) {
      try {
        logs = [];
        return __tbFlat('' + __tbUserLine(e, lines) + ':' + __tbDescribe(e, 0, maxError));
      } catch (x) {
        return '0:SyntaxError';
      }
    }
    logs = [];
    logTotal = 0;
    if (typeof fn !== 'function') return '0:the script does not define a function body';
    const m = __tbModule();
    const ts013 = kind === 'encoder' ? __tbEncodeDownlink : __tbDecodeUplink;
    fn = fn(function __tbTs013(entry, a, b) { return ts013(m, entry, a, b); }, m, m.exports);
    return kind === 'encoder' ? __tbEncodeRunner(fn, lines, maxOutput, maxError)
      : __tbDecodeRunner(fn, lines, maxOutput, maxError, kind === 'decoder-text');
  };
})()
