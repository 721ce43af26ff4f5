// Changes every writable part of the request (viewer-request, js-2.0).
function handler(event) {
    const request = event.request;
    request.uri = '/changed' + request.uri;
    request.querystring.added = { value: 'yes' };
    delete request.querystring.drop;
    request.headers['x-added'] = { value: 'one', multiValue: [{ value: 'one' }, { value: 'two' }] };
    if (request.headers['x-multi']) {
        request.headers['x-multi'].value = 'first-changed';
    }
    delete request.headers['x-remove'];
    request.cookies.session = { value: 'abc' };
    request.method = 'DELETE';  // read-only: ignored
    return request;
}
