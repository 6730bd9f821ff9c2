"""PE's owner lists: who may own entities (the tenant and its customers).

    GET /api/owners?pageSize&page&textSearch&sortOrder    PageData of ContactBased (tenant, customers)
    GET /api/ownerInfos?...                               PageData of EntityInfo {id, name}
    GET /api/ownerInfo/{ownerType}/{ownerId}              EntityInfo

A tenant admin sees its tenant and its customers; a customer user its own customer. Another
tenant's or customer's owner is a 404.
"""

from django.http import Http404
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_request
from tbproject.api.permissions import IsTenantUser
from tenants.choices import Authority
from tenants.models import Customer

__all__ = ["OwnersView", "OwnerInfoView"]

_CONTACT = ("email", "country", "state", "city", "address", "zip", "phone")


def _contact(kind: str, row) -> dict:
    body = {"id": entity_id(kind, row.pk), "createdTime": row.created_time, "name": row.title,
            "additionalInfo": row.additional_info}
    body.update({f: getattr(row, f, "") or "" for f in _CONTACT})
    return body


def owners(user) -> list[dict]:
    """The owners ``user`` may see, tenant first, then customers by title."""
    customers = Customer.objects.for_user(user).order_by("title")
    found = [] if user.authority == Authority.CUSTOMER_USER else [_contact("TENANT", user.tenant)]
    return found + [_contact("CUSTOMER", c) for c in customers]


class OwnersView(APIView):
    permission_classes = [IsTenantUser]
    infos = False

    def get(self, request):
        req = page_request(request.query_params)
        rows = [o for o in owners(request.user) if o["name"].lower().startswith(req.text_search.lower())]
        if req.sort_order == "DESC":
            rows.reverse()
        chunk = rows[req.page * req.page_size:(req.page + 1) * req.page_size]
        if self.infos:
            chunk = [{"id": o["id"], "name": o["name"]} for o in chunk]
        total_pages = -(-len(rows) // req.page_size)
        return Response({"data": chunk, "totalPages": total_pages, "totalElements": len(rows),
                         "hasNext": req.page + 1 < total_pages})


class OwnerInfoView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, owner_type, owner_id):
        pk = parse_uuid(owner_id)
        found = next((o for o in owners(request.user)
                      if o["id"] == entity_id(owner_type.upper(), pk)), None)
        if found is None:
            raise Http404("Requested owner wasn't found!")
        return Response({"id": found["id"], "name": found["name"]})
