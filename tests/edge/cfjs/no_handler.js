function main(event) {
    return event.request;
}
