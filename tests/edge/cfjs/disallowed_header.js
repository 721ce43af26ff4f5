function handler(event) {
    event.request.headers['x-cache'] = { value: 'Hit' };
    return event.request;
}
