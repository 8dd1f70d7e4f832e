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
    "sync_short": {"vi": "Đồng bộ DVCQG", "en": "Portal sync"},
    "sync_live": {
        "vi": "Tình trạng gửi Cổng DVCQG lúc {moment}, các cập nhật về hồ sơ của kỳ.",
        "en": "What has been sent to the national portal at {moment}, for the period's updates.",
    },
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
    "position": {"vi": "Sự kiện đã xử lý", "en": "Events processed"},
    "as_of": {
        "vi": "Số liệu tính đến hết ngày {day} (giờ Việt Nam)",
        "en": "Figures as of the end of {day} (Vietnam time)",
    },
    "as_of_partial": {
        "vi": "Kỳ này chưa kết thúc: số liệu tính đến hết ngày {day}, không tính trước "
        "những ngày chưa đến.",
        "en": "This period has not ended: the figures run to the end of {day}; days still to "
        "come are not counted in advance.",
    },
    "view": {"vi": "Cách tính theo đơn vị", "en": "Units"},
    "view_then": {
        "vi": "Theo đơn vị từng thời kỳ",
        "en": "As organised then",
    },
    "view_restated": {
        "vi": "Quy đổi theo đơn vị hiện nay",
        "en": "Restated onto today's units",
    },
    "restated_note": {
        "vi": "Số liệu của các đơn vị đã sáp nhập, chia tách được cộng vào đơn vị kế thừa "
        "theo tổ chức ngày {day}; đơn vị chia tách được phân bổ theo tỷ lệ, làm tròn theo "
        "phần dư lớn nhất.",
        "en": "The figures of merged and split units are added to their successors as "
        "organised on {day}; a split unit's are allocated by share, rounded by the largest "
        "remainder.",
    },
    "until": {"vi": "đến hết {day}", "en": "until {day}"},
    "carried_from": {
        "vi": "Gồm số liệu của các đơn vị trước đây",
        "en": "Includes the figures of the former units",
    },
    "carried_after": {
        "vi": "Từ ngày sắp xếp, gồm cả hồ sơ đang giải quyết của các đơn vị trước đây",
        "en": "From the reorganisation on, includes the dossiers in progress of the former units",
    },
    "whole": {"vi": "toàn bộ", "en": "all"},
    "not_begun": {
        "vi": "Chưa có ngày nào của kỳ này kết thúc: chưa có số liệu.",
        "en": "No day of this period has ended yet: there are no figures.",
    },
    "search_unit": {"vi": "Tìm đơn vị", "en": "Find a unit"},
    "search_procedure": {"vi": "Tìm thủ tục", "en": "Find a procedure"},
    "search": {"vi": "Tìm", "en": "Search"},
    "sort_by": {"vi": "Sắp xếp theo {column}", "en": "Sort by {column}"},
    "province_total": {"vi": "Toàn tỉnh", "en": "Whole province"},
    "shown_total": {"vi": "Tổng các đơn vị đang hiển thị", "en": "Total of the units shown"},
    "page_of": {"vi": "Trang {page}/{pages}", "en": "Page {page} of {pages}"},
    "previous": {"vi": "Trang trước", "en": "Previous page"},
    "next": {"vi": "Trang sau", "en": "Next page"},
    "units_below": {"vi": "Các đơn vị trực thuộc", "en": "Units below"},
    "with_below": {"vi": "Gồm cả các đơn vị trực thuộc", "en": "With the units below"},
    "alone": {"vi": "Riêng đơn vị", "en": "This unit alone"},
    "group_by": {"vi": "Gộp theo", "en": "Group by"},
    "by_day": {"vi": "Ngày", "en": "Day"},
    "by_month": {"vi": "Tháng", "en": "Month"},
    "by_quarter": {"vi": "Quý", "en": "Quarter"},
    "under": {"vi": "thuộc", "en": "under"},
    "lookup": {"vi": "Tra cứu hồ sơ", "en": "Look up a dossier"},
    "lookup_help": {
        "vi": "Nhập mã hồ sơ ghi trên giấy tiếp nhận, ví dụ 000.00.01.H12-210315-0001.",
        "en": "Enter the code on your receipt, e.g. 000.00.01.H12-210315-0001.",
    },
    "dossier_code": {"vi": "Mã hồ sơ", "en": "Dossier code"},
    "no_dossier": {
        "vi": "Không tìm thấy hồ sơ có mã {code}.",
        "en": "No dossier has the code {code}.",
    },
    "bad_code": {"vi": "Mã hồ sơ không đúng dạng", "en": "Not a dossier code"},
    "too_many": {
        "vi": "Bạn đã tra cứu nhiều lần liên tiếp; vui lòng thử lại sau ít phút.",
        "en": "Too many look-ups in a row; please try again in a few minutes.",
    },
    "receiving_unit": {"vi": "Nơi tiếp nhận", "en": "Received by"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "received_at": {"vi": "Ngày tiếp nhận", "en": "Received on"},
    "due_at": {"vi": "Ngày hẹn trả", "en": "Due on"},
    "resolved_at": {"vi": "Ngày giải quyết", "en": "Resolved on"},
    "standing": {"vi": "Tiến độ", "en": "Progress"},
    "steps": {"vi": "Quá trình xử lý", "en": "Steps"},
    "step": {"vi": "Bước", "en": "Step"},
    "when": {"vi": "Thời điểm", "en": "When"},
    "apology": {
        "vi": "Phiếu xin lỗi số {number} ngày {issued}, hẹn lại ngày {day}: {reason}",
        "en": "Apology slip no. {number} of {issued}, new date {day}: {reason}",
    },
    "lookup_as_of": {"vi": "Thông tin lúc {moment}", "en": "As of {moment}"},
    "no_personal": {
        "vi": "Trang này không hiển thị thông tin cá nhân của người nộp hồ sơ.",
        "en": "This page shows no personal data of the applicant.",
    },
    "late_lists": {"vi": "Hồ sơ trễ hạn, quá hạn", "en": "Late and overdue dossiers"},
    "resolved_late": {"vi": "Giải quyết trễ hạn trong kỳ", "en": "Resolved late in the period"},
    "overdue_now": {
        "vi": "Đang quá hạn (hạn trả đã qua, chưa giải quyết) lúc {moment}",
        "en": "Overdue now (due date passed, not resolved) at {moment}",
    },
    "days_late": {"vi": "Số ngày trễ", "en": "Days late"},
    "reason": {"vi": "Lý do ghi nhận", "en": "Reason on record"},
    "reason_supplement": {"vi": "Yêu cầu bổ sung {n} lần", "en": "Supplement requested {n}×"},
    "reason_stop": {"vi": "Tạm dừng xử lý {n} lần", "en": "Processing stopped {n}×"},
    "reason_none": {"vi": "Không có phiếu xin lỗi", "en": "No apology slip"},
    "none_listed": {"vi": "Không có hồ sơ nào.", "en": "None."},
    "scores": {"vi": "Chỉ số theo Quyết định 766", "en": "Decision 766 indicators"},
    "scores_intro": {
        "vi": "Quyết định 766/QĐ-TTg (2022) chấm điểm theo 5 nhóm, tổng 100 điểm. Công thức "
        "chính thức chưa được công bố cùng dữ liệu này, nên trang chỉ nêu các tỷ lệ mà số "
        "liệu của hệ thống tính được, kèm công thức, và nói rõ chỉ số nào chưa tính được.",
        "en": "Decision 766/QĐ-TTg (2022) scores five groups, 100 points in all. Its official "
        "formulas are not published with these data, so this page gives the rates the hub's "
        "data supports, each with its formula, and says which it cannot compute.",
    },
    "group_transparency": {"vi": "Công khai, minh bạch (18 điểm)", "en": "Transparency (18)"},
    "group_progress": {
        "vi": "Tiến độ, kết quả giải quyết (20 điểm)",
        "en": "Processing progress and results (20)",
    },
    "group_online": {
        "vi": "Dịch vụ trực tuyến, thanh toán trực tuyến (22 điểm)",
        "en": "Online services and payment (22)",
    },
    "group_satisfaction": {"vi": "Mức độ hài lòng (18 điểm)", "en": "Satisfaction (18)"},
    "group_digitisation": {"vi": "Số hóa hồ sơ (22 điểm)", "en": "Digitisation (22)"},
    "ind_transparency": {"vi": "Công khai thông tin", "en": "Information published"},
    "ind_on_time": {"vi": "Tỷ lệ giải quyết trước và đúng hạn", "en": "Resolved early or on time"},
    "ind_not_overdue": {
        "vi": "Tỷ lệ hồ sơ đang giải quyết trong hạn",
        "en": "Pending within deadline",
    },
    "ind_online_received": {"vi": "Tỷ lệ hồ sơ trực tuyến", "en": "Dossiers received online"},
    "ind_online_procedures": {"vi": "Tỷ lệ thủ tục trực tuyến", "en": "Procedures offered online"},
    "ind_online_payment": {"vi": "Thanh toán trực tuyến", "en": "Online payment"},
    "ind_satisfaction": {
        "vi": "Mức độ hài lòng trong giải quyết",
        "en": "Satisfaction in processing",
    },
    "ind_reuse": {"vi": "Tỷ lệ tái sử dụng kết quả, giấy tờ", "en": "Reuse of earlier results"},
    "ind_digitised_results": {"vi": "Số hóa kết quả giải quyết", "en": "Digitised results"},
    "formula": {"vi": "Công thức", "en": "Formula"},
    "not_computed": {"vi": "Chưa tính được", "en": "Not computed"},
    "error": {"vi": "Yêu cầu không hợp lệ", "en": "Invalid request"},
    "page_not_found": {"vi": "Không tìm thấy trang", "en": "Page not found"},
    "back_home": {"vi": "Về trang chủ", "en": "Back to the board"},
    "scrolls": {"vi": "Bảng số liệu, cuộn ngang được", "en": "Table of figures, scrolls sideways"},
    "more_columns": {
        "vi": "Trên màn hình hẹp chỉ hiện các cột chính; bảng đầy đủ có trong tệp CSV.",
        "en": "Narrow screens show the main columns; the CSV file has them all.",
    },
    "catalogue": {"vi": "Danh mục", "en": "Catalogue"},
    "no_catalogue": {"vi": "Chưa nạp danh mục", "en": "No catalogue loaded"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "level_table": {"vi": "Hồ sơ trực tuyến theo cấp", "en": "Online dossiers by level"},
    "procedures_total": {"vi": "Tổng số thủ tục", "en": "Procedures"},
    "level_3": {"vi": "Mức độ 3", "en": "Level 3"},
    "level_4": {"vi": "Mức độ 4", "en": "Level 4"},
    "integrated": {"vi": "Tích hợp Cổng DVCQG", "en": "Integrated with the national portal"},
    "no_data": {"vi": "Không có số liệu", "en": "No figures"},
    "bad_period": {
        "vi": "Kỳ không hợp lệ (ví dụ 2021, 2021H1, 2021Q2, 2021-03, 2021-03-01..2021-04-30)",
        "en": "Invalid period (e.g. 2021, 2021H1, 2021Q2, 2021-03, 2021-03-01..2021-04-30)",
    },
    "bad_value": {"vi": "Giá trị không hợp lệ", "en": "Invalid value"},
    "not_found": {"vi": "Không tìm thấy đơn vị", "en": "No such unit"},
}


#: A step's name in English (the Vietnamese is the event type's own, in
#: :data:`hub.domain.event_types.REGISTRY`).
STEPS_EN: Final[dict[str, str]] = {
    "dossier.registered": "Submitted online",
    "dossier.received": "Received",
    "dossier.refused": "Refused at reception",
    "dossier.transferred": "Passed on for processing",
    "dossier.supplement_requested": "Supplement requested",
    "dossier.supplement_received": "Supplement received",
    "dossier.financial_obligation_requested": "Fees and charges requested",
    "dossier.fee_paid": "Fees paid",
    "dossier.processing_stopped": "Processing stopped",
    "dossier.processing_resumed": "Processing resumed",
    "dossier.deadline_extended": "Apology slip, new return date",
    "dossier.resolved": "Resolved",
    "dossier.result_returned": "Result returned",
    "dossier.withdrawn": "Withdrawn by the applicant",
    "dossier.complaint_received": "Complaint received",
}

#: Where a dossier stands (hub.domain.standing.Standing's values).
STANDINGS: Final[dict[str, dict[str, str]]] = {
    "early": {"vi": "Giải quyết trước hạn", "en": "Resolved early"},
    "on_time": {"vi": "Giải quyết đúng hạn", "en": "Resolved on time"},
    "late": {"vi": "Giải quyết trễ hạn", "en": "Resolved late"},
    "pending": {"vi": "Đang giải quyết, còn trong hạn", "en": "In progress, within the deadline"},
    "overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "withdrawn": {"vi": "Đã rút hồ sơ", "en": "Withdrawn"},
    "refused": {"vi": "Từ chối tiếp nhận", "en": "Refused at reception"},
}

#: Dossier statuses (events.enums.DossierStatus's names, lower case).
STATUSES: Final[dict[str, dict[str, str]]] = {
    "registered": {"vi": "Đã nộp trực tuyến", "en": "Submitted online"},
    "received": {"vi": "Đã tiếp nhận", "en": "Received"},
    "not_received": {"vi": "Không tiếp nhận", "en": "Not received"},
    "processing": {"vi": "Đang xử lý", "en": "Being processed"},
    "supplement_requested": {"vi": "Chờ bổ sung hồ sơ", "en": "Waiting for a supplement"},
    "financial_obligation_requested": {
        "vi": "Chờ thực hiện nghĩa vụ tài chính",
        "en": "Waiting for fees to be paid",
    },
    "withdrawn": {"vi": "Đã rút", "en": "Withdrawn"},
    "stopped": {"vi": "Dừng xử lý", "en": "Stopped"},
    "finished": {"vi": "Đã có kết quả", "en": "Result ready"},
    "result_returned": {"vi": "Đã trả kết quả", "en": "Result returned"},
}


def words(language: str) -> dict[str, str]:
    """Every word in ``language`` (Vietnamese if unknown)."""
    chosen = language if language in LANGUAGES else "vi"
    return {key: texts[chosen] for key, texts in WORDS.items()}


#: The indicators' formulas and reasons in Vietnamese (projections.scores has them in
#: English): (formula, why it cannot be computed).
INDICATORS_VI: Final[dict[str, tuple[str, str | None]]] = {
    "transparency": (
        "—",
        "cần thông tin mỗi đơn vị công khai (thủ tục, phí, kết quả) và số liệu riêng của "
        "Cổng DVCQG; hệ thống không có các dữ liệu này",
    ),
    "on_time": ("(số giải quyết trước hạn + đúng hạn) / số đã giải quyết trong kỳ", None),
    "not_overdue": (
        "số đang giải quyết trong hạn / số đang giải quyết, cuối ngày cuối cùng được tính",
        None,
    ),
    "online_received": ("số hồ sơ tiếp nhận trực tuyến / số hồ sơ tiếp nhận trong kỳ", None),
    "online_procedures": (
        "số thủ tục trực tuyến (mức độ 3, 4) / số thủ tục trong danh mục",
        "chưa nạp danh mục",
    ),
    "online_payment": (
        "—",
        "sự kiện chỉ ghi đã nộp phí, không ghi hình thức: chưa phân biệt được thanh toán "
        "trực tuyến",
    ),
    "satisfaction": (
        "(số hồ sơ − số hồ sơ bị phản ánh về tiếp nhận, xử lý hoặc trễ hạn) / số hồ sơ",
        "phản ánh đã được ghi nhận (dossier.complaint_received) nhưng chưa có bảng số liệu "
        "đếm theo đơn vị và kỳ",
    ),
    "reuse": (
        "số hồ sơ tái sử dụng kết quả, giấy tờ của hồ sơ trước / số hồ sơ tiếp nhận trong kỳ",
        None,
    ),
    "digitised_results": (
        "—",
        "sự kiện không cho biết kết quả có được cấp dưới dạng bản điện tử hay không",
    ),
}
