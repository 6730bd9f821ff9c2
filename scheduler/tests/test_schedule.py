"""The schedule JSON and its next fire time (scheduler/schedule.py): each repeat type at fixed dates,
DST in Europe/Berlin, and property checks over many random schedules against a brute-force walk."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.schedule import MAX_MS, ScheduleError, fires_between, next_fire, parse

BERLIN = ZoneInfo("Europe/Berlin")


def ms(*args, zone=BERLIN) -> int:
    return int(datetime(*args, tzinfo=zone).timestamp() * 1000)


def local(at: int, zone=BERLIN) -> datetime:
    return datetime.fromtimestamp(at / 1000, zone)


def spec(start, repeat=None, timezone="Europe/Berlin"):
    return parse({"timezone": timezone, "startTime": start, "repeat": repeat})


def walk(s, after, n):
    out, at = [], after
    for _ in range(n):
        at = next_fire(s, at)
        if at is None:
            break
        out.append(at)
    return out


def test_it_fires_once_at_the_start_and_never_again():
    s = spec(ms(2025, 6, 1, 12, 0))
    assert next_fire(s, ms(2025, 1, 1)) == ms(2025, 6, 1, 12, 0)
    assert next_fire(s, ms(2025, 6, 1, 12, 0) - 1) == ms(2025, 6, 1, 12, 0)
    assert next_fire(s, ms(2025, 6, 1, 12, 0)) is None


def test_daily_keeps_the_wall_time_across_both_dst_changes_in_berlin():
    s = spec(ms(2025, 3, 28, 8, 0), {"type": "DAILY", "endsOn": 0})
    fires = walk(s, 0, 5)
    assert [local(f).strftime("%m-%d %H:%M %z") for f in fires] == [
        "03-28 08:00 +0100", "03-29 08:00 +0100", "03-30 08:00 +0200", "03-31 08:00 +0200", "04-01 08:00 +0200"]
    assert fires[2] - fires[1] == 23 * 3_600_000  # the short day
    autumn = walk(spec(ms(2025, 10, 25, 8, 0), {"type": "DAILY"}), 0, 3)
    assert autumn[1] - autumn[0] == 25 * 3_600_000 and local(autumn[2]).hour == 8


def test_a_wall_time_the_spring_gap_skips_fires_past_the_gap_and_a_repeated_hour_fires_once():
    s = spec(ms(2025, 3, 29, 2, 30), {"type": "DAILY"})
    gap = walk(s, 0, 3)
    assert [local(f).strftime("%d %H:%M") for f in gap] == ["29 02:30", "30 03:30", "31 02:30"]
    s = spec(ms(2025, 10, 25, 2, 30), {"type": "DAILY"})
    twice = walk(s, 0, 3)
    assert [local(f).strftime("%d %H:%M %z") for f in twice] == ["25 02:30 +0200", "26 02:30 +0200",
                                                                "27 02:30 +0100"]


def test_weekly_fires_on_the_listed_days_where_0_is_sunday():
    start = ms(2025, 6, 2, 9, 0)  # a Monday
    s = spec(start, {"type": "WEEKLY", "repeatOn": [0, 3, 5]})  # Sunday, Wednesday, Friday
    fires = walk(s, 0, 6)
    assert [local(f).strftime("%a %d") for f in fires] == ["Wed 04", "Fri 06", "Sun 08", "Wed 11", "Fri 13",
                                                          "Sun 15"]
    assert all(local(f).hour == 9 for f in fires)
    listed = spec(start, {"type": "WEEKLY", "repeatOn": [1]})
    assert walk(listed, 0, 2) == [start, start + 7 * 86_400_000]  # the start day counts when it is listed
    unlisted = spec(start, {"type": "WEEKLY", "repeatOn": []})  # none listed: the start's weekday
    assert walk(unlisted, 0, 2) == [start, start + 7 * 86_400_000]


def test_monthly_on_the_31st_skips_the_months_without_one():
    s = spec(ms(2025, 1, 31, 18, 0), {"type": "MONTHLY"})
    fires = walk(s, 0, 7)
    assert [(local(f).month, local(f).day, local(f).hour) for f in fires] == [
        (1, 31, 18), (3, 31, 18), (5, 31, 18), (7, 31, 18), (8, 31, 18), (10, 31, 18), (12, 31, 18)]


def test_yearly_on_the_29th_of_february_fires_in_leap_years_only():
    s = spec(ms(2024, 2, 29, 6, 0), {"type": "YEARLY"})
    assert [local(f).year for f in walk(s, 0, 3)] == [2024, 2028, 2032]
    plain = walk(spec(ms(2025, 7, 14, 6, 0), {"type": "YEARLY"}), 0, 3)
    assert [local(f).strftime("%Y-%m-%d %H") for f in plain] == ["2025-07-14 06", "2026-07-14 06", "2027-07-14 06"]


@pytest.mark.parametrize("unit, factor", [("SECONDS", 1000), ("MINUTES", 60_000), ("HOURS", 3_600_000)])
def test_timer_counts_intervals_from_the_start(unit, factor):
    start = ms(2025, 3, 30, 1, 0)  # across the spring change: absolute time, no wall clock
    s = spec(start, {"type": "TIMER", "repeatInterval": 7, "timeUnit": unit})
    assert next_fire(s, 0) == start
    assert next_fire(s, start) == start + 7 * factor
    assert next_fire(s, start + 7 * factor * 100 + 1) == start + 7 * factor * 101


def test_ends_on_is_the_last_instant_a_repeat_fires_at():
    start = ms(2025, 5, 1, 10, 0)
    s = spec(start, {"type": "DAILY", "endsOn": start + 2 * 86_400_000})
    assert walk(s, 0, 10) == [start, start + 86_400_000, start + 2 * 86_400_000]
    timer = spec(start, {"type": "TIMER", "repeatInterval": 1, "timeUnit": "HOURS", "endsOn": start + 5_400_000})
    assert walk(timer, 0, 10) == [start, start + 3_600_000]


def test_fires_between_lists_the_calendar_view():
    s = spec(ms(2025, 5, 1, 10, 0), {"type": "DAILY"})
    assert len(fires_between(s, ms(2025, 5, 10), ms(2025, 5, 20))) == 10
    assert len(fires_between(s, 0, MAX_MS, limit=50)) == 50


def test_it_stops_at_the_end_of_year_9999():
    s = spec(MAX_MS - 1000, {"type": "DAILY"}, timezone="UTC")
    assert next_fire(s, 0) == MAX_MS - 1000 and next_fire(s, MAX_MS - 1000) is None
    # past year 9999 on the local calendar (UTC+14): nothing to fire, and no error
    assert next_fire(spec(MAX_MS - 1000, {"type": "DAILY"}, timezone="Pacific/Kiritimati"), 0) is None


# --- properties over many random schedules -----------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC", "America/Santiago"]


def _brute(s, after: int) -> int | None:
    """The first fire after ``after`` by walking every day from the start (what next_fire must equal)."""
    zone = ZoneInfo(s.timezone)
    first = local(s.start_ms, zone)
    wall = first.time()
    day = first.date()
    weekdays = set(s.repeat_on) or {(day.weekday() + 1) % 7}
    for _ in range(3 * 366 + 10):
        ok = {"DAILY": True, "WEEKLY": (day.weekday() + 1) % 7 in weekdays,
              "MONTHLY": day.day == first.day, "YEARLY": (day.month, day.day) == (first.month, first.day)}[s.repeat]
        if ok:
            at = int(datetime.combine(day, wall, tzinfo=zone).timestamp() * 1000)
            if at > after and at >= s.start_ms:
                return at if not (s.ends_on and at > s.ends_on) else None
        day += timedelta(days=1)
    return None


def test_next_fire_matches_a_day_by_day_walk_for_many_random_schedules():
    rng = random.Random(20250330)
    checked = 0
    for _ in range(400):
        zone = rng.choice(ZONES)
        start_day = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))
        start = int(datetime(start_day.year, start_day.month, start_day.day, rng.randrange(24), rng.choice([0, 30]),
                             tzinfo=ZoneInfo(zone)).timestamp() * 1000)
        kind = rng.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
        repeat = {"type": kind, "endsOn": rng.choice([0, start + rng.randrange(1, 400) * 86_400_000])}
        if kind == "WEEKLY":
            repeat["repeatOn"] = rng.sample(range(7), rng.randrange(1, 8))
        s = parse({"timezone": zone, "startTime": start, "repeat": repeat})
        for _ in range(3):
            after = start + rng.randrange(-5 * 86_400_000, 380 * 86_400_000)
            got = next_fire(s, after)
            if kind == "YEARLY" and got is None and _brute(s, after) is None:
                continue
            if got is not None and got - after > 3 * 366 * 86_400_000:
                continue  # beyond the brute walk's horizon
            assert got == _brute(s, after), (zone, repeat, start, after)
            assert got is None or got > after
            checked += 1
    assert checked > 1000


def test_successive_fires_strictly_increase_and_keep_the_wall_time():
    rng = random.Random(7)
    for _ in range(100):
        zone = rng.choice(ZONES)
        start = ms(2025, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24), 15, zone=ZoneInfo(zone))
        s = spec(start, {"type": rng.choice(["DAILY", "WEEKLY", "MONTHLY"]), "repeatOn": [1, 4]}, timezone=zone)
        fires = walk(s, 0, 40)
        assert fires == sorted(set(fires)) and len(fires) == 40
        wall = local(start, ZoneInfo(zone)).time()
        # a wall time a gap skipped lands past it; all others keep it exactly
        assert sum(local(f, ZoneInfo(zone)).time() == wall for f in fires) >= 38


# --- what parse refuses ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, words", [
    (None, "JSON object"),
    ([], "JSON object"),
    ({"startTime": 1}, "IANA time zone"),
    ({"timezone": "Mars/Olympus", "startTime": 1}, "Unknown time zone"),
    ({"timezone": "../../etc/passwd", "startTime": 1}, "Unknown time zone"),
    ({"timezone": "Europe/Berlin\x00", "startTime": 1}, "IANA time zone"),
    ({"timezone": "Europe/Berlin"}, "startTime"),
    ({"timezone": "Europe/Berlin", "startTime": "1"}, "integer"),
    ({"timezone": "Europe/Berlin", "startTime": 1.5}, "integer"),
    ({"timezone": "Europe/Berlin", "startTime": True}, "integer"),
    ({"timezone": "Europe/Berlin", "startTime": 10**30}, "between"),
    ({"timezone": "Europe/Berlin", "startTime": -1}, "between"),
    ({"timezone": "Europe/Berlin", "startTime": 1, "repeat": "DAILY"}, "JSON object"),
    ({"timezone": "Europe/Berlin", "startTime": 1, "repeat": {"type": "HOURLY"}}, "repeat.type"),
    ({"timezone": "Europe/Berlin", "startTime": 1, "repeat": {"type": "DAILY", "endsOn": 10**20}}, "between"),
    ({"timezone": "Europe/Berlin", "startTime": 1, "repeat": {"type": "WEEKLY", "repeatOn": [7]}}, "repeatOn"),
    ({"timezone": "Europe/Berlin", "startTime": 1, "repeat": {"type": "WEEKLY", "repeatOn": "1"}}, "repeatOn"),
    ({"timezone": "Europe/Berlin", "startTime": 1, "repeat": {"type": "TIMER", "timeUnit": "HOURS"}}, "repeatInterval"),
    ({"timezone": "Europe/Berlin", "startTime": 1,
      "repeat": {"type": "TIMER", "timeUnit": "HOURS", "repeatInterval": 0}}, "repeatInterval"),
    ({"timezone": "Europe/Berlin", "startTime": 1,
      "repeat": {"type": "TIMER", "timeUnit": "SECONDS", "repeatInterval": 10**20}}, "repeatInterval"),
    ({"timezone": "Europe/Berlin", "startTime": 1,
      "repeat": {"type": "TIMER", "timeUnit": "DAYS", "repeatInterval": 1}}, "timeUnit"),
])
def test_it_refuses_schedules_it_cannot_run(raw, words):
    with pytest.raises(ScheduleError, match=words.replace(".", r"\.")):
        parse(raw)
