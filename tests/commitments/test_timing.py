"""How the pages word time: short, honest, in the reader's own clock."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import dateformat, timezone, translation

from commitments.templatetags.timing import (
    change_value,
    duration_words,
    every,
    in_zone,
    relative,
    short_in_zone,
    zone_abbreviation,
)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=2, minutes=30), "2 h 30 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=3, minutes=59), "3 h"),
        (timedelta(hours=47), "47 h"),
        (timedelta(days=3, hours=5), "3 days"),
        (-timedelta(hours=2, minutes=1), "2 h 1 min"),
    ],
)
def test_lengths_of_time_are_short_and_round_down(delta, words):
    assert duration_words(delta) == words


@time_machine.travel(datetime(2025, 11, 24, 15, 0, tzinfo=UTC), tick=False)
def test_moments_read_relative_to_now_and_in_a_given_zone():
    assert relative(datetime(2025, 11, 24, 18, 0, tzinfo=UTC)) == "in 3 h"
    assert relative(datetime(2025, 11, 24, 13, 0, tzinfo=UTC)) == "2 h ago"
    assert in_zone(datetime(2025, 11, 25, 15, 0, tzinfo=UTC), "America/New_York") == "Tue 25 Nov, 10:00"
    assert in_zone(datetime(2026, 1, 5, 15, 0, tzinfo=UTC), "Europe/Paris") == "Mon 5 Jan 2026, 16:00"
    assert short_in_zone(datetime(2025, 11, 25, 15, 0, tzinfo=UTC), "America/Los_Angeles") == "Tue 07:00 PST"


@pytest.mark.parametrize("language", ["en", "es"])
@time_machine.travel(datetime(2025, 11, 24, 15, 0, tzinfo=UTC), tick=False)
def test_times_in_a_zone_read_as_the_date_format_words_them_in_each_language(language):
    # The lists word these times without Django's date formatting, for speed: the words stay its words
    with translation.override(language):
        for moment in (datetime(2025, 11, 25, 15, 0, tzinfo=UTC), datetime(2026, 5, 3, 4, 7, tzinfo=UTC)):
            for zone in ("America/New_York", "Asia/Kolkata", "Europe/London", "UTC"):
                local = timezone.localtime(moment, zoneinfo.ZoneInfo(zone))
                this_year = local.year == 2025
                assert in_zone(moment, zone) == dateformat.format(local, "D j M, H:i" if this_year else "D j M Y, H:i")
                abbreviation = zone_abbreviation(moment, zone)
                assert short_in_zone(moment, zone) == f"{dateformat.format(local, 'D H:i')} {abbreviation}"


def test_cadences_and_edits_are_worded_as_on_the_page():
    assert every(timedelta(hours=24)) == "every 24 h"
    assert every(timedelta(days=3)) == "every 3 days"
    assert change_value("24h", "update_interval") == "Every 24 h"
    assert change_value("4h", "update_interval") == "Every 4 h"
