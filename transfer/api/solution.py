"""ThingsBoard PE 4.4's solution export/import (transfer/solution/), tenant administrators with VERSION_CONTROL
WRITE (roles/enforcement.py classifies the routes):

    POST /api/solution/export     SolutionExportRequest {internalIds, externalIds, settings}
                                  -> {solution: {entities: {<type>: [...]}}, warnings}
    POST /api/solution/import     SolutionData -> {success, created, idMapping}; 400 malformed, 409 conflicts
    POST /api/solution/validate   SolutionData -> {valid, entitySummary, conflicts, warnings}; nothing written
"""

from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.permissions import IsTenantAdmin
from transfer.solution.exporting import export_solution
from transfer.solution.importing import import_solution, validate_solution
from transfer.vc.calls import CallError

__all__ = ["SolutionExportView", "SolutionImportView", "SolutionValidateView"]


class _View(APIView):
    permission_classes = [IsTenantAdmin]
    work = None

    def post(self, request):
        try:
            return Response(type(self).work(request.user, request.data))
        except CallError as e:  # an endpoint the entities are read or saved through refused
            refused = APIException(e.message)
            refused.status_code = e.status
            raise refused from None
        except RecursionError:  # JSON parsed, but too deep for the walks over it (rolled back, if importing)
            raise ValidationError("The solution's JSON is nested too deeply") from None


class SolutionExportView(_View):
    work = export_solution


class SolutionImportView(_View):
    work = import_solution


class SolutionValidateView(_View):
    work = validate_solution
