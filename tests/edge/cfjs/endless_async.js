async function handler(event) {
    await null;
    for (;;) {}
}
