# المكتب الإداري لموظفي الجماعة (الفرز، صفحة البلاغ، الشباك، إشعارات الخدمة).
staff-nav-label = المكتب الإداري
staff-nav-triage = للفرز
staff-nav-intake = الشباك
staff-nav-notices = إشعارات الخدمة
staff-nav-dashboard = لوحة القيادة

staff-status-new = جديد
staff-status-unrouted = غير مُسنَد
staff-status-acknowledged = تم التكفل به
staff-status-in-progress = قيد المعالجة
staff-status-paused = متوقف مؤقتًا
staff-status-resolved = تمت المعالجة
staff-status-closed = مغلق
staff-status-rejected = أعاده المفوَّض إليه
staff-status-duplicate = مكرر
staff-status-reopened = أعيد فتحه

staff-channel-app = التطبيق
staff-channel-web = الموقع
staff-channel-open311 = Open311
staff-channel-phone = الهاتف
staff-channel-counter = الشباك

staff-priority-low = منخفضة
staff-priority-normal = عادية
staff-priority-high = مرتفعة
staff-priority-urgent = مستعجلة

staff-triage-title = بلاغات للفرز
staff-triage-lead = بلاغات لا يغطيها أي عقد وبلاغات أعادها المفوَّض إليهم، الأحدث أولًا.
staff-triage-caption = قائمة الفرز
staff-triage-empty = لا شيء للفرز حاليًا.
staff-pager-label = الصفحات
staff-first-page = الصفحة الأولى

staff-col-reference = المرجع
staff-col-service = الخدمة
staff-col-status = الحالة
staff-col-channel = القناة
staff-col-created = تاريخ البلاغ
staff-col-description = الوصف
staff-col-priority = الأولوية
staff-col-due = الأجل
staff-col-operator = المفوَّض إليه والعقد
staff-col-place = الموقع (خط العرض، خط الطول)
staff-col-supporters = المؤيدون

staff-candidate = { $reference } على بعد { $distance } م
staff-actor-unknown = حساب محذوف
staff-actor-resident = مواطن
staff-actor-system = بلاغ (تلقائي)

staff-event-created = استُلم البلاغ
staff-event-routed = أُسند إلى مفوَّض إليه
staff-event-unrouted = لا يغطي أي عقد هذا المكان
staff-event-supported = تأييد من مواطن
staff-event-status-changed = تغيّرت الحالة
staff-event-assigned = عُيّن عون
staff-event-comment = تعليق
staff-event-moderated = إشراف على الوصف
staff-event-duplicate-merged = دُمج بلاغ مكرر
staff-event-rated = تقييم المواطن
staff-event-sla-warning = تنبيه بقرب الأجل
staff-event-sla-breached = تجاوز الأجل
staff-event-dispute-opened = فُتح اعتراض
staff-event-dispute-decided = بُتّ في الاعتراض
staff-event-photo-added = أضيفت صورة
staff-event-photo-moderated = إشراف على صورة
staff-event-priority-changed = تغيّرت الأولوية

staff-done-route = أُسند البلاغ.
staff-done-duplicate = دُمج البلاغ مع الأصلي.
staff-done-dismiss = حُفظ البلاغ دون متابعة.
staff-done-priority = سُجّلت الأولوية.
staff-done-moderate = سُجّل الإشراف.
staff-done-comment = أضيف التعليق.
staff-done-notice = نُشر الإشعار.

staff-error-stale = عدّل شخص آخر هذا البلاغ في الأثناء: هذه حالته الآن. أعد المحاولة إن كان ذلك لا يزال مفيدًا.
staff-error-status = لم يعد هذا الإجراء ممكنًا في هذه الحالة.
staff-error-invalid = تحقق من الاستمارة: { $detail }
staff-error-other = تعذّر تسجيل الإجراء. أعد المحاولة.

staff-back-to-triage = → بلاغات للفرز
staff-report-title = بلاغ
staff-facts = باختصار
staff-description = الوصف
staff-description-hidden = مخفي عن العموم وعن المفوَّض إليهم (إشراف)
staff-moderate-reason = سبب الإشراف
staff-show-description = إظهار الوصف
staff-hide-description = إخفاء الوصف
staff-contact = معلومات الاتصال بالمواطن (لمعاودة الاتصال)
staff-contact-note = لا يراها إلا موظفو الجماعة، ولا يراها المفوَّض إليهم أبدًا.
staff-contact-name = الاسم
staff-contact-phone = الهاتف
staff-route = إسناد
staff-route-contract = العقد
staff-route-covering = عقود تشمل منطقتها هذا المكان
staff-route-other-zones = مناطق أخرى للخدمة نفسها
staff-note = ملاحظة (اختيارية)
staff-route-submit = إسناد إلى هذا العقد
staff-duplicate = مكرر
staff-duplicate-none = لا يوجد بلاغ مفتوح للخدمة نفسها بالقرب.
staff-duplicate-of = بلاغات للخدمة نفسها بالقرب
staff-duplicate-submit = اعتباره مكررًا لهذا البلاغ
staff-dismiss = حفظ دون متابعة
staff-dismiss-reason = السبب
staff-dismiss-submit = حفظ
staff-priority = الأولوية
staff-priority-submit = تسجيل الأولوية
staff-comment = تعليق
staff-comment-text = النص
staff-comment-public = يراه المواطن
staff-comment-submit = إضافة التعليق
staff-history = السجل

staff-intake-title = الشباك: تسجيل بلاغ
staff-intake-lead = لمواطن حضر إلى الشباك أو اتصل هاتفيًا: يسلك البلاغ المسار نفسه الذي تسلكه بلاغات التطبيق.
staff-intake-step-service = 1. الخدمة المعنية
staff-intake-continue = متابعة
staff-intake-step-details = 2. البلاغ
staff-intake-channel = استُلم عبر
staff-intake-where = المكان
staff-intake-district = الحي
staff-intake-district-none = — اختر —
staff-intake-coordinates-note = أو الإحداثيات الدقيقة إن كان المواطن يعرفها (وتُقدَّم على الحي).
staff-intake-lat = خط العرض
staff-intake-lon = خط الطول
staff-intake-submit = تسجيل وطباعة الوصل
staff-intake-error-place = حدّد الحي أو الإحداثيات.
staff-intake-error-outside = هذا المكان خارج الجماعة.

staff-receipt-title = وصل بلاغ
staff-receipt-reference = مرجعك
staff-receipt-by = سجّله
staff-receipt-next = احتفظ بهذا المرجع: يتيح لك تتبع البلاغ في الشباك أو عبر الهاتف. ستعاود الجماعة الاتصال بك على الرقم المقدَّم.
staff-receipt-sms = يُرسل المرجع وكل مرحلة من المتابعة برسالة قصيرة (يمكن للمواطن الرد بـ STOP) إلى الرقم:
staff-receipt-print = طباعة الوصل
staff-receipt-open = فتح البلاغ
staff-receipt-another = بلاغ جديد

staff-notices-title = إشعارات الخدمة
staff-notices-lead = انقطاعات مبرمجة، تأخر في الجمع، تحويلات: يُخبَر سكان المنطقة المعنية.
staff-notices-current = الإشعارات الجارية
staff-notices-none = لا يوجد إشعار جارٍ.
staff-notice-title = العنوان
staff-notice-kind = النوع
staff-notice-services = الخدمات المعنية
staff-notice-until = إلى غاية
staff-notice-actions = إجراءات
staff-notice-end = إنهاء
staff-notice-publish = نشر إشعار
staff-notice-duration = المدة
staff-notice-hours = { $hours ->
    [zero] { $hours } ساعة
    [one] ساعة واحدة
    [two] ساعتان
    [few] { $hours } ساعات
    [many] { $hours } ساعة
   *[other] { $hours } ساعة
}
staff-notice-area = المنطقة المعنية
staff-notice-map-help = انقر على الخريطة لوضع رؤوس المنطقة (ثلاثة على الأقل)، أو اختر حيًا أدناه: المنطقة المرسومة هي المعتمدة.
staff-notice-map-label = خريطة الجماعة: انقر لرسم منطقة الإشعار
staff-notice-clear = مسح المنطقة المرسومة
staff-notice-points = الرؤوس الموضوعة:
staff-notice-district = أو حي كامل
staff-notice-texts = نص الإشعار
staff-notice-title-fr = العنوان بالفرنسية
staff-notice-body-fr = النص بالفرنسية
staff-notice-title-ar = العنوان بالعربية
staff-notice-body-ar = النص بالعربية
staff-notice-submit = نشر الإشعار
staff-notice-error-area = ارسم المنطقة على الخريطة (ثلاثة رؤوس على الأقل) أو اختر حيًا.
staff-notice-kind-planned-interruption = انقطاع مبرمج
staff-notice-kind-collection-delay = تأخر في الجمع
staff-notice-kind-diversion = تحويل
staff-notice-kind-other = أخرى

staff-photos = الصور
staff-photos-none = لا توجد صورة.
staff-photo-alt = صورة البلاغ
staff-photo-approved = قابلة للنشر
staff-photo-pending = غير منشورة (في انتظار المصادقة)
staff-photo-approve = نشر الصورة
staff-photo-hide = سحب الصورة
staff-photo-by-resident = التقطها المواطن
staff-photo-by-operator = التقطها المفوَّض إليه
staff-photo-by-staff = التقطتها الجماعة
staff-done-photo = سُجّل الإشراف على الصورة.

staff-nav-disputes = الاعتراضات
staff-disputes-title = اعتراضات المفوَّض إليهم
staff-disputes-lead = يعترض مفوَّض إليه على تجاوز أجل: القبول يلغي الغرامة والرفض يبقيها. الاعتراضات المفتوحة أولًا.
staff-disputes-none = لا يوجد اعتراض.
staff-dispute-metric = الأجل المعترض عليه
staff-dispute-reason = سبب المفوَّض إليه
staff-dispute-opened = فُتح في
staff-dispute-accept = قبول
staff-dispute-reject = رفض
staff-dispute-metric-acknowledge = التكفل
staff-dispute-metric-resolve = المعالجة
staff-dispute-metric-on-site = الوصول إلى المكان
staff-dispute-state-open = مفتوح
staff-dispute-state-accepted = مقبول (أُلغيت الغرامة)
staff-dispute-state-rejected = مرفوض
