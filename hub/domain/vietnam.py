"""Vietnam's time zone: every date the hub counts by is a date in Vietnam (UTC+7, no daylight
saving since 1975)."""

from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
