"""The ingress as a Django view, for the Django test client and WSGI deployments.

Under the ASGI server the lean app in integrations/ingress/asgi.py answers these URLs before
Django sees them; both run :func:`integrations.ingress.handler.handle`.
"""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.ingress.handler import handle

__all__ = ["ingress_view"]


@csrf_exempt
async def ingress_view(request, endpoint: str, routing_key: str):
    headers = {name.lower(): value for name, value in request.headers.items()}

    async def read_body(limit: int) -> bytes | None:
        # read(), not .body: .body would apply DATA_UPLOAD_MAX_MEMORY_SIZE instead of our own limit
        data = request.read(limit + 1)
        return None if len(data) > limit else data

    query = request.META.get("QUERY_STRING", "")
    reply = await handle(endpoint, routing_key, request.method, headers, read_body, query)
    response = HttpResponse(reply.body if request.method != "HEAD" else b"", status=reply.status,
                            content_type=None)
    if not reply.body:
        del response["Content-Type"]
    for name, value in reply.headers:
        response[name.decode()] = value.decode()
    return response
