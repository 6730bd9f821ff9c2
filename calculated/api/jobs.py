"""ThingsBoard's job endpoints (JobController, 4.1) and a calculated field's reprocessing ones.

    GET    /api/calculatedField/{id}/reprocess?startTs&endTs        -> Job (QUEUED; runs in a task)
    GET    /api/calculatedField/{id}/reprocessAndWait?startTs&endTs -> 200 once done
    GET    /api/calculatedField/{id}/reprocess/validate             -> CfReprocessingValidationResult
    GET    /api/calculatedField/{id}/reprocess/job                  -> the field's newest Job, or null
    GET    /api/jobs?pageSize&page[&textSearch&sortProperty&sortOrder&types&statuses&entities&startTime&endTime
                     &includeCustomers]
    GET|DELETE /api/job/{id};  POST /api/job/{id}/cancel;  POST /api/job/{id}/reprocess (its failed tasks)

The job endpoints serve every kind of job: calculated fields' reprocessing and report generation
(calculated/all_jobs.py). They admit tenant administrators and customer users (JobController's TENANT_ADMIN and
CUSTOMER_USER): a customer user sees, cancels, deletes and re-runs its own customer's report jobs only, any other
job is a 404. A calculated field's reprocessing endpoints stay the tenant administrator's.
"""

from django.http import JsonResponse
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calculated import all_jobs, jobs, reprocess
from calculated.api.views import _View
from calculated.models import Job
from tbproject.api.params import ms_param
from tbproject.api.permissions import IsTenantUser

__all__ = ["ReprocessView", "ReprocessAndWaitView", "ValidateView", "LastJobView", "JobListView", "JobView",
           "JobCancelView", "JobRetryView"]


def _ms(params, name: str) -> int:
    value = ms_param(params, name)
    if value is None:
        raise ValidationError(f"Required request parameter '{name}' is not present")
    return value


class _AnyJobView(APIView):
    """/api/jobs and /api/job/{id}: tenant administrators and customer users (calculated/all_jobs.py narrows)."""

    permission_classes = [IsTenantUser]

    def job(self, pk):
        """The user's job of any kind (calculated/all_jobs.py); 404 for another tenant's or customer's."""
        return all_jobs.find(self.request.user, pk)

    def act(self, action, pk) -> None:
        try:
            action(self.job(pk))
        except all_jobs.JobError as e:
            raise ValidationError(str(e)) from None


class _JobView(_View):
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


class JobListView(_AnyJobView):
    def get(self, request):
        return Response(all_jobs.page(request.user, request.query_params))


class JobView(_AnyJobView):
    def get(self, request, pk):
        return Response(all_jobs.render(self.job(pk)))

    def delete(self, request, pk):
        self.act(all_jobs.delete, pk)
        return Response(status=200)


class JobCancelView(_AnyJobView):
    def post(self, request, pk):
        self.act(all_jobs.cancel, pk)
        return Response(status=200)


class JobRetryView(_AnyJobView):
    def post(self, request, pk):
        self.act(all_jobs.retry, pk)
        return Response(status=200)
