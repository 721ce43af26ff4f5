// js-2.0 runtime: crypto, querystring, Buffer, a fixed Date, and what is not there.
const crypto = require('crypto');
const qs = require('querystring');

async function handler(event) {
    const first = Date.now();
    let spin = 0;
    for (let i = 0; i < 20000; i++) { spin += i; }
    const out = {
        sha256: crypto.createHash('sha256').update('abc').digest('hex'),
        md5: crypto.createHash('md5').update('abc').digest('base64'),
        sha1: crypto.createHash('sha1').update(Buffer.from('abc')).digest('base64url'),
        hmac: crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'),
        raw: Buffer.isBuffer(crypto.createHash('md5').update('').digest()),
        qs: qs.parse('a=1&a=2&b=x+y%21'),
        qs2: qs.stringify({ a: ['1', '2'], b: 'x y!' }),
        buf: [Buffer.from('héllo').toString('base64'), Buffer.from('aGk=', 'base64').toString(),
              Buffer.from('ff00', 'hex').length, Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString()],
        sameDate: first === Date.now() && new Date().getTime() === first && spin > 0,
        now: first,
        types: [typeof setTimeout, typeof setInterval, typeof setImmediate, typeof clearTimeout, typeof fetch,
                typeof XMLHttpRequest, typeof WebSocket],
        awaited: await Promise.resolve('ok'),
    };
    console.log('features', out.awaited);
    return { statusCode: 200, body: JSON.stringify(out) };
}
