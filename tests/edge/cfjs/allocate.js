function handler(event) {
    var parts = [];
    for (var i = 0; i < 1000000; i++) {
        parts.push('a string that takes some room ' + i);
    }
    return event.request;
}
