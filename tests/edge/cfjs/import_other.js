import fs from 'fs';
function handler(event) {
    return event.request;
}
