"""tb-pe-client's own controller classes driving the reporting endpoints (in-process, no server): the
answers must be JSON its models read."""

import time

from tb_pe_client.api.blob_entity_controller_api import BlobEntityControllerApi
from tb_pe_client.api.report_controller_api import ReportControllerApi
from tb_pe_client.api.report_template_controller_api import ReportTemplateControllerApi
from tb_pe_client.api.scheduler_event_controller_api import SchedulerEventControllerApi
from tb_pe_client.models import ReportRequest, ReportTemplate, ReportTemplateId

from reports.models import ReportJob
from reports.tests.helpers import make_blob, tb_api


def test_the_client_saves_templates_requests_reports_and_lists_blobs(tenant, tenant_admin,
                                                                     django_capture_on_commit_callbacks):
    templates = tb_api(ReportTemplateControllerApi, tenant_admin)
    saved = templates.save_report_template(ReportTemplate.from_dict({
        "name": "Energy", "format": "CSV", "type": "REPORT",
        "configuration": {"format": "CSV", "namePattern": "energy", "components": []}}))
    assert saved.id.entity_type == "REPORT_TEMPLATE" and saved.configuration.format == "CSV"
    pk = str(saved.id.id)
    assert templates.get_report_template_by_id(pk).name == "Energy"
    assert templates.get_report_template_info_by_id(pk).type == "REPORT"
    page = templates.get_all_report_template_infos(page_size=10, page=0, format_list=["CSV"])
    assert page.total_elements == 1 and page.data[0].name == "Energy"
    assert [t.name for t in templates.get_report_templates_by_ids([pk])] == ["Energy"]

    reports = tb_api(ReportControllerApi, tenant_admin)
    with django_capture_on_commit_callbacks(execute=True):
        job = reports.request_report(ReportRequest(report_template_id=ReportTemplateId(entity_type="REPORT_TEMPLATE",
                                                                                         id=saved.id.id),
                                                   timezone="UTC"))
    assert job.type == "REPORT" and job.status == "QUEUED"
    assert ReportJob.objects.get().status == "COMPLETED"
    listed = reports.get_reports(page_size=10, page=0)
    assert listed.total_elements == 1 and listed.data[0].name.startswith("energy")
    report_id = str(listed.data[0].id.id)
    assert reports.get_report_infos(page_size=10, page=0).data[0].template_info.name == "Energy"
    assert bytes(reports.download_report(listed.data[0].id.id)).startswith(b"component,text")
    assert reports.update_report_public_status(report_id, True).public is True

    make_blob(tenant)
    blobs = tb_api(BlobEntityControllerApi, tenant_admin)
    found = blobs.get_blob_entities(page_size=10, page=0, type="report", start_time=0,
                                    end_time=int(time.time() * 1000) + 60_000)
    assert found.total_elements == 1 and found.data[0].content_type == "application/pdf"
    blob_id = str(found.data[0].id.id)
    assert blobs.get_blob_entity_info_by_id(blob_id).name == "report-1.pdf"
    assert [b.name for b in blobs.get_blob_entities_by_ids([blob_id])] == ["report-1.pdf"]
    assert bytes(blobs.download_blob_entity(blob_id)) == b"%PDF-1.4 test"

    scheduled = tb_api(SchedulerEventControllerApi, tenant_admin).get_scheduled_report_events(page_size="10", page="0")
    assert scheduled.total_elements == 0
    templates.delete_report_template(pk)
