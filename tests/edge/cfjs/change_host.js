function handler(event) {
    event.request.headers.host = { value: 'elsewhere.example' };
    return event.request;
}
