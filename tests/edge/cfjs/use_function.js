function handler(event) {
    var f = new Function('e', 'return e.request');
    return f(event);
}
