"""Rule chain endpoints at ThingsBoard's paths (tenant administrators only; another tenant's
chain is a 404):

    POST   /api/ruleChain                   save (id = update)
    GET    /api/ruleChain/{id}              get
    DELETE /api/ruleChain/{id}              delete (not the root chain, nor one the apps above refuse:
                                            rulechains/chain_signals.py)
    GET    /api/ruleChains                  PageData (?textSearch, ?type)
    GET    /api/ruleChain/{id}/metadata     nodes and connections
    POST   /api/ruleChain/metadata          replace them (body: RuleChainMetaData with ruleChainId; a
                                            ``version`` older than the chain's is refused: 409)
    POST   /api/ruleChain/{id}/root         make it the root chain
    GET    /api/ruleChain/{id}/export       {ruleChain, metadata}, ThingsBoard's export file
    POST   /api/ruleChain/import            create a chain from such a file (not root)
    GET    /api/ruleChains/export?limit=    ThingsBoard's RuleChainData {ruleChains, metadata}
    POST   /api/ruleChains/import?overwrite= import RuleChainData; one result per chain
    GET    /api/ruleChains/list?ruleChainIds=a,b   the tenant's chains among those ids, in request order
    POST   /api/ruleChain/device/default {"name"}  a new (not root) chain made from the default
                                            root chain's template (rulechains.defaults)
"""

from django.db import transaction
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from converters.engine import EngineError
from rulechains import chain_signals, services
from rulechains.api.serializers import RuleChainSerializer
from rulechains.defaults import ROOT_CHAIN
from rulechains.metadata import MetadataError, export_metadata, save_metadata
from rulechains.models import RuleChain
from tbproject.api.exceptions import Conflict, ServiceUnavailable
from tbproject.api.ids import parse_uuid
from tbproject.api.params import choice_param
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import EntityResource
from tbproject.text import check_text

__all__ = ["RuleChainResource", "MetadataView", "SaveMetadataView", "RootView", "ExportView", "ImportView",
           "BulkExportView", "BulkImportView", "DefaultDeviceChainView"]

ENGINE_DOWN = "The script engine cannot start; the rule chain was not saved. Try again."


class RuleChainResource(EntityResource):
    model = RuleChain
    serializer_class = RuleChainSerializer
    permission_classes = [IsTenantAdmin]
    search_lookup = "icontains"  # ThingsBoard: "The case insensitive 'substring' filter"
    sort_fields = {"createdTime": "created_time", "name": "name", "root": "root", "type": "type"}
    duplicate_message = "Rule chain could not be saved"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("nodes")

    def filter_list(self, queryset):
        kind = choice_param(self.request.query_params, "type", ("CORE", "EDGE"))
        return queryset.filter(type=kind) if kind else queryset

    def perform_delete(self, obj) -> None:
        if obj.root:
            raise ValidationError("Deletion of Root Tenant Rule Chain is prohibited!")
        with transaction.atomic():
            chain_signals.deleting.send(sender=RuleChain, chain=obj)  # the apps above may refuse (edges' roots)
            obj.delete()

    def save_metadata(self, chain, data):
        try:
            with transaction.atomic():
                return save_metadata(chain, data)
        except MetadataError as e:
            self.failed("UPDATED", chain, None, e)  # the audit log's FAILURE row
            raise ValidationError(str(e)) from None
        except EngineError:
            raise ServiceUnavailable(ENGINE_DOWN) from None


class MetadataView(RuleChainResource):
    def get(self, request, pk):
        return Response(export_metadata(self.get_object(pk)))


class SaveMetadataView(RuleChainResource):
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError("Request body must be a JSON object")
        raw = data.get("ruleChainId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        if not raw:
            raise ValidationError("ruleChainId should be specified!")
        chain = self.get_object(parse_uuid(raw))
        expected = data.get("version")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            raise ValidationError("version must be the integer version the metadata was read with")
        try:
            with transaction.atomic():
                if expected is not None:  # optimistic concurrency, as ThingsBoard's entity versions
                    chain = RuleChain.objects.select_for_update().get(pk=chain.pk)
                    if chain.version != expected:
                        raise Conflict(f"Rule chain was already changed by someone else (it is at version "
                                       f"{chain.version}, it was opened at version {expected}). Nothing was saved: "
                                       "reload the chain to see the changes, or export yours first.")
                chain = save_metadata(chain, data)
        except MetadataError as e:
            self.failed("UPDATED", chain, None, e)  # after the rollback: the audit log's FAILURE row stays
            raise ValidationError(str(e)) from None
        except EngineError:
            raise ServiceUnavailable(ENGINE_DOWN) from None
        return Response(export_metadata(chain))


class RootView(RuleChainResource):
    def post(self, request, pk):
        return Response(self.render(services.set_root(self.get_object(pk))))


class ExportView(RuleChainResource):
    def get(self, request, pk):
        chain = self.get_object(pk)
        return Response({"ruleChain": self.render(chain), "metadata": export_metadata(chain)})


class ImportView(RuleChainResource):
    """The chain is created with the file's name, type, debugMode and configuration; never as root."""

    def post(self, request):
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("ruleChain"), dict) \
                or not isinstance(data.get("metadata"), dict):
            raise ValidationError("The body must be a rule chain export: {\"ruleChain\": {...}, \"metadata\": {...}}")
        serializer = self.serializer_class(data=data["ruleChain"], context={"request": request, "view": self})
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            chain = self.perform_save(serializer)
            self.save_metadata(chain, data["metadata"])
        chain = self.get_object(chain.pk)
        return Response({"ruleChain": self.render(chain), "metadata": export_metadata(chain)})


class DefaultDeviceChainView(RuleChainResource):
    """ThingsBoard's "Create Default Rule Chain": its root chain template under the posted name."""

    def post(self, request):
        name = request.data.get("name") if isinstance(request.data, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("Parameter 'name' can't be empty!")
        if len(name) > 255:
            raise ValidationError("Rule chain name must be at most 255 characters")
        try:
            check_text(name)
        except ValueError as e:
            raise ValidationError(f"Rule chain name: {e}") from None
        template = {"ruleChain": {**ROOT_CHAIN["ruleChain"], "name": name, "root": False},
                    "metadata": ROOT_CHAIN["metadata"]}
        # the built-in template's scripts are known to compile, as for a new tenant's root chain
        chain = services.create_chain(request.user.tenant_id, template, check=False)
        return Response(self.render(self.get_object(chain.pk)))


class BulkExportView(RuleChainResource):
    """`GET /api/ruleChains/export?limit=N`: ThingsBoard's RuleChainData ``{ruleChains, metadata}``."""

    def get(self, request):
        raw = request.query_params.get("limit", "")
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError("Parameter 'limit' must be a positive integer")
        chains = list(self.get_queryset().order_by("created_time", "pk")[: int(raw)])
        return Response({"ruleChains": self.render(chains, many=True),
                         "metadata": [export_metadata(c) for c in chains]})


class BulkImportView(RuleChainResource):
    """`POST /api/ruleChains/import?overwrite=`: body RuleChainData; one RuleChainImportResult per chain.

    Each chain is imported on its own (all or nothing for that chain) and never as root. With
    ``overwrite=true`` a chain of the same name is updated in place; otherwise a new one is made.
    A chain that cannot be imported reports its ``error`` and the others still go."""

    def post(self, request):
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("ruleChains"), list) \
                or not isinstance(data.get("metadata"), list):
            raise ValidationError("The body must be RuleChainData: {\"ruleChains\": [...], \"metadata\": [...]}")
        overwrite = str(request.query_params.get("overwrite", "false")).lower() == "true"
        by_chain = {}
        for meta in data["metadata"]:
            ref = meta.get("ruleChainId") if isinstance(meta, dict) else None
            by_chain[str(ref.get("id") if isinstance(ref, dict) else ref)] = meta
        return Response([self.import_one(info, by_chain, overwrite) for info in data["ruleChains"]])

    def import_one(self, info, by_chain: dict, overwrite: bool) -> dict:
        name = info.get("name") if isinstance(info, dict) else None
        result = {"ruleChainId": None, "ruleChainName": name, "updated": False, "error": None}
        try:
            ref = info.get("id") if isinstance(info, dict) else None
            ref = ref.get("id") if isinstance(ref, dict) else ref
            meta = by_chain.get(str(ref)) or {"nodes": [], "connections": []}
            existing = self.get_queryset().filter(name=name).first() if overwrite and name else None
            body = {k: v for k, v in (info or {}).items() if k not in ("id", "root")}
            serializer = self.serializer_class(existing, data=body, context={"request": self.request, "view": self})
            serializer.is_valid(raise_exception=True)
            with transaction.atomic():
                chain = self.perform_save(serializer)
                self.save_metadata(chain, meta)
        except (ValidationError, ServiceUnavailable) as e:
            detail = e.detail
            result["error"] = " ".join(map(str, detail)) if isinstance(detail, list) else str(
                next(iter(detail.values()))[0] if isinstance(detail, dict) else detail)
            return result
        result.update(ruleChainId={"entityType": "RULE_CHAIN", "id": str(chain.pk)}, updated=existing is not None)
        return result
