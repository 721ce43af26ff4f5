import cf from 'cloudfront';

// After AWS's "kvs-key-value-pairs": the first path segment is a key; its value from the key value
// store replaces it. A missing key leaves the URI alone (the rejection is caught and logged).
const store = cf.kvs('kvs-example-id');

async function handler(event) {
    const request = event.request;
    const parts = request.uri.split('/');
    try {
        parts[1] = await store.get(parts[1]);
        const uri = parts.join('/');
        console.log(`${request.uri} -> ${uri}`);
        request.uri = uri;
    } catch (err) {
        console.log(`${request.uri} | ${err}`);
    }
    return request;
}
