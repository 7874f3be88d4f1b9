"""Admin record pages refuse ids no key can hold like every other route: never a 500."""

from __future__ import annotations

import pytest

from tests.admin.helpers import sign_in_admin


@pytest.mark.parametrize("raw", ["4294967296", "99999999999999999999", "abc", "\u00b2", "9" * 5000])
@pytest.mark.parametrize(
    "page", ["/admin/courses/edit/", "/admin/lessons/edit/", "/admin/certificates/details/"]
)
def test_an_admin_record_page_with_an_impossible_id_says_it_does_not_exist(app, client, page, raw):
    sign_in_admin(app, client)
    response = client.get(page, query_string={"id": raw})
    assert response.status_code == 302
    assert response.headers["Location"] == page.rsplit("/", 2)[0] + "/"
