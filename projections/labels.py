"""The figure files' column headings in Vietnamese and English, for people who open them in
a spreadsheet (``?format=csv&lang=vi``); without a language the headings are the columns'
names, which programs read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

LABELS: Final[dict[str, tuple[str, str]]] = {
    "code": ("Mã", "Code"),
    "name": ("Tên", "Name"),
    "level": ("Cấp", "Level"),
    "label": ("Kỳ", "Period"),
    "rank": ("Hạng", "Rank"),
    "part": ("Tử số", "Numerator"),
    "whole": ("Mẫu số", "Denominator"),
    "percent": ("Tỷ lệ (%)", "Rate (%)"),
    "received": ("Tiếp nhận", "Received"),
    "received_walk_in": ("Tiếp nhận trực tiếp", "Received at the desk"),
    "received_online": ("Tiếp nhận trực tuyến", "Received online"),
    "received_post": ("Tiếp nhận qua bưu chính", "Received by post"),
    "online_rate": ("Tỷ lệ trực tuyến (%)", "Online rate (%)"),
    "online_rate_pct": ("Tỷ lệ trực tuyến (%)", "Online rate (%)"),
    "carried_over": ("Kỳ trước chuyển qua", "Carried over"),
    "resolved": ("Đã giải quyết", "Resolved"),
    "resolved_early": ("Giải quyết trước hạn", "Resolved early"),
    "resolved_on_time": ("Giải quyết đúng hạn", "Resolved on time"),
    "resolved_late": ("Giải quyết trễ hạn", "Resolved late"),
    "early_or_on_time_rate": ("Tỷ lệ trước và đúng hạn (%)", "Early or on time (%)"),
    "early_or_on_time_pct": ("Tỷ lệ trước và đúng hạn (%)", "Early or on time (%)"),
    "late_rate": ("Tỷ lệ trễ hạn (%)", "Late (%)"),
    "late_pct": ("Tỷ lệ trễ hạn (%)", "Late (%)"),
    "withdrawn": ("Rút hồ sơ", "Withdrawn"),
    "refused": ("Từ chối tiếp nhận", "Refused"),
    "supplements_requested": ("Yêu cầu bổ sung", "Supplements requested"),
    "returned_direct": ("Trả kết quả trực tiếp", "Returned at the desk"),
    "returned_post": ("Trả kết quả qua bưu chính", "Returned by post"),
    "returned_online": ("Trả kết quả trực tuyến", "Returned online"),
    "pending": ("Đang giải quyết", "Pending"),
    "pending_within_deadline": ("Đang giải quyết trong hạn", "Pending within deadline"),
    "within_deadline_rate": ("Tỷ lệ trong hạn (%)", "Within deadline (%)"),
    "within_deadline_pct": ("Tỷ lệ trong hạn (%)", "Within deadline (%)"),
    "overdue": ("Quá hạn", "Overdue"),
    "overdue_rate": ("Tỷ lệ quá hạn (%)", "Overdue (%)"),
    "overdue_pct": ("Tỷ lệ quá hạn (%)", "Overdue (%)"),
    "reusing": ("Tái sử dụng kết quả, giấy tờ", "Reusing earlier results"),
    "reuse_pct": ("Tỷ lệ tái sử dụng (%)", "Reuse rate (%)"),
    "lookups_granted": ("Tra cứu được trả lời", "Look-ups answered"),
    "lookups_refused": ("Tra cứu bị từ chối", "Look-ups refused"),
}


def headings(columns: Sequence[str], lang: str | None) -> list[str]:
    """``columns`` in ``lang`` (vi or en); as they are without one."""
    if lang is None:
        return list(columns)
    index = 0 if lang == "vi" else 1
    return [LABELS[column][index] if column in LABELS else column for column in columns]
