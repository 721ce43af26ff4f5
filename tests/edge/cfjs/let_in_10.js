function handler(event) {
    // a comment with let and const in it is fine; 'const' in a string is fine too
    var note = 'const';
    let request = event.request;
    return request;
}
