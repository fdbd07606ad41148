# The operator console (/operator).
op-console = واجهة المفوَّض إليه
op-login-title = دخول المفوَّض إليه
op-email = البريد الإلكتروني
op-password = كلمة المرور
op-login-submit = الدخول
op-login-bad = البريد الإلكتروني أو كلمة المرور غير صحيحة.
op-login-throttled = محاولات كثيرة: أعد المحاولة بعد { $minutes } دقيقة.
op-queue-title = قائمة التذاكر
op-queue-order = الأكثر استعجالاً أولاً
op-queue-shown = { $count ->
    [zero] لا تذكرة في هذه الصفحة
    [one] تذكرة واحدة في هذه الصفحة
    [two] تذكرتان في هذه الصفحة
    [few] { $count } تذاكر في هذه الصفحة
    [many] { $count } تذكرةً في هذه الصفحة
   *[other] { $count } تذكرة في هذه الصفحة
}
op-queue-total = { $count ->
    [zero] لا تذكرة
    [one] تذكرة واحدة
    [two] تذكرتان
    [few] { $count } تذاكر
    [many] { $count } تذكرةً
   *[other] { $count } تذكرة
}
op-queue-empty = لا توجد تذكرة مطابقة.
op-col-reference = المرجع
op-col-service = الخدمة
op-col-status = الحالة
op-col-due = الأجل
op-col-created = تاريخ البلاغ
op-col-assignee = العون
op-filters = التصفية
op-filter-status = الحالة
op-filter-any-status = كل الحالات المفتوحة
op-filter-service = الخدمة
op-filter-any-service = كل الخدمات
op-filter-overdue = المتأخرة فقط
op-filter-mine = تذاكري فقط
op-filter-apply = تصفية
op-filter-clear = إلغاء التصفية
op-first-page = الصفحة الأولى
op-overdue = متأخرة
op-status-new = جديدة
op-status-unrouted = في انتظار التوجيه
op-status-acknowledged = تم الاطلاع
op-status-in_progress = قيد الإنجاز
op-status-paused = متوقفة مؤقتاً
op-status-resolved = تمت المعالجة
op-status-closed = مغلقة
op-status-rejected = أعيدت إلى الجماعة
op-status-duplicate = مكررة
op-status-reopened = أعيد فتحها
op-back = قائمة التذاكر
op-ticket = التذكرة
op-ticket-title = التذكرة { $reference }
op-field-status = الحالة
op-field-service = الخدمة
op-field-description = الوصف
op-field-created = تاريخ البلاغ
op-field-due = الأجل
op-field-supporters = المؤيدون
op-field-assignee = العون المكلف
op-field-address = العنوان
op-field-priority = الأولوية
op-priority-normal = عادية
op-priority-urgent = مستعجلة
op-priority-high = مرتفعة
op-priority-low = منخفضة
op-photos = الصور
op-no-photo = لا توجد صورة
op-photo-report = صورة البلاغ { $n } (تكبير)
op-photo-evidence = صورة التدخل { $n } (تكبير)
op-hidden = أخفاه الإشراف
op-nobody = لا أحد
op-map = الخريطة
op-map-label = خريطة: موقع البلاغ
op-zoom-in = تكبير الخريطة
op-zoom-out = تصغير الخريطة
op-open-maps = فتح في تطبيق الخرائط
op-open-osm = عرض على OpenStreetMap
op-coordinates = الإحداثيات
op-actions = الإجراءات
op-no-actions = لا يوجد إجراء ممكن في هذه الحالة.
op-action-acknowledge = تأكيد الاطلاع
op-action-start = بدء التدخل
op-action-pause = إيقاف مؤقت
op-action-resume = استئناف التدخل
op-action-resolve = وضع علامة: تمت المعالجة
op-action-reject_not_ours = ليست من اختصاصنا: إعادتها إلى الجماعة
op-pause-reason = سبب التوقف
op-reason-awaiting_resident = في انتظار المواطن
op-reason-third_party = في انتظار جهة أخرى
op-reason-force_majeure = قوة قاهرة
op-note-optional = توضيح (اختياري)
op-resolve-note = ما تم إنجازه
op-resolve-photo = صورة التدخل (اختياري)
op-reject-reason = لماذا لا تخصكم هذه التذكرة
op-assign = التكليف
op-assign-to = العون
op-assign-submit = تكليف
op-comment = تعليق
op-comment-text = تعليقك
op-comment-public = يراه المواطن
op-comment-submit = إضافة التعليق
op-history = السجل
op-error-note = صف ما تم إنجازه.
op-error-reason = اذكر سبباً.
op-error-stale = غيّر شخص آخر هذه التذكرة في الأثناء: هذه حالتها الآن.
op-error-illegal = لم يعد هذا الإجراء ممكناً في هذه الحالة.
op-error-photo = لم تُقبل هذه الصورة (JPEG أو PNG أو WebP، بحجم محدود): { $why }
op-error-agent = اختر عوناً نشطاً من شركتكم.
op-error-csrf = جاء هذا النموذج من جلسة أخرى: لم يتغير شيء. هذه التذكرة كما هي الآن.
op-error-comment = اكتب تعليقاً.
op-not-found = التذكرة غير موجودة
op-event-created = استلام البلاغ
op-event-routed = أُرسل إلى شركتكم
op-event-unrouted = في انتظار التوجيه
op-event-supported = أبلغ مواطن عن المشكلة نفسها
op-event-status_changed = { $from } ← { $to }
op-event-assigned = كُلِّف بها { $name }
op-event-unassigned = أُلغي التكليف
op-event-comment = تعليق
op-event-comment-internal = تعليق داخلي
op-event-moderated = تمت مراجعة الوصف
op-event-duplicate_merged = دُمج بلاغ مكرر
op-event-rated = تقييم المواطن: { $stars }/5
op-event-sla_warning = الأجل قريب
op-event-sla_breached = تجاوز الأجل
op-event-dispute_opened = فُتح اعتراض
op-event-dispute_decided = بُتّ في الاعتراض
op-event-photo_added = أضيفت صورة
op-event-photo_moderated = تمت مراجعة صورة
op-actor-resident = المواطن
op-actor-system = النظام
op-actor-unknown = مستخدم غير معروف
