// After AWS's "add-true-client-ip-header": the viewer's address travels to the origin.
function handler(event) {
    var request = event.request;
    request.headers['true-client-ip'] = { value: event.viewer.ip };
    return request;
}
