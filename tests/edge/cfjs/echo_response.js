// Replaces the body with the event it was given (viewer-response), as JSON.
function handler(event) {
    var response = event.response;
    response.headers['content-type'] = { value: 'application/json' };
    response.body = { data: JSON.stringify(event), encoding: 'text' };
    return response;
}
