"""The built-in example function: answers with what it received, in every front's response format."""

import json


def handler(event, context):
    ctx = event.get("requestContext") or {}
    http = ctx.get("http") or {}
    summary = {
        "message": "Hello from lambda-gateway",
        "function": context.function_name,
        "requestId": context.aws_request_id,
        "method": event.get("httpMethod") or http.get("method"),
        "path": event.get("path") or event.get("rawPath"),
        "routeKey": event.get("routeKey") or event.get("resource"),
        "query": event.get("queryStringParameters") or event.get("multiValueQueryStringParameters"),
        "event": event,
    }
    result = {"statusCode": 200, "body": json.dumps(summary, indent=2), "isBase64Encoded": False}
    if "elb" in ctx and "multiValueHeaders" in event:
        # An ALB target group with multi-value headers on reads only multiValueHeaders.
        result["multiValueHeaders"] = {"Content-Type": ["application/json"]}
    else:
        result["headers"] = {"Content-Type": "application/json"}
    return result
