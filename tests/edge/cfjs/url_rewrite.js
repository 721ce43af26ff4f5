// Our own version of AWS's "URL rewrite to append index.html" (url-rewrite-single-page-apps):
// a URI that ends in "/" or whose last segment has no file extension gets index.html.
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.charAt(uri.length - 1) === '/') {
        request.uri = uri + 'index.html';
    } else if (uri.split('/').pop().indexOf('.') === -1) {
        request.uri = uri + '/index.html';
    }
    return request;
}
