// After AWS's "add-cache-control-header" (viewer response): browsers may keep the object two years.
function handler(event) {
    var response = event.response;
    response.headers['cache-control'] = { value: 'public, max-age=63072000;' };
    return response;
}
