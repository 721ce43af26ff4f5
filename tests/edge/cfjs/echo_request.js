// Answers with the event it was given (viewer-request), as JSON.
function handler(event) {
    return {
        statusCode: 200,
        statusDescription: 'OK',
        headers: { 'content-type': { value: 'application/json' } },
        body: JSON.stringify(event)
    };
}
