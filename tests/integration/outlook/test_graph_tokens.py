"""The local Graph's own token store: what the sync tests refresh through."""

from __future__ import annotations

import pytest

from tests.fakes.graph_server import FakeGraph

pytestmark = pytest.mark.integration


def test_the_fake_graph_refreshes_through_its_token_store() -> None:
    with FakeGraph() as graph:
        tokens = graph.tokens()
        first = tokens.access_token()
        assert tokens.refreshed() != first and graph.token == tokens.access_token()
