"""Build time: SOURCE_DATE_EPOCH when set, else the issue's own date — never the wall clock."""

from __future__ import annotations

import datetime as dt
import os

EPOCH_FLOOR = dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc)  # zip cannot store earlier dates


def build_time(date: dt.date | None) -> dt.datetime:
    """Return the timestamp to stamp on outputs, in UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return max(dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc), EPOCH_FLOOR)
        except (ValueError, OverflowError, OSError):
            pass
    if date is not None:
        return max(dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc), EPOCH_FLOOR)
    return EPOCH_FLOOR
