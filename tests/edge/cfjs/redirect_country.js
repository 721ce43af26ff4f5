// After AWS's "redirect-based-on-country": viewers in Germany go to the German site (302 Found),
// everyone else passes through unchanged.
function handler(event) {
    var headers = event.request.headers;
    var country = headers['cloudfront-viewer-country'];
    if (country && country.value === 'DE') {
        return {
            statusCode: 302,
            statusDescription: 'Found',
            headers: { location: { value: 'https://www.example.com/de/index.html' } }
        };
    }
    return event.request;
}
