"""ThingsBoard's job endpoints (JobController, 4.1) and a calculated field's reprocessing ones.

    GET    /api/calculatedField/{id}/reprocess?startTs&endTs        -> Job (QUEUED; runs in a task)
    GET    /api/calculatedField/{id}/reprocessAndWait?startTs&endTs -> 200 once done
    GET    /api/calculatedField/{id}/reprocess/validate             -> CfReprocessingValidationResult
    GET    /api/calculatedField/{id}/reprocess/job                  -> the field's newest Job, or null
    GET    /api/jobs?pageSize&page[&textSearch&sortProperty&sortOrder&types&statuses&entities&startTime&endTime]
    GET|DELETE /api/job/{id};  POST /api/job/{id}/cancel;  POST /api/job/{id}/reprocess (its failed tasks)
"""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from calculated import jobs, reprocess
from calculated.api.views import _View
from calculated.choices import ALL_JOB_TYPES, JobStatus
from calculated.models import Job
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import ms_param

__all__ = ["ReprocessView", "ReprocessAndWaitView", "ValidateView", "LastJobView", "JobListView", "JobView",
           "JobCancelView", "JobRetryView"]

SORT_FIELDS = {"createdTime": "created_time", "status": "status", "type": "kind", "entityName": "entity_name",
               "key": "key"}


def _ms(params, name: str) -> int:
    value = ms_param(params, name)
    if value is None:
        raise ValidationError(f"Required request parameter '{name}' is not present")
    return value


def _list(params, name: str, allowed) -> list[str]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    for value in values:
        if value not in allowed:
            raise ValidationError(f"Parameter '{name}' must be one of {', '.join(allowed)}")
    return values


class _JobView(_View):
    def job(self, pk) -> Job:
        return get_object_or_404(Job.objects.filter(tenant_id=self.request.user.tenant_id), pk=parse_uuid(pk))

    def start(self, request, pk, *, queue: bool = True) -> Job:
        try:
            return jobs.start(self.field(pk), _ms(request.query_params, "startTs"), _ms(request.query_params, "endTs"),
                              queue=queue)
        except jobs.JobError as e:
            raise ValidationError(str(e)) from None


class ReprocessView(_JobView):
    def get(self, request, pk):
        return Response(jobs.render(self.start(request, pk)))


class ReprocessAndWaitView(_JobView):
    def get(self, request, pk):
        job = self.start(request, pk, queue=False)
        reprocess.run(job, budget_s=reprocess.request_budget())  # here: no task is queued, no worker takes it
        return Response(status=200)


class ValidateView(_JobView):
    def get(self, request, pk):
        return Response(jobs.validate(self.field(pk)))


class LastJobView(_JobView):
    def get(self, request, pk):
        job = jobs.last_of(self.field(pk))
        return JsonResponse(None if job is None else jobs.render(job), safe=False)


class JobListView(_JobView):
    def get(self, request):
        params = request.query_params
        queryset = Job.objects.filter(tenant_id=request.user.tenant_id)
        if types := _list(params, "types", ALL_JOB_TYPES):
            queryset = queryset.filter(kind__in=types)
        if statuses := _list(params, "statuses", JobStatus.values):
            queryset = queryset.filter(status__in=statuses)
        if entities := parse_id_list(params, "entities", required=False):
            queryset = queryset.filter(entity_id__in=entities)
        start, end = ms_param(params, "startTime"), ms_param(params, "endTime")
        if start is not None:
            queryset = queryset.filter(created_time__gte=start)
        if end is not None:
            queryset = queryset.filter(created_time__lte=end)
        return Response(page_data(queryset.order_by("-created_time"), page_request(params), search_field="entity_name",
                                  sort_fields=SORT_FIELDS, render=lambda rows: [jobs.render(j) for j in rows]))


class JobView(_JobView):
    def get(self, request, pk):
        return Response(jobs.render(self.job(pk)))

    def delete(self, request, pk):
        try:
            jobs.delete(self.job(pk))
        except jobs.JobError as e:
            raise ValidationError(str(e)) from None
        return Response(status=200)


class JobCancelView(_JobView):
    def post(self, request, pk):
        try:
            jobs.cancel(self.job(pk))
        except jobs.JobError as e:
            raise ValidationError(str(e)) from None
        return Response(status=200)


class JobRetryView(_JobView):
    def post(self, request, pk):
        try:
            jobs.retry(self.job(pk))
        except jobs.JobError as e:
            raise ValidationError(str(e)) from None
        return Response(status=200)
