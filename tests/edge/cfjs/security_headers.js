// After AWS's "add-security-headers" (viewer response): the usual protective headers.
function handler(event) {
    var response = event.response;
    var h = response.headers;
    h['strict-transport-security'] = { value: 'max-age=63072000; includeSubdomains; preload' };
    h['content-security-policy'] = {
        value: "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; " +
               "frame-ancestors 'none'"
    };
    h['x-content-type-options'] = { value: 'nosniff' };
    h['x-frame-options'] = { value: 'DENY' };
    h['x-xss-protection'] = { value: '1; mode=block' };
    h['referrer-policy'] = { value: 'same-origin' };
    return response;
}
