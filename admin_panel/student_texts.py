"""What the Mini App and the student API say, in English and Arabic: error codes and page labels."""
from __future__ import annotations

from core.errors import DomainError, InvalidAmount

LANGUAGES = ("en", "ar")

ERRORS = {
    "en": {
        "AUTH_FAILED": "Please open this page from the CodeHub bot in Telegram.",
        "AUTH_EXPIRED": "This session is too old. Close the page and open it again from the bot.",
        "USER_BLOCKED": "Your account is blocked. Please contact support.",
        "NOT_FOUND": "Not found.",
        "NOT_OWNER": "Not found.",
        "INVALID_INPUT": "Please check what you entered.",
        "INVALID_AMOUNT": "Please enter a valid amount.",
        "INVALID_AMOUNT.EMPTY": "Please enter the amount you sent.",
        "INVALID_AMOUNT.NOT_A_NUMBER": "The amount must be a number, like 150 or 150.50.",
        "INVALID_AMOUNT.TOO_MANY_DECIMALS": "The amount can have at most 2 decimals.",
        "INVALID_AMOUNT.NOT_POSITIVE": "The amount must be more than zero.",
        "INVALID_AMOUNT.TOO_LARGE": "The amount is above the maximum of {maximum} EGP.",
        "INVALID_AMOUNT.TOO_SMALL": "The minimum top-up is {minimum} EGP.",
        "INVALID_WALLET_NUMBER": "Enter the Vodafone Cash number you sent from: 11 digits starting with 010, 011, 012 or 015.",
        "INVALID_TRANSACTION_NUMBER": "The transaction number is 6 to 20 digits, as in the SMS you got after sending. Leave it empty if you do not have it.",
        "INSUFFICIENT_FUNDS": "Not enough balance: you have {balance} EGP and need {required} EGP.",
        "TOO_MANY_PENDING_TOPUPS": "You already have {limit} top-up requests waiting. Please wait for a decision.",
        "DAILY_TOPUP_LIMIT": "You reached today's limit of {limit} top-up requests.",
        "PLATFORM_INACTIVE": "This platform is not available.",
        "ALREADY_ENROLLED": "You are already enrolled in this platform.",
        "ACCESS_DENIED": "Enroll in this platform to see its tasks.",
        "PRICE_CHANGED": "The price changed to {new} EGP. Please check and confirm again.",
        "MENTOR_UNAVAILABLE": "This mentor is not taking bookings now.",
        "INVALID_DURATION": "Please choose one of the offered durations.",
        "TOO_MANY_PENDING_BOOKINGS": "You already have {limit} bookings waiting for confirmation.",
        "INVALID_STATE": "This cannot be done in the booking's current status ({status}).",
        "INVALID_RATING": "The rating must be 1 to 5 stars.",
        "ALREADY_RATED": "You already rated this session.",
        "IDEMPOTENCY_KEY_MISSING": "Missing Idempotency-Key header.",
        "IDEMPOTENCY_KEY_REUSED": "This request key was already used for a different request.",
        "REQUEST_IN_FLIGHT": "Your previous request is still being processed. Please wait a moment.",
        "RATE_LIMITED": "Too many requests. Please wait a minute and try again.",
        "PAYMENTS_PAUSED": "Payments are paused for a moment on our side. Nothing was charged: please try again in a minute.",
        "MENTOR_REQUIRED": "Please choose a mentor.",
        "SERVER_ERROR": "Something went wrong on our side. Nothing was changed. Please try again.",
    },
    "ar": {
        "AUTH_FAILED": "من فضلك افتح هذه الصفحة من بوت CodeHub في تيليجرام.",
        "AUTH_EXPIRED": "انتهت صلاحية هذه الجلسة. أغلق الصفحة وافتحها من جديد من البوت.",
        "USER_BLOCKED": "حسابك محظور. من فضلك تواصل مع الدعم.",
        "NOT_FOUND": "غير موجود.",
        "NOT_OWNER": "غير موجود.",
        "INVALID_INPUT": "من فضلك راجع ما أدخلته.",
        "INVALID_AMOUNT": "من فضلك أدخل مبلغًا صحيحًا.",
        "INVALID_AMOUNT.EMPTY": "من فضلك أدخل المبلغ الذي أرسلته.",
        "INVALID_AMOUNT.NOT_A_NUMBER": "يجب أن يكون المبلغ رقمًا، مثل 150 أو 150.50.",
        "INVALID_AMOUNT.TOO_MANY_DECIMALS": "المبلغ يقبل رقمين عشريين على الأكثر.",
        "INVALID_AMOUNT.NOT_POSITIVE": "يجب أن يكون المبلغ أكبر من صفر.",
        "INVALID_AMOUNT.TOO_LARGE": "المبلغ أكبر من الحد الأقصى {maximum} جنيه.",
        "INVALID_AMOUNT.TOO_SMALL": "أقل مبلغ للشحن هو {minimum} جنيه.",
        "INVALID_WALLET_NUMBER": "أدخل رقم فودافون كاش الذي أرسلت منه: 11 رقمًا تبدأ بـ 010 أو 011 أو 012 أو 015.",
        "INVALID_TRANSACTION_NUMBER": "رقم العملية من 6 إلى 20 رقمًا، كما في الرسالة التي وصلتك بعد التحويل. اتركه فارغًا إن لم يكن معك.",
        "INSUFFICIENT_FUNDS": "رصيدك غير كافٍ: معك {balance} جنيه وتحتاج {required} جنيه.",
        "TOO_MANY_PENDING_TOPUPS": "لديك بالفعل {limit} طلبات شحن قيد المراجعة. من فضلك انتظر القرار.",
        "DAILY_TOPUP_LIMIT": "وصلت إلى الحد اليومي وهو {limit} طلبات شحن.",
        "PLATFORM_INACTIVE": "هذه المنصة غير متاحة.",
        "ALREADY_ENROLLED": "أنت مشترك بالفعل في هذه المنصة.",
        "ACCESS_DENIED": "اشترك في هذه المنصة لترى مهامها.",
        "PRICE_CHANGED": "تغير السعر إلى {new} جنيه. من فضلك راجع وأكد مرة أخرى.",
        "MENTOR_UNAVAILABLE": "هذا المرشد لا يستقبل حجوزات الآن.",
        "INVALID_DURATION": "من فضلك اختر إحدى المدد المتاحة.",
        "TOO_MANY_PENDING_BOOKINGS": "لديك بالفعل {limit} حجوزات في انتظار التأكيد.",
        "INVALID_STATE": "لا يمكن تنفيذ ذلك في حالة الحجز الحالية ({status}).",
        "INVALID_RATING": "التقييم يجب أن يكون من 1 إلى 5 نجوم.",
        "ALREADY_RATED": "لقد قيّمت هذه الجلسة بالفعل.",
        "IDEMPOTENCY_KEY_MISSING": "ترويسة Idempotency-Key مفقودة.",
        "IDEMPOTENCY_KEY_REUSED": "مفتاح الطلب هذا استُخدم من قبل لطلب مختلف.",
        "REQUEST_IN_FLIGHT": "طلبك السابق ما زال قيد التنفيذ. انتظر لحظة من فضلك.",
        "RATE_LIMITED": "طلبات كثيرة جدًا. انتظر دقيقة ثم حاول مرة أخرى.",
        "PAYMENTS_PAUSED": "المدفوعات متوقفة للحظات من جهتنا. لم يُخصم شيء: حاول مرة أخرى بعد دقيقة.",
        "MENTOR_REQUIRED": "من فضلك اختر مرشدًا.",
        "SERVER_ERROR": "حدث خطأ من جانبنا ولم يتغير شيء. حاول مرة أخرى من فضلك.",
    },
}


def language_of(value: str | None) -> str:
    return "ar" if (value or "").lower().startswith("ar") else "en"


def error_message(code: str, language: str, **details) -> str:
    texts = ERRORS[language if language in LANGUAGES else "en"]
    template = texts.get(code) or texts.get(code.split(".")[0]) or texts["INVALID_INPUT"]
    try:
        return template.format(**details)
    except (KeyError, IndexError, ValueError):
        return texts.get(code.split(".")[0], texts["INVALID_INPUT"]).split("{")[0].strip()


def domain_message(err: DomainError, language: str) -> str:
    code = f"{err.code}.{err.reason}" if isinstance(err, InvalidAmount) else err.code
    return error_message(code, language, **{k: str(v) for k, v in err.details.items()})


# Labels of the pages (rendered by Jinja and handed to the page scripts as a JSON data block).
UI = {
    "en": {
        "app_title": "CodeHub", "balance": "Balance", "wallet": "Wallet", "platforms": "Platforms",
        "mentorship": "Mentorship", "book": "Book a session", "top_up": "Top up",
        "topup_intro": "Send the money by Vodafone Cash to this number, then tell us the amount and the number you sent from. An admin checks it and your balance is credited.",
        "receiving_number": "Send to", "copy": "Copy", "copied": "Copied",
        "amount": "Amount (EGP)", "sender_number": "Your Vodafone Cash number", "note": "Note (optional)",
        "send_request": "Send request", "request_sent": "Request sent. We will tell you when it is approved.",
        "transaction_number": "Transaction number (optional)",
        "transaction_number_hint": "The number in the SMS you got after sending (رقم العملية), like 022768543034. It lets us find your transfer at once.",
        "topup_approved": "Your transfer was found: your balance is credited.",
        "pending_requests": "Pending requests", "none": "Nothing yet.", "history": "History",
        "receipt": "Receipt", "type": "Type", "status": "Status", "date": "Date", "reference": "Reference",
        "balance_after": "Balance after", "from_number": "From number", "admin_notes": "Admin notes",
        "decided_at": "Decided", "close": "Close", "more": "Load more", "loading": "Loading…",
        "price": "Price", "free": "Free", "enrolled": "Enrolled", "expired": "Expired", "expires": "Expires",
        "forever": "No expiry", "tasks": "Tasks", "enroll": "Enroll", "renew": "Renew",
        "confirm_enroll": "Confirm enrollment", "balance_now": "Balance now", "confirm": "Confirm",
        "cancel": "Cancel", "done": "Done", "mark_done": "Mark done", "progress": "Progress",
        "enrolled_ok": "Enrolled. Your tasks are open.", "mentors": "Mentors", "per_hour": "per hour",
        "unavailable": "Not available now", "durations": "Durations and prices", "minutes": "min",
        "my_bookings": "My bookings", "mentor": "Mentor", "duration": "Duration", "notes": "Notes for the mentor (optional)",
        "cost": "Cost", "booked_ok": "Booked and paid. An admin will confirm the time.",
        "cancel_booking": "Cancel booking", "cancelled_ok": "Cancelled. The cost was refunded.",
        "confirm_cancel": "Cancel this booking? The full cost is refunded.",
        "rate": "Rate", "rating": "Rating", "feedback": "Feedback", "send": "Send", "rated_ok": "Thank you for your feedback.",
        "session_date": "Session", "not_scheduled": "Time not set yet", "back": "Back",
        "open_in_telegram": "Open this page from the CodeHub bot in Telegram.",
        "PENDING": "Pending", "APPROVED": "Approved", "REJECTED": "Rejected", "CONFIRMED": "Confirmed",
        "COMPLETED": "Completed", "CANCELLED": "Cancelled",
        "SIGNUP_BONUS": "Welcome credit", "TOP_UP": "Top-up", "PLATFORM_PURCHASE": "Platform purchase",
        "MENTORSHIP_PAYMENT": "Mentorship payment", "REFUND": "Refund", "ADJUSTMENT": "Adjustment",
        "currency": "EGP",
    },
    "ar": {
        "app_title": "CodeHub", "balance": "الرصيد", "wallet": "المحفظة", "platforms": "المنصات",
        "mentorship": "الإرشاد", "book": "احجز جلسة", "top_up": "شحن الرصيد",
        "topup_intro": "أرسل المبلغ بفودافون كاش إلى هذا الرقم، ثم أخبرنا بالمبلغ والرقم الذي أرسلت منه. سيراجعه أحد المسؤولين ويُضاف إلى رصيدك.",
        "receiving_number": "أرسل إلى", "copy": "نسخ", "copied": "تم النسخ",
        "amount": "المبلغ (جنيه)", "sender_number": "رقم فودافون كاش الخاص بك", "note": "ملاحظة (اختياري)",
        "send_request": "إرسال الطلب", "request_sent": "تم إرسال الطلب. سنخبرك عند الموافقة عليه.",
        "transaction_number": "رقم العملية (اختياري)",
        "transaction_number_hint": "الرقم الموجود في الرسالة التي وصلتك بعد التحويل (رقم العملية)، مثل 022768543034. يساعدنا على إيجاد تحويلك فورًا.",
        "topup_approved": "وجدنا تحويلك وأُضيف المبلغ إلى رصيدك.",
        "pending_requests": "طلبات قيد المراجعة", "none": "لا شيء بعد.", "history": "السجل",
        "receipt": "إيصال", "type": "النوع", "status": "الحالة", "date": "التاريخ", "reference": "المرجع",
        "balance_after": "الرصيد بعدها", "from_number": "من رقم", "admin_notes": "ملاحظات المسؤول",
        "decided_at": "تاريخ القرار", "close": "إغلاق", "more": "عرض المزيد", "loading": "جارٍ التحميل…",
        "price": "السعر", "free": "مجاني", "enrolled": "مشترك", "expired": "منتهي", "expires": "ينتهي",
        "forever": "بدون انتهاء", "tasks": "المهام", "enroll": "اشترك", "renew": "جدّد",
        "confirm_enroll": "تأكيد الاشتراك", "balance_now": "الرصيد الآن", "confirm": "تأكيد",
        "cancel": "إلغاء", "done": "تم", "mark_done": "تم الإنجاز", "progress": "التقدم",
        "enrolled_ok": "تم الاشتراك. مهامك متاحة الآن.", "mentors": "المرشدون", "per_hour": "في الساعة",
        "unavailable": "غير متاح الآن", "durations": "المدد والأسعار", "minutes": "دقيقة",
        "my_bookings": "حجوزاتي", "mentor": "المرشد", "duration": "المدة", "notes": "ملاحظات للمرشد (اختياري)",
        "cost": "التكلفة", "booked_ok": "تم الحجز والدفع. سيؤكد أحد المسؤولين الموعد.",
        "cancel_booking": "إلغاء الحجز", "cancelled_ok": "تم الإلغاء واسترداد المبلغ كاملًا.",
        "confirm_cancel": "إلغاء هذا الحجز؟ سيُسترد المبلغ كاملًا.",
        "rate": "قيّم", "rating": "التقييم", "feedback": "رأيك", "send": "إرسال", "rated_ok": "شكرًا على تقييمك.",
        "session_date": "الموعد", "not_scheduled": "لم يُحدد الموعد بعد", "back": "رجوع",
        "open_in_telegram": "افتح هذه الصفحة من بوت CodeHub في تيليجرام.",
        "PENDING": "قيد المراجعة", "APPROVED": "مقبول", "REJECTED": "مرفوض", "CONFIRMED": "مؤكد",
        "COMPLETED": "مكتمل", "CANCELLED": "ملغي",
        "SIGNUP_BONUS": "رصيد الترحيب", "TOP_UP": "شحن", "PLATFORM_PURCHASE": "شراء منصة",
        "MENTORSHIP_PAYMENT": "دفع جلسة إرشاد", "REFUND": "استرداد", "ADJUSTMENT": "تسوية",
        "currency": "ج.م",
    },
}
