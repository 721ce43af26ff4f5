function handler(event) {
    return 'not an object';
}
