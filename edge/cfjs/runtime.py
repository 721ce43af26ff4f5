"""The JavaScript side of the CloudFront Functions runtime: what CloudFront gives a function and
what it takes away, written in plain JavaScript so that no call crosses back into Python while
the engine's time limit is armed (the quickjs binding forbids it).

``PRELUDE`` runs first in every engine context and evaluates to a ``setup(runtime, kvs)`` function;
``setup`` installs the globals of the runtime and returns ``bind(handler, which)``, which returns
the ``invoke`` or the ``take`` function the engine calls. Nothing of the machinery is left on the global object.

What it provides (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-features.html):
``require('crypto')`` (createHash/createHmac with md5, sha1, sha256 and hex, base64, base64url
digests), ``require('querystring')`` (parse/decode, stringify/encode, escape, unescape), ``Buffer``
(js-2.0, a subset), the ``cloudfront`` module for ``import cf from 'cloudfront'`` (js-2.0: ``kvs()``
with ``get``/``exists``/``meta``), ``console.log`` into the gateway's log (10 KB per run, as
CloudFront truncates function logs). What it takes away: ``eval`` and the ``Function`` constructor
throw, no timers, no network; ``Date`` is fixed to the start of the run.
"""

from __future__ import annotations

PRELUDE = r"""
(function () {
'use strict';
var G = globalThis;
var K256 = [0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,0xd807aa98,
  0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,0x0fc19dc6,
  0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,
  0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,
  0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,0x19a4c116,
  0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,0x84c87814,
  0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2];
var MD5T = [0xd76aa478,0xe8c7b756,0x242070db,0xc1bdceee,0xf57c0faf,0x4787c62a,0xa8304613,0xfd469501,0x698098d8,
  0x8b44f7af,0xffff5bb1,0x895cd7be,0x6b901122,0xfd987193,0xa679438e,0x49b40821,0xf61e2562,0xc040b340,0x265e5a51,
  0xe9b6c7aa,0xd62f105d,0x02441453,0xd8a1e681,0xe7d3fbc8,0x21e1cde6,0xc33707d6,0xf4d50d87,0x455a14ed,0xa9e3e905,
  0xfcefa3f8,0x676f02d9,0x8d2a4c8a,0xfffa3942,0x8771f681,0x6d9d6122,0xfde5380c,0xa4beea44,0x4bdecfa9,0xf6bb4b60,
  0xbebfbc70,0x289b7ec6,0xeaa127fa,0xd4ef3085,0x04881d05,0xd9d4d039,0xe6db99e5,0x1fa27cf8,0xc4ac5665,0xf4292244,
  0x432aff97,0xab9423a7,0xfc93a039,0x655b59c3,0x8f0ccc92,0xffeff47d,0x85845dd1,0x6fa87e4f,0xfe2ce6e0,0xa3014314,
  0x4e0811a1,0xf7537e82,0xbd3af235,0x2ad7d2bb,0xeb86d391];
var MD5S = [7,12,17,22,5,9,14,20,4,11,16,23,6,10,15,21];

// ---- bytes <-> strings ---------------------------------------------------------------------------
function utf8(s) {
  var out = [];
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      var d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}
function unutf8(b) {
  var s = '', i = 0;
  while (i < b.length) {
    var c = b[i++], n = 0, cp;
    if (c < 0x80) { s += String.fromCharCode(c); continue; }
    if (c >= 0xf0 && c < 0xf8) { n = 3; cp = c & 7; } else if (c >= 0xe0) { n = 2; cp = c & 15; }
    else if (c >= 0xc0) { n = 1; cp = c & 31; } else { s += '\ufffd'; continue; }
    if (i + n > b.length) { s += '\ufffd'; break; }
    for (var k = 0; k < n; k++) cp = (cp << 6) | (b[i++] & 63);
    s += String.fromCodePoint(cp > 0x10ffff ? 0xfffd : cp);
  }
  return s;
}
var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function b64(b, url) {
  var s = '', i;
  for (i = 0; i + 2 < b.length; i += 3) {
    var n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (b.length - i === 1) s += B64[b[i] >> 2] + B64[(b[i] & 3) << 4] + '==';
  else if (b.length - i === 2) {
    s += B64[b[i] >> 2] + B64[((b[i] & 3) << 4) | (b[i + 1] >> 4)] + B64[(b[i + 1] & 15) << 2] + '=';
  }
  return url ? s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : s;
}
function unb64(s) {
  var out = [], acc = 0, bits = 0;
  for (var i = 0; i < s.length; i++) {
    var ch = s[i], v = ch === '-' ? 62 : ch === '_' ? 63 : B64.indexOf(ch);
    if (ch === '=') break;
    if (v < 0) continue;
    acc = (acc << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
  }
  return new Uint8Array(out);
}
function hex(b) {
  var s = '';
  for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}
function unhex(s) {
  var out = [];
  for (var i = 0; i + 1 < s.length; i += 2) {
    var v = parseInt(s.substr(i, 2), 16);
    if (v !== v) break;
    out.push(v);
  }
  return new Uint8Array(out);
}
function latin1(b) { var s = ''; for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]); return s; }
function unlatin1(s) {
  var o = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) o[i] = s.charCodeAt(i) & 255;
  return o;
}
function encode(s, enc) {
  switch ((enc || 'utf8').toLowerCase()) {
    case 'utf8': case 'utf-8': return utf8(s);
    case 'hex': return unhex(s);
    case 'base64': case 'base64url': return unb64(s);
    case 'latin1': case 'binary': case 'ascii': return unlatin1(s);
  }
  throw new TypeError('Unknown encoding: ' + enc);
}
function decode(b, enc) {
  switch ((enc || 'utf8').toLowerCase()) {
    case 'utf8': case 'utf-8': return unutf8(b);
    case 'hex': return hex(b);
    case 'base64': return b64(b, false);
    case 'base64url': return b64(b, true);
    case 'latin1': case 'binary': return latin1(b);
    case 'ascii': var s = ''; for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i] & 127); return s;
  }
  throw new TypeError('Unknown encoding: ' + enc);
}

// ---- hashes (bytes in, bytes out) -----------------------------------------------------------------
function pad(b, little) {
  var l = b.length, n = ((l + 8) >> 6) + 1 << 6, m = new Uint8Array(n);
  var lo = (l * 8) >>> 0, hi = Math.floor(l / 0x20000000);
  m.set(b); m[l] = 0x80;
  for (var i = 0; i < 4; i++) {
    if (little) { m[n - 8 + i] = (lo >>> (8 * i)) & 255; m[n - 4 + i] = (hi >>> (8 * i)) & 255; }
    else { m[n - 1 - i] = (lo >>> (8 * i)) & 255; m[n - 5 - i] = (hi >>> (8 * i)) & 255; }
  }
  return m;
}
function words(h, little) {
  var o = new Uint8Array(h.length * 4);
  for (var i = 0; i < h.length; i++) {
    for (var k = 0; k < 4; k++) o[4 * i + k] = (h[i] >>> (little ? 8 * k : 24 - 8 * k)) & 255;
  }
  return o;
}
function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
function sha256(b) {
  var m = pad(b, false), W = new Array(64);
  var H = [0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19];
  for (var i = 0; i < m.length; i += 64) {
    for (var t = 0; t < 64; t++) {
      if (t < 16) W[t] = (m[i + 4 * t] << 24) | (m[i + 4 * t + 1] << 16) | (m[i + 4 * t + 2] << 8) | m[i + 4 * t + 3];
      else {
        var s0 = rotr(W[t - 15], 7) ^ rotr(W[t - 15], 18) ^ (W[t - 15] >>> 3);
        var s1 = rotr(W[t - 2], 17) ^ rotr(W[t - 2], 19) ^ (W[t - 2] >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
      }
    }
    var a = H[0], b2 = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
    for (t = 0; t < 64; t++) {
      var t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[t] + W[t]) | 0;
      var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b2) ^ (a & c) ^ (b2 & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b2; b2 = a; a = (t1 + t2) | 0;
    }
    H[0] = (H[0] + a) | 0; H[1] = (H[1] + b2) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
    H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
  }
  return words(H, false);
}
function sha1(b) {
  var m = pad(b, false), W = new Array(80), H = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  for (var i = 0; i < m.length; i += 64) {
    for (var t = 0; t < 80; t++) {
      if (t < 16) W[t] = (m[i + 4 * t] << 24) | (m[i + 4 * t + 1] << 16) | (m[i + 4 * t + 2] << 8) | m[i + 4 * t + 3];
      else W[t] = rotr(W[t - 3] ^ W[t - 8] ^ W[t - 14] ^ W[t - 16], 31);
    }
    var a = H[0], b2 = H[1], c = H[2], d = H[3], e = H[4];
    for (t = 0; t < 80; t++) {
      var f = t < 20 ? ((b2 & c) | (~b2 & d)) + 0x5a827999 : t < 40 ? (b2 ^ c ^ d) + 0x6ed9eba1
        : t < 60 ? ((b2 & c) | (b2 & d) | (c & d)) + 0x8f1bbcdc : (b2 ^ c ^ d) + 0xca62c1d6;
      var tmp = (rotr(a, 27) + f + e + W[t]) | 0;
      e = d; d = c; c = rotr(b2, 2); b2 = a; a = tmp;
    }
    H[0] = (H[0] + a) | 0; H[1] = (H[1] + b2) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0; H[4] = (H[4] + e) | 0;
  }
  return words(H, false);
}
function md5(b) {
  var m = pad(b, true), H = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], X = new Array(16);
  for (var i = 0; i < m.length; i += 64) {
    for (var k = 0; k < 16; k++) {
      X[k] = m[i + 4 * k] | (m[i + 4 * k + 1] << 8) | (m[i + 4 * k + 2] << 16) | (m[i + 4 * k + 3] << 24);
    }
    var a = H[0], b2 = H[1], c = H[2], d = H[3];
    for (var t = 0; t < 64; t++) {
      var r = t >> 4, f, g;
      if (r === 0) { f = (b2 & c) | (~b2 & d); g = t; }
      else if (r === 1) { f = (d & b2) | (~d & c); g = (5 * t + 1) & 15; }
      else if (r === 2) { f = b2 ^ c ^ d; g = (3 * t + 5) & 15; }
      else { f = c ^ (b2 | ~d); g = (7 * t) & 15; }
      var tmp = d; d = c; c = b2;
      var sum = (a + f + MD5T[t] + X[g]) | 0, s = MD5S[r * 4 + (t & 3)];
      b2 = (b2 + ((sum << s) | (sum >>> (32 - s)))) | 0; a = tmp;
    }
    H[0] = (H[0] + a) | 0; H[1] = (H[1] + b2) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
  }
  return words(H, true);
}
var HASHES = {md5: md5, sha1: sha1, sha256: sha256};

return function setup(runtime, kvsJson) {
  var v2 = runtime === 'cloudfront-js-2.0';
  var state = {now: 0, logs: [], logSize: 0, done: false, result: undefined, error: undefined};

  // ---- Buffer (js-2.0) ------------------------------------------------------------------------------
  class Buffer extends Uint8Array {
    static from(v, enc, len) {
      if (typeof v === 'string') return wrap(encode(v, enc));
      if (v instanceof ArrayBuffer) return new Buffer(v, enc || 0, len === undefined ? v.byteLength - (enc || 0) : len);
      var b = new Buffer(v.length);
      for (var i = 0; i < v.length; i++) b[i] = v[i];
      return b;
    }
    static alloc(n, fill, enc) {
      var b = new Buffer(n);
      if (fill !== undefined) b.fill(typeof fill === 'string' ? (encode(fill, enc)[0] || 0) : fill);
      return b;
    }
    static allocUnsafe(n) { return new Buffer(n); }
    static isBuffer(v) { return v instanceof Buffer; }
    static isEncoding(e) {
      var known = ['utf8', 'utf-8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii'];
      return known.indexOf(String(e).toLowerCase()) >= 0;
    }
    static byteLength(v, enc) { return typeof v === 'string' ? encode(v, enc).length : v.byteLength; }
    static concat(list, total) {
      if (total === undefined) { total = 0; for (var i = 0; i < list.length; i++) total += list[i].length; }
      var b = new Buffer(total), o = 0;
      for (i = 0; i < list.length && o < total; i++) { b.set(list[i].subarray(0, total - o), o); o += list[i].length; }
      return b;
    }
    static compare(a, b) { return a.compare(b); }
    toString(enc, start, end) { return decode(this.subarray(start || 0, end === undefined ? this.length : end), enc); }
    toJSON() { return {type: 'Buffer', data: Array.prototype.slice.call(this)}; }
    equals(o) { return this.compare(o) === 0; }
    compare(o) {
      for (var i = 0; i < Math.min(this.length, o.length); i++) if (this[i] !== o[i]) return this[i] < o[i] ? -1 : 1;
      return this.length === o.length ? 0 : this.length < o.length ? -1 : 1;
    }
    slice(s, e) { return this.subarray(s, e); }
    copy(t, ts, ss, se) {
      var src = this.subarray(ss || 0, se === undefined ? this.length : se).subarray(0, t.length - (ts || 0));
      t.set(src, ts || 0); return src.length;
    }
    write(s, off, len, enc) {
      if (typeof off === 'string') { enc = off; off = 0; len = undefined; }
      var b = encode(s, enc).subarray(0, len === undefined ? this.length - (off || 0) : len);
      this.set(b.subarray(0, this.length - (off || 0)), off || 0); return b.length;
    }
    readUInt8(o) { return this[o || 0]; }
    readUInt16BE(o) { o = o || 0; return (this[o] << 8) | this[o + 1]; }
    readUInt32BE(o) {
      o = o || 0; return ((this[o] << 24) | (this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]) >>> 0;
    }
  }
  function wrap(u8) { return new Buffer(u8.buffer, u8.byteOffset, u8.length); }
  function bytes(data, enc) {
    if (typeof data === 'string') return encode(data, enc);
    if (data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    throw new TypeError('data must be a string or a Buffer');
  }

  // ---- crypto ---------------------------------------------------------------------------------------
  function digestOut(b, enc) {
    if (enc === undefined) return v2 ? wrap(b) : latin1(b);
    if (enc === 'hex' || enc === 'base64' || enc === 'base64url') return decode(b, enc);
    throw new TypeError('Unknown digest encoding: ' + enc);
  }
  function algo(name) {
    var f = HASHES[String(name).toLowerCase()];
    if (!f) throw new TypeError('not supported algorithm: "' + name + '"');
    return f;
  }
  function concat(parts) {
    var n = 0, i; for (i = 0; i < parts.length; i++) n += parts[i].length;
    var out = new Uint8Array(n), o = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], o); o += parts[i].length; }
    return out;
  }
  function Hash(f, key) { this._f = f; this._parts = []; this._key = key; this._done = false; }
  Hash.prototype.update = function (data, enc) {
    if (this._done) throw new Error('Digest already called');
    this._parts.push(bytes(data, enc)); return this;
  };
  Hash.prototype.copy = function () { var h = new Hash(this._f, this._key); h._parts = this._parts.slice(); return h; };
  Hash.prototype.digest = function (enc) {
    if (this._done) throw new Error('Digest already called');
    this._done = true;
    var f = this._f, msg = concat(this._parts);
    if (this._key === undefined) return digestOut(f(msg), enc);
    var key = this._key.length > 64 ? f(this._key) : this._key;
    var ip = new Uint8Array(64 + msg.length), op = new Uint8Array(96);
    for (var i = 0; i < 64; i++) { ip[i] = (key[i] || 0) ^ 0x36; op[i] = (key[i] || 0) ^ 0x5c; }
    ip.set(msg, 64);
    var inner = f(ip), outer = new Uint8Array(64 + inner.length);
    outer.set(op.subarray(0, 64)); outer.set(inner, 64);
    return digestOut(f(outer), enc);
  };
  var crypto = {
    createHash: function (name) { return new Hash(algo(name)); },
    createHmac: function (name, key) { return new Hash(algo(name), bytes(key)); },
  };

  // ---- querystring (Node's semantics) ---------------------------------------------------------------
  function unesc(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
  function esc(s) { return encodeURIComponent(s); }
  function qsParse(str, sep, eq, opts) {
    sep = sep || '&'; eq = eq || '='; var out = {}, max = (opts && opts.maxKeys) || 1000;
    var dec = (opts && opts.decodeURIComponent) || unesc;
    if (typeof str !== 'string' || str.length === 0) return out;
    var parts = str.split(sep);
    if (max > 0 && parts.length > max) parts = parts.slice(0, max);
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i].replace(/\+/g, '%20'), at = p.indexOf(eq);
      var k = dec(at >= 0 ? p.substr(0, at) : p), v = at >= 0 ? dec(p.substr(at + eq.length)) : '';
      if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = v;
      else if (Array.isArray(out[k])) out[k].push(v);
      else out[k] = [out[k], v];
    }
    return out;
  }
  function prim(v) {
    if (typeof v === 'string') return v;
    return (typeof v === 'number' && isFinite(v)) || typeof v === 'boolean' ? String(v) : '';
  }
  function qsStringify(obj, sep, eq, opts) {
    sep = sep || '&'; eq = eq || '='; var enc = (opts && opts.encodeURIComponent) || esc, out = [];
    if (obj === null || typeof obj !== 'object') return '';
    Object.keys(obj).forEach(function (k) {
      var v = obj[k], ks = enc(prim(k)) + eq;
      if (Array.isArray(v)) v.forEach(function (x) { out.push(ks + enc(prim(x))); });
      else out.push(ks + enc(prim(v)));
    });
    return out.join(sep);
  }
  var querystring = {parse: qsParse, decode: qsParse, stringify: qsStringify, encode: qsStringify,
                     escape: esc, unescape: unesc};

  // ---- the cloudfront module (js-2.0) ---------------------------------------------------------------
  var kvsData = kvsJson === null ? null : JSON.parse(kvsJson);
  var notHere = function (name) {
    return function () { throw new Error('cf.' + name + '() is not supported by lambda-gateway'); };
  };
  var kvsHandle = {
    get: function (key, opts) {
      var fmt = (opts && opts.format) || 'string';
      if (!Object.prototype.hasOwnProperty.call(kvsData.data, key)) {
        return Promise.reject(new Error('Key not found: ' + key));
      }
      var v = kvsData.data[key];
      try {
        if (fmt === 'json') return Promise.resolve(JSON.parse(v));
        if (fmt === 'bytes') return Promise.resolve(wrap(utf8(v)));
        if (fmt === 'string') return Promise.resolve(v);
      } catch (e) { return Promise.reject(e); }
      return Promise.reject(new Error('Unknown format: ' + fmt));
    },
    exists: function (key) { return Promise.resolve(Object.prototype.hasOwnProperty.call(kvsData.data, key)); },
    meta: function () {
      return Promise.resolve({creationDateTime: kvsData.created, lastUpdatedDateTime: kvsData.created,
                              keyCount: Object.keys(kvsData.data).length});
    },
  };
  var cloudfront = {
    kvs: function () {
      if (kvsData === null) throw new Error('no key value store is associated with this function');
      return kvsHandle;
    },
    updateRequestOrigin: notHere('updateRequestOrigin'), selectRequestOriginById: notHere('selectRequestOriginById'),
    createRequestOriginGroup: notHere('createRequestOriginGroup'),
  };

  // ---- console, require, Date; what CloudFront takes away ------------------------------------------
  function show(v) {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return String(v);
    try { var j = JSON.stringify(v); return j === undefined ? String(v) : j; } catch (e) { return String(v); }
  }
  function log() {
    var line = Array.prototype.map.call(arguments, show).join(' ');
    if (state.logSize >= 10240) return;
    line = line.substr(0, 10240 - state.logSize); state.logSize += line.length; state.logs.push(line);
  }
  var modules = {crypto: crypto, querystring: querystring};
  function need(name) {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    throw new Error('Cannot find module "' + name + '"');
  }
  var RealDate = Date;
  function FixedDate() {
    if (!new.target) return new RealDate(state.now).toString();
    var args = arguments.length ? Array.prototype.slice.call(arguments) : [state.now];
    return Reflect.construct(RealDate, args, new.target);
  }
  FixedDate.prototype = RealDate.prototype;
  FixedDate.now = function () { return state.now; };
  FixedDate.UTC = RealDate.UTC; FixedDate.parse = RealDate.parse;
  Object.defineProperty(RealDate.prototype, 'constructor', {value: FixedDate, writable: true, configurable: true});
  function forbid(what) { return function () { throw new EvalError(what + ' is not supported'); }; }
  var fnForbidden = forbid('Function constructor');
  [function () {}, async function () {}, function* () {}, async function* () {}].forEach(function (f) {
    Object.defineProperty(Object.getPrototypeOf(f), 'constructor',
                          {value: fnForbidden, writable: false, configurable: false});
  });
  var hidden = function (name, value) {
    Object.defineProperty(G, name, {value: value, writable: true, configurable: true, enumerable: false});
  };
  hidden('eval', forbid('eval'));
  hidden('Function', fnForbidden);
  hidden('Date', FixedDate);
  hidden('console', {log: log, info: log, warn: log, error: log, debug: log});
  hidden('require', need);
  if (v2) { hidden('Buffer', Buffer); hidden('__cloudfront', cloudfront); }
  ['WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics'].forEach(function (n) { delete G[n]; });

  // ---- the call -------------------------------------------------------------------------------------
  function reason(e) {
    return e instanceof Error ? String(e) + (e.stack ? '\n' + e.stack : '') : 'Uncaught ' + show(e);
  }
  return function bind(handler, which) {
    function invoke(eventJson, now) {
      state.now = now; state.logs = []; state.logSize = 0; state.done = false; state.result = undefined;
      state.error = undefined;
      var r = handler(JSON.parse(eventJson));
      if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
        r.then(function (v) { state.done = true; state.result = v; },
               function (e) { state.done = true; state.error = reason(e); });
        return null;
      }
      state.done = true; state.result = r;
      return take();
    }
    function take() {
      var out = {logs: state.logs, done: state.done};
      if (state.error !== undefined) out.error = state.error;
      else if (state.done) out.result = state.result === undefined ? null : state.result;
      return JSON.stringify(out);
    }
    return which === 'take' ? take : invoke;
  };
};
})()
"""
