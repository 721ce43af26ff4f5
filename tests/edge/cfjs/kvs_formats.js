import cf from 'cloudfront';

const kvs = cf.kvs();

async function handler(event) {
    const config = await kvs.get('config', { format: 'json' });
    const bytes = await kvs.get('old', { format: 'bytes' });
    const meta = await kvs.meta();
    return {
        statusCode: 200,
        headers: {
            'x-color': { value: config.color },
            'x-size': { value: String(config.size) },
            'x-bytes': { value: `${Buffer.isBuffer(bytes)} ${bytes.toString('hex')}` },
            'x-exists': { value: `${await kvs.exists('old')} ${await kvs.exists('nope')}` },
            'x-keys': { value: String(meta.keyCount) },
        },
    };
}
