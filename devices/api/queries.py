"""ThingsBoard's entity data queries, the dashboard query language scripts use to list entities
with their latest data (logic in devices/queries/):

    POST /api/entitiesQuery/find                  EntityDataQuery -> PageData<EntityData>
    POST /api/entitiesQuery/count                 EntityCountQuery -> integer
    POST /api/entitiesQuery/find/keys?timeseries=true&attributes=true[&scope=]
                                                  EntityDataQuery -> {entityTypes, timeseries, attribute}
    POST /api/v2/entitiesQuery/find/keys?includeTimeseries=&includeAttributes=&scopes=&includeSamples=
                                                  EntityDataQuery -> AvailableEntityKeysV2 (devices/queries/keys.py)

Entity filters singleEntity, entityList, entityName, entityType, deviceType, assetType,
entityGroup, entityGroupList, entityGroupName and relationsQuery, over devices, assets, customers,
the tenant and entity groups; key filters STRING, NUMERIC, BOOLEAN and COMPLEX on entity fields,
attributes and latest time series. Other filter types (apiUsageState, deviceSearchQuery,
entitiesByGroupName...), entity types (USER, DASHBOARD...) or key types (ALARM_FIELD) are a 400
that names them; so is a filter or sort on latest values over more than
devices.queries.MAX_CANDIDATES entities.

The alarm data queries (``POST /api/alarmsQuery/find``, ``.../count``) start from the entities
these filters find; they live in rulechains/alarm_data.py (devices/ does not import rulechains/).
The entityGroup filter reads the group's membership rows, which an owner's "All" group has too
(devices/all_groups.py; ``GET /api/entityGroup/all/...`` is devices/api/group_extras.py's)."""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import queries
from devices.api.telemetry import attribute_scope
from tbproject.api.params import bool_param
from tbproject.api.permissions import IsTenantUser

__all__ = ["EntitiesFindView", "EntitiesCountView", "EntitiesKeysView", "EntitiesKeysV2View"]


class EntitiesFindView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        return Response(queries.find(request.user, request.data))


class EntitiesCountView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        return Response(queries.count(request.user, request.data))


def _flag(params, name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        raise ValidationError(f"Required request parameter '{name}' is not present")
    if raw.lower() not in ("true", "false"):
        raise ValidationError(f"Parameter '{name}' must be true or false, got '{raw:.16}'")
    return raw.lower() == "true"


class EntitiesKeysView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        params = request.query_params
        scope = params.get("scope") or None
        return Response(queries.find_keys(
            request.user, request.data, timeseries=_flag(params, "timeseries"), attributes=_flag(params, "attributes"),
            scope=attribute_scope(scope) if scope else None))


class EntitiesKeysV2View(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        params = request.query_params
        timeseries = bool_param(params, "includeTimeseries", True)
        attributes = bool_param(params, "includeAttributes", True)
        if not (timeseries or attributes):
            raise ValidationError("At least one of 'includeTimeseries' or 'includeAttributes' must be true")
        raw = [part.strip() for value in params.getlist("scopes") for part in value.split(",") if part.strip()]
        scopes = list(dict.fromkeys(attribute_scope(s) for s in raw)) or None
        return Response(queries.find_keys_v2(request.user, request.data, timeseries=timeseries, attributes=attributes,
                                             scopes=scopes, samples=bool_param(params, "includeSamples", False)))

