function handler(event) {
    throw new Error('boom from the function');
}
