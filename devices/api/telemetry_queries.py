"""``POST {entityType}/{entityId}/values/timeseries``: ThingsBoard's batch of ReadTsKvQuery
({id, key, startTs, endTs, interval, limit, order, aggregation | aggParameters.aggregation}),
answered as a list of ReadTsKvQueryResult {queryId, data: [{ts, value}], lastEntryTs}, values as
strings like the GET reads. ``GET`` on the same path stays the latest-values read."""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.telemetry import render_value
from devices.api.telemetry_reads import LatestTimeseriesView, history_query
from devices.entity_views import viewed_history

__all__ = ["TimeseriesQueriesView", "MAX_QUERIES"]

MAX_QUERIES = 100


def _params(query: dict) -> dict:
    """The query as the GET history parameters it means, validated by history_query()."""
    if not isinstance(query, dict) or not isinstance(query.get("key"), str) or not query["key"]:
        raise ValidationError("Every query must be a JSON object with a non-empty 'key'")
    agg = query.get("aggregation") or (query.get("aggParameters") or {}).get("aggregation")
    names = {"startTs": "startTs", "endTs": "endTs", "interval": "interval", "limit": "limit", "orderBy": "order"}
    params = {name: query.get(field) for name, field in names.items()}
    params["agg"] = agg
    return {k: v for k, v in params.items() if v is not None}


class TimeseriesQueriesView(LatestTimeseriesView):
    def post(self, request, entity_type, entity_id):
        entity = self.entity(entity_type, entity_id)
        queries = request.data
        if not isinstance(queries, list) or len(queries) > MAX_QUERIES:
            raise ValidationError(f"The body must be a JSON array of at most {MAX_QUERIES} time series queries")
        results = []
        for query in queries:
            params = _params(query)
            points = viewed_history(entity, [query["key"]], **history_query(params)).get(query["key"], [])
            results.append({"queryId": query.get("id"),
                            "data": [{"ts": ts, "value": render_value(v, False)} for ts, v in points],
                            "lastEntryTs": max((ts for ts, _ in points), default=None)})
        return Response(results)
