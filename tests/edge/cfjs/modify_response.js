// viewer-response: status, headers, cookies (with attributes) and a base64 body.
function handler(event) {
    const response = event.response;
    response.statusCode = 201;
    response.headers['x-seen-status'] = { value: String(event.response.statusCode) };
    response.cookies.theme = { value: 'dark', attributes: 'Path=/; Secure' };
    response.cookies.pair = { value: 'a', multiValue: [{ value: 'a', attributes: 'Path=/a' }, { value: 'b' }] };
    response.body = { encoding: 'base64', data: Buffer.from('new body').toString('base64') };
    return response;
}
