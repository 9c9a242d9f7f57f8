"""The app's SAMP button and the rows TOPCAT sends back, with a real in-process hub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from redclump.core.selection import TIER1
from redclump.dashboard.app_data import frames_to_app_data
from redclump.dashboard.samp_link import SampLink, marked_overlay
from redclump.dashboard.state import ExplorerState
from redclump.data.samp import SELECT_ROWS
from redclump.data.synthetic import synthetic_frames

pytest.importorskip("pyvo.samp")
# HoloViews' range of the contamination map when a bin row is empty.
pytestmark = pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")


@pytest.fixture
def link() -> Iterator[SampLink]:
    """The SAMP link of an app page, the Tier 1 preset pressed."""
    from redclump.dashboard.app import create_app

    catalogue, scored = synthetic_frames(5_000, 2_000, seed=8)
    template = create_app(frames_to_app_data(catalogue, scored, source="synthetic"))
    template.state.apply_preset("tier1")
    yield template.samp
    template.samp.close()


def _until(condition: Any, timeout: float = 10) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_button_sends_the_selection_and_rows_sent_back_are_marked(link: SampLink, samp_receiver: Any) -> None:
    link.send()
    assert samp_receiver.received.wait(10), link.status
    (table,) = samp_receiver.tables
    catalogue = link.state.data.catalogue
    expected = TIER1.mask(catalogue)
    assert len(table) == int(expected.sum()) > 3
    assert table.meta["cut"] == TIER1.text()
    assert link.status.startswith(f"Sent {len(table):,} stars") and "receiver" in link.status

    # TOPCAT: the user selects three rows of the table it received and broadcasts them.
    table_id = samp_receiver.params[0]["table-id"]
    samp_receiver.client.enotify_all(SELECT_ROWS, **{"table-id": table_id, "url": "", "row-list": ["0", "2", "3"]})
    assert _until(lambda: len(link.marked) == 3), link.status
    marked_ids = catalogue["source_id"].to_numpy()[link.marked]
    np.testing.assert_array_equal(marked_ids, np.asarray(table["source_id"])[[0, 2, 3]])
    assert "3 star(s) selected in TOPCAT/Aladin" in link.status
    rings = marked_overlay(link, "dnu_phot", "dp_phot")[()]
    assert len(rings) == 3

    # A message about a table this session did not send changes nothing.
    samp_receiver.client.enotify_all(SELECT_ROWS, **{"table-id": "someone-else", "url": "", "row-list": ["1"]})
    time.sleep(0.5)
    assert len(link.marked) == 3


def test_no_hub_is_a_message_on_the_page_not_an_exception(
    link: SampLink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'none.lock').as_uri()}")
    link.send()
    assert link.status.startswith("Not sent: no SAMP hub is running: start TOPCAT or Aladin")


def test_sessions_share_one_client_and_hear_only_their_tables(samp_receiver: Any) -> None:
    """Two pages send: the hub sees one redclump client (the process's), and rows selected in a
    table go to the session that sent it."""
    catalogue, scored = synthetic_frames(5_000, 2_000, seed=8)
    data = frames_to_app_data(catalogue, scored, source="synthetic")
    links = [SampLink(ExplorerState(data, dp_min=dp_min)) for dp_min in (250.0, 280.0)]
    try:
        for link in links:
            link.send()
        assert _until(lambda: len(samp_receiver.tables) == 2), [link.status for link in links]
        client = samp_receiver.client
        names = [client.get_metadata(c).get("samp.name", "") for c in client.get_registered_clients()]
        assert [n for n in names if n.startswith("redclump")] == ["redclump"]
        second_id = samp_receiver.params[1]["table-id"]
        client.enotify_all(SELECT_ROWS, **{"table-id": second_id, "url": "", "row-list": ["1"]})
        assert _until(lambda: len(links[1].marked) == 1)
        time.sleep(0.3)
        assert len(links[0].marked) == 0
        assert links[1].marked[0] == np.flatnonzero(links[1].state.mask())[1]
    finally:
        for link in links:
            link.close()
