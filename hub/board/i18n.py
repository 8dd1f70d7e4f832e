"""The board's words in Vietnamese (the default) and English."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("vi", "en")

WORDS: Final[dict[str, dict[str, str]]] = {
    "title": {"vi": "Bảng công khai tiến độ giải quyết hồ sơ", "en": "Dossier progress board"},
    "skip": {"vi": "Bỏ qua đến nội dung", "en": "Skip to content"},
    "board": {"vi": "Bảng tổng hợp", "en": "Board"},
    "province_table": {"vi": "Bảng 6 tháng của tỉnh", "en": "Province half-year table"},
    "rankings": {"vi": "Xếp hạng", "en": "Rankings"},
    "period": {"vi": "Kỳ", "en": "Period"},
    "level": {"vi": "Cấp", "en": "Level"},
    "all_levels": {"vi": "Tất cả các cấp", "en": "All levels"},
    "province": {"vi": "Cấp tỉnh", "en": "Province"},
    "district": {"vi": "Cấp huyện", "en": "District"},
    "commune": {"vi": "Cấp xã", "en": "Commune"},
    "unknown": {"vi": "Chưa rõ", "en": "Unknown"},
    "show": {"vi": "Xem", "en": "Show"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "received": {"vi": "Tiếp nhận", "en": "Received"},
    "walk_in": {"vi": "Trực tiếp", "en": "Walk-in"},
    "online": {"vi": "Trực tuyến", "en": "Online"},
    "post": {"vi": "Bưu chính", "en": "Post"},
    "online_rate": {"vi": "Tỷ lệ trực tuyến", "en": "Online rate"},
    "resolved": {"vi": "Đã giải quyết", "en": "Resolved"},
    "early": {"vi": "Trước hạn", "en": "Early"},
    "on_time": {"vi": "Đúng hạn", "en": "On time"},
    "early_on_time": {"vi": "Trước và đúng hạn", "en": "Early or on time"},
    "late": {"vi": "Trễ hạn", "en": "Late"},
    "pending_within": {"vi": "Đang giải quyết trong hạn", "en": "Pending within deadline"},
    "overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "carried_over": {"vi": "Kỳ trước chuyển qua", "en": "Carried over"},
    "withdrawn": {"vi": "Rút hồ sơ", "en": "Withdrawn"},
    "refused": {"vi": "Từ chối tiếp nhận", "en": "Refused"},
    "returned": {"vi": "Trả kết quả", "en": "Results returned"},
    "online_dossiers": {"vi": "Hồ sơ trực tuyến", "en": "Online dossiers"},
    "total": {"vi": "Tổng", "en": "Total"},
    "rank": {"vi": "Hạng", "en": "Rank"},
    "rate": {"vi": "Tỷ lệ", "en": "Rate"},
    "of": {"vi": "trên", "en": "of"},
    "by_on_time": {"vi": "Theo tỷ lệ đúng hạn", "en": "By on-time rate"},
    "by_online": {"vi": "Theo tỷ lệ trực tuyến", "en": "By online rate"},
    "too_few": {
        "vi": "Chưa xếp hạng (dưới {n} hồ sơ)",
        "en": "Not ranked (fewer than {n} dossiers)",
    },
    "ties": {"vi": "Đơn vị cùng tỷ lệ cùng hạng.", "en": "Units with equal rates share a rank."},
    "daily": {"vi": "Theo ngày", "en": "Day by day"},
    "procedures": {"vi": "Thủ tục", "en": "Procedures"},
    "procedure": {"vi": "Thủ tục", "en": "Procedure"},
    "day": {"vi": "Ngày", "en": "Day"},
    "chart_received": {"vi": "Hồ sơ tiếp nhận theo kênh", "en": "Dossiers received by channel"},
    "chart_resolved": {"vi": "Hồ sơ đã giải quyết", "en": "Dossiers resolved"},
    "chart_pending": {"vi": "Hồ sơ đang giải quyết cuối ngày", "en": "Pending at day end"},
    "data_as_table": {"vi": "Số liệu của biểu đồ", "en": "The chart's data"},
    "downloads": {"vi": "Tải số liệu", "en": "Download the data"},
    "sync": {"vi": "Đồng bộ Cổng DVCQG", "en": "National portal sync"},
    "synced": {"vi": "Đã đồng bộ", "en": "Synced"},
    "sync_pending": {"vi": "Đang chờ", "en": "Pending"},
    "sync_parked": {"vi": "Bị từ chối, tạm dừng", "en": "Refused, parked"},
    "oldest_pending": {"vi": "Chờ lâu nhất", "en": "Oldest pending"},
    "no_sync": {
        "vi": "Chưa có cập nhật nào gửi Cổng DVCQG trong kỳ",
        "en": "No update for the national portal in this period",
    },
    "integrated_dossiers": {
        "vi": "Hồ sơ thuộc thủ tục tích hợp",
        "en": "Dossiers of integrated procedures",
    },
    "position": {"vi": "Số liệu đến sự kiện thứ", "en": "Figures up to event"},
    "catalogue": {"vi": "Danh mục", "en": "Catalogue"},
    "no_catalogue": {"vi": "Chưa nạp danh mục", "en": "No catalogue loaded"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "level_table": {"vi": "Hồ sơ trực tuyến theo cấp", "en": "Online dossiers by level"},
    "procedures_total": {"vi": "Tổng số thủ tục", "en": "Procedures"},
    "level_3": {"vi": "Mức độ 3", "en": "Level 3"},
    "level_4": {"vi": "Mức độ 4", "en": "Level 4"},
    "integrated": {"vi": "Tích hợp Cổng DVCQG", "en": "Integrated with the national portal"},
    "no_data": {"vi": "Không có số liệu", "en": "No figures"},
    "bad_period": {"vi": "Kỳ không hợp lệ", "en": "Invalid period"},
    "not_found": {"vi": "Không tìm thấy đơn vị", "en": "No such unit"},
}


def words(language: str) -> dict[str, str]:
    """Every word in ``language`` (Vietnamese if unknown)."""
    chosen = language if language in LANGUAGES else "vi"
    return {key: texts[chosen] for key, texts in WORDS.items()}
