function handler(event) {
    setTimeout(function () {}, 1);
    return event.request;
}
