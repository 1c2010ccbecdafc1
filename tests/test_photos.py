"""Photo checks on every field-work form that takes photos: a text file named .jpg and a 12 MB
image are refused with a clear message, nothing is created and everything typed stays."""
import io

import pytest

from crm.activities.models import ServiceActivity
from crm.common.timeutil import local_today
from crm.meetings.models import Meeting
from crm.photos.models import Photo
from crm.trainings.models import Training
from tests.conftest import login_as
from tests.fieldwork_helpers import big_png, form_keys, jpeg

TODAY = local_today().isoformat()

FORMS = {
    "meeting": ("/meetings/new", Meeting, lambda unit: {
        "kind": "staff", "level": "routine", "format": "face", "org_unit": str(unit.id), "held_on": TODAY,
        "attendees": "20", "summary": "在超市门口设摊宣传入会政策"}),
    "training": ("/trainings/new", Training, lambda unit: {
        "title": "职工素质提升培训", "category": "quality", "held_on": TODAY, "org_unit": str(unit.id),
        "participants": "30", "summary": "在超市门口设摊宣传入会政策"}),
    "activity": ("/activities/new", ServiceActivity, lambda unit: {
        "title": "暖心驿站义务理发", "held_on": TODAY, "org_unit": str(unit.id), "participants": "30",
        "new_members": "2", "services": ["haircut"], "summary": "在超市门口设摊宣传入会政策"}),
}


@pytest.fixture
def staff(make):
    return make.user("staff", org=make.org("瀛海镇总工会"))


def _post(client, kind, unit, photos):
    path, _, data = FORMS[kind]
    token, key, _ = form_keys(client, path)
    body = {"csrf_token": token, "form_key": key, **data(unit), "photos": photos}
    return client.post(path, data=body, content_type="multipart/form-data"), key


@pytest.mark.parametrize("kind", FORMS)
def test_a_text_file_named_jpg_is_refused_and_the_rest_kept(app, staff, kind):
    client = login_as(app.test_client(), staff)
    resp, key = _post(client, kind, staff.org_unit,
                      [(io.BytesIO(b"meeting notes, not a picture"), "notes.jpg"), (jpeg(), "good.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "“notes.jpg”不是可用的图片：只能上传 JPEG、PNG 或 WebP 格式的照片" in html
    assert "在超市门口设摊宣传入会政策" in html  # what was typed stays
    assert FORMS[kind][1].select().count() == 0
    pending = Photo.get(Photo.form_key == key)  # the good photo waits for the save
    assert pending.kind is None and f"/photos/{pending.id}/thumb" in html


@pytest.mark.parametrize("kind", FORMS)
def test_a_12_mb_image_is_refused(app, staff, kind):
    client = login_as(app.test_client(), staff)
    resp, _ = _post(client, kind, staff.org_unit, [(big_png(12), "huge.png")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "“huge.png”有 12." in html and "超过 10 MB 的上限" in html
    assert FORMS[kind][1].select().count() == 0 and Photo.select().count() == 0


@pytest.mark.parametrize("kind", FORMS)
def test_a_good_photo_is_attached_to_the_record(app, staff, kind):
    client = login_as(app.test_client(), staff)
    resp, key = _post(client, kind, staff.org_unit, [(jpeg(), "现场.jpg")])
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    record = FORMS[kind][1].get()
    photo = Photo.get(Photo.form_key == key)
    assert (photo.kind, photo.record_id) == (kind, record.id)
    assert f"/photos/{photo.id}/thumb" in client.get(resp.headers["Location"]).get_data(as_text=True)
