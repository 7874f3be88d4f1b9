"""Byte ranges on downloads: one range is served, anything else gets the whole file."""

from __future__ import annotations

import pytest

from tests import support

TRANSCRIPT = "/certificates/transcript.csv"


@pytest.fixture
def member_client(app, client):
    """A signed-in member (their transcript is a small private download)."""
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    return client


def _whole(client, path: str) -> bytes:
    with client.get(path) as response:
        assert response.status_code == 200
        return response.data


@pytest.mark.parametrize(
    "header",
    ["bytes=0-0,-1", "bytes=0-1,4-5", "items=0-1", "bytes=abc", "bytes=5-2", "bytes="],
)
def test_several_ranges_another_unit_or_a_malformed_range_get_the_whole_file(member_client, header):
    whole = _whole(member_client, TRANSCRIPT)
    with member_client.get(TRANSCRIPT, headers={"Range": header}) as response:
        assert response.status_code == 200
        assert response.data == whole
        assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("header", ["bytes=-99999999", "bytes=0-99999999"])
def test_a_range_longer_than_the_file_gets_all_of_it(member_client, header):
    whole = _whole(member_client, TRANSCRIPT)
    with member_client.get(TRANSCRIPT, headers={"Range": header}) as response:
        assert response.status_code == 206
        assert response.data == whole
        assert response.headers["Content-Range"] == f"bytes 0-{len(whole) - 1}/{len(whole)}"


def test_one_range_gets_those_bytes(member_client):
    whole = _whole(member_client, TRANSCRIPT)
    with member_client.get(TRANSCRIPT, headers={"Range": "bytes=-3"}) as tail:
        assert tail.status_code == 206 and tail.data == whole[-3:]
    with member_client.get(TRANSCRIPT, headers={"Range": "bytes=2-5"}) as part:
        assert part.status_code == 206 and part.data == whole[2:6]
        assert part.headers["Content-Range"] == f"bytes 2-5/{len(whole)}"


def test_a_range_past_the_end_gets_a_416_naming_the_length(member_client):
    size = len(_whole(member_client, TRANSCRIPT))
    with member_client.get(TRANSCRIPT, headers={"Range": f"bytes={size}-"}) as response:
        assert response.status_code == 416
        assert response.headers["Content-Range"] == f"bytes */{size}"
        assert "does not exist" in response.get_data(as_text=True)


def test_static_files_follow_the_same_rule(client):
    path = "/static/campus.css"
    whole = _whole(client, path)
    with client.get(path, headers={"Range": "bytes=0-0,-1"}) as several:
        assert several.status_code == 200 and several.data == whole
    with client.get(path, headers={"Range": f"bytes=-{len(whole) + 10}"}) as longer:
        assert longer.status_code == 206 and longer.data == whole
    with client.get(path, headers={"Range": f"bytes={len(whole)}-"}) as past:
        assert past.status_code == 416
        assert past.headers["Content-Range"] == f"bytes */{len(whole)}"
