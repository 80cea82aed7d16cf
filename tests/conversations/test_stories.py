"""Every conversation story under ``stories/`` runs through the real engine (see ``runner.py``)."""

from __future__ import annotations

import pytest

from tests.conversations.runner import StoryRun, load_stories

STORIES = load_stories()


@pytest.mark.parametrize("story", STORIES, ids=[f"{s['_file']}::{s['story']}" for s in STORIES])
def test_story(story_services, story) -> None:
    StoryRun(story_services, story).run()
