// A/B testing by cookie (after the A/B example in AWS's CloudFront Functions guide): a viewer with the
// experiment cookie gets that variant's copy of the page; a new viewer is assigned one at random.
function handler(event) {
    var request = event.request;
    var cookie = request.cookies['x-experiment'];
    var group = cookie ? cookie.value : (Math.random() < 0.5 ? 'a' : 'b');
    if (group !== 'a' && group !== 'b') {
        group = 'a';
    }
    request.uri = '/experiment-' + group + request.uri;
    request.cookies['x-experiment'] = { value: group };
    return request;
}
