"""Admin: editing, and the workbook upload and download pages, as a superuser through the test client."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cityops.catalog.models import CatalogType
from cityops.catalog.services import workbook_export
from cityops.catalog.tests.conftest import column, dump, find_row, open_book, save_book, sheet

IMPORT_URL = reverse("admin:catalog_casestandard_import")
EXPORT_URL = reverse("admin:catalog_casestandard_export")
CHANGELIST = reverse("admin:catalog_casestandard_changelist")


def upload(content: bytes, name="standards.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_changelist_has_the_workbook_buttons(loaded, admin_client):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert IMPORT_URL in body and EXPORT_URL in body
    assert "S009" in body


def test_download(loaded, admin_client):
    response = admin_client.get(EXPORT_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert sheet(open_book(response.content), "types").max_row == 407


def test_upload_a_good_workbook(loaded, admin_client):
    wb = open_book(workbook_export())
    ws = sheet(wb, "standards")
    ws.cell(row=find_row(ws, key="S010"), column=column(ws, "limit")).value = 6
    response = admin_client.post(IMPORT_URL, {"workbook": upload(save_book(wb))}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert "Workbook imported." in response.content.decode()
    from cityops.catalog.selectors import conditions_for

    assert conditions_for("matter", "07001", "normal")[0].limit == 6


def test_upload_a_bad_workbook_lists_every_problem(loaded, admin_client):
    wb = open_book(workbook_export())
    ws = sheet(wb, "standards")
    r1 = find_row(ws, key="S002")
    r2 = find_row(ws, key="S003")
    ws.cell(row=r1, column=column(ws, "unit")).value = "weeks"
    ws.cell(row=r2, column=column(ws, "limit")).value = "abc"
    before = dump(with_ids=True)
    response = admin_client.post(IMPORT_URL, {"workbook": upload(save_book(wb))})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="import-issues"' in body
    assert f"<td>标准 standards</td><td>{r1}</td><td>单位 unit</td>" in body
    assert f"<td>标准 standards</td><td>{r2}</td><td>时限 limit</td>" in body
    assert "2 problems found; nothing was changed." in body
    assert dump(with_ids=True) == before


def test_dry_run_shows_the_counts(loaded, admin_client):
    before = dump(with_ids=True)
    response = admin_client.post(IMPORT_URL, {"workbook": upload(workbook_export()), "dry_run": "on"})
    assert response.status_code == 200
    assert "Checked, nothing changed." in response.content.decode()
    assert dump(with_ids=True) == before


def test_import_page_and_not_a_workbook(loaded, admin_client):
    assert admin_client.get(IMPORT_URL).status_code == 200
    response = admin_client.post(IMPORT_URL, {"workbook": upload(b"hello", "x.xlsx")})
    assert response.status_code == 400
    assert "This is not an xlsx workbook." in response.content.decode()


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_staff_without_permissions_cannot(loaded, client, django_user_model, url):
    user = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    client.force_login(user)
    assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_type_admin_search_and_edit(loaded, admin_client):
    url = reverse("admin:catalog_catalogtype_changelist")
    body = admin_client.get(url, {"q": "牛皮癣"}).content.decode()
    assert "非法小广告" in body
    body = admin_client.get(url, {"kind__exact": "matter", "local__exact": "1"}).content.decode()
    assert "不文明养犬" in body and "供水井盖" not in body
    t = CatalogType.objects.get(kind="matter", code="07001")
    change = reverse("admin:catalog_catalogtype_change", args=[t.pk])
    assert admin_client.get(change).status_code == 200
    data = {
        "kind": "matter",
        "code": "07001",
        "name": "非法小广告",
        "major": t.major_id,
        "component": "",
        "note": "",
        "is_public": "on",
        "keywords": "小广告， 牛皮癣、小广告",
        "is_active": "on",
    }
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    t.refresh_from_db()
    assert t.keywords == "小广告,牛皮癣"
    # the code must start with its major
    response = admin_client.post(change, {**data, "code": "08001"})
    assert response.status_code == 200
    assert "The code must start with its major class code." in response.content.decode()
    # types are deactivated, not deleted
    assert admin_client.get(reverse("admin:catalog_catalogtype_delete", args=[t.pk])).status_code == 403


def test_standard_admin_pages(loaded, admin_client):
    from cityops.catalog.models import CaseStandard

    std = CaseStandard.objects.get(key="S009")
    assert admin_client.get(reverse("admin:catalog_casestandard_change", args=[std.pk])).status_code == 200
    for name in ("steplimit", "standarddefault", "majorclass"):
        assert admin_client.get(reverse(f"admin:catalog_{name}_changelist")).status_code == 200


def test_model_checks_used_by_the_admin_forms(loaded):
    from django.core.exceptions import ValidationError

    from cityops.catalog.models import CaseStandard, StandardCode, StandardCondition

    std = CaseStandard.objects.get(key="S009")
    with pytest.raises(ValidationError, match="No catalogue type has this code"):
        StandardCode(standard=std, code="99999", position=30).full_clean()
    StandardCode(standard=std, code="01013", position=30).full_clean()
    with pytest.raises(ValidationError) as exc:
        StandardCondition(standard=std, order=9, urgency="normal", limit=0, unit="weeks").full_clean()
    assert set(exc.value.message_dict) == {"limit", "unit"}
    component = CatalogType.objects.get(kind="component", code="01001")
    component.component = component
    with pytest.raises(ValidationError, match="Only a matter"):
        component.full_clean()
