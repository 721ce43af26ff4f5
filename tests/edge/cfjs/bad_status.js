function handler(event) {
    return { statusCode: 700 };
}
