"""The audit log in the admin: read-only, filtered by action, entity type and status, each row's
diff shown with secrets masked (as recorded)."""

import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from audit.models import AuditLog
from tbproject.admin import TenantScopedAdmin, format_ms, is_sysadmin


@admin.register(AuditLog)
class AuditLogAdmin(TenantScopedAdmin):
    read_only = True
    list_display = ("when", "user_name", "action_type", "entity_type", "entity_name", "action_status", "changed")
    list_filter = ("action_type", "entity_type", "action_status")
    search_fields = ("entity_name", "user_name", "=entity_id")
    fields = ("when", "user_name", "action_type", "entity_type", "entity_name", "entity_id", "action_status",
              "action_failure_details", "diff_table", "data")
    readonly_fields = fields

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return (*columns, "tenant") if is_sysadmin(request.user) else columns

    @admin.display(description="When", ordering="created_time")
    def when(self, obj) -> str:
        return format_ms(obj.created_time)

    @admin.display(description="Changed")
    def changed(self, obj) -> str:
        paths = [d.get("path", "") for d in obj.action_data.get("diff") or []]
        return ", ".join(paths[:4]) + (f" (+{len(paths) - 4})" if len(paths) > 4 else "")

    @admin.display(description="Diff")
    def diff_table(self, obj) -> str:
        diff = obj.action_data.get("diff") or []
        if not diff:
            return "-"
        rows = format_html_join("", "<tr><td><code>{}</code></td><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
                                ((d.get("path"), _text(d.get("old")), _text(d.get("new"))) for d in diff))
        return format_html('<table data-role="audit-diff"><thead><tr><th>Path</th><th>Old</th><th>New</th></tr>'
                           "</thead><tbody>{}</tbody></table>", rows)

    @admin.display(description="Action data")
    def data(self, obj) -> str:
        return format_html('<pre style="white-space: pre-wrap; max-width: 100ch;">{}</pre>',
                           json.dumps(obj.action_data, indent=2, sort_keys=True))


def _text(value) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True)
