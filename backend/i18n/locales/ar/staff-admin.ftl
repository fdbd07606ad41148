# The staff back office's administration pages: statement, SLA, Open311 keys, users and
# operators' webhooks.

staff-nav-statement = الكشوفات
staff-nav-sla = آجال الخدمة
staff-nav-keys = مفاتيح Open311
staff-nav-users = الحسابات
staff-nav-webhooks = الويب هوك

## Open311 keys
staff-keys-title = مفاتيح واجهة Open311
staff-keys-lead = ترسل الأنظمة الخارجية (FixMyStreet والتطبيقات الشريكة) البلاغات بمفتاح. يُعرض المفتاح مرة واحدة؛ وإذا أُلغي توقف عن العمل فورًا.
staff-keys-done-revoked = تم إلغاء المفتاح.
staff-keys-issued = تم إنشاء مفتاح للعميل: { $name }
staff-keys-once = انسخه الآن وسلّمه للعميل: لن يُعرض مرة أخرى أبدًا.
staff-keys-secret = المفتاح
staff-keys-list = المفاتيح الموجودة
staff-keys-name = النظام العميل
staff-keys-name-help = مثلًا «FixMyStreet»: الاسم الذي ستعرف به هذا العميل.
staff-keys-created = تاريخ الإنشاء
staff-keys-revoked = أُلغي في
staff-keys-active = نشط
staff-keys-revoke = إلغاء
staff-keys-none = لا توجد مفاتيح بعد.
staff-keys-new = مفتاح جديد
staff-keys-issue = إنشاء المفتاح

## Users
staff-users-title = الحسابات
staff-users-lead = حسابات موظفي الجماعة ومستخدمي المشغلين. لا يمكن للحساب المعطّل تسجيل الدخول، وتنتهي جلساته فورًا.
staff-users-list = الحسابات الموجودة
staff-users-name = الاسم
staff-users-email = البريد الإلكتروني
staff-users-role = الدور
staff-users-organisation = الجهة
staff-users-active = نشط
staff-users-disabled = معطّل
staff-users-disable = تعطيل
staff-users-enable = إعادة التفعيل
staff-users-new = حساب جديد
staff-users-operator = المشغل
staff-users-operator-none = — (موظفو الجماعة)
staff-users-operator-help = لأدوار المشغلين فقط.
staff-users-password = كلمة مرور مؤقتة
staff-users-password-help = 12 حرفًا على الأقل. سلّمها للشخص ليغيّرها.
staff-users-create = إنشاء الحساب
staff-users-done-created = تم إنشاء الحساب.
staff-users-done-disabled = تم تعطيل الحساب.
staff-users-done-enabled = تمت إعادة تفعيل الحساب.
staff-role-staff-agent = عون الجماعة
staff-role-staff-analyst = محلل (قراءة فقط)
staff-role-staff-admin = مدير الجماعة
staff-role-operator-agent = عون المشغل
staff-role-operator-manager = مسؤول المشغل

## Statement
staff-statement-title = كشف الغرامات
staff-statement-lead = عقد واحد وشهر واحد: ما تم قياسه، وكل تجاوز ومبلغه، بعد الاعتراضات والسقف.
staff-statement-choose = اختر العقد والشهر
staff-statement-contract = العقد
staff-statement-month = الشهر
staff-statement-show = عرض الكشف
staff-statement-heading = كشف الغرامات
staff-statement-operator = المشغل
staff-statement-as-of = بتاريخ
staff-statement-tickets = البلاغات المقاسة
staff-statement-metric = الأجل المقاس
staff-statement-figures = الآجال المقاسة
staff-statement-measured = المقاسة
staff-statement-met = المحترمة
staff-statement-breached = المتجاوزة
staff-statement-pending = الجارية
staff-statement-within = ضمن الأجل
staff-statement-median = المدة الوسيطة
staff-statement-p90 = 9 من 10 في أقل من
staff-statement-nothing = لا توجد بلاغات لهذا العقد هذا الشهر.
staff-statement-lines = التجاوزات والغرامات
staff-statement-due = الأجل
staff-statement-done = أُنجز في
staff-statement-not-done = ليس بعد
staff-statement-hours-late = ساعات التأخير
staff-statement-penalty = الغرامة
staff-statement-dispute = الاعتراض
staff-statement-waived = ملغاة
staff-statement-no-lines = لا يوجد تجاوز.
staff-statement-uncapped = مجموع الغرامات قبل السقف
staff-statement-waived-total = الملغاة بعد الاعتراض
staff-statement-cap = سقف الشهر
staff-statement-no-cap = لا يوجد
staff-statement-total = المبلغ المستحق
staff-statement-amount = { $amount } { $currency ->
        [MAD] درهم
        [TND] دينار
       *[other] { $currency }
    }
staff-statement-print = طباعة
staff-statement-csv = تنزيل بصيغة CSV

## SLA
staff-sla-title = آجال الخدمة
staff-sla-lead = جدول عمل الجماعة، ولكل عقد الآجال والغرامات السارية. كل تعديل يُنشئ نسخة جديدة: البلاغات المستلمة تحتفظ بنسختها.
staff-sla-calendar = جدول العمل
staff-sla-day = اليوم
staff-sla-hours = ساعات العمل
staff-sla-closed = مغلق
staff-sla-day-monday = الاثنين
staff-sla-day-tuesday = الثلاثاء
staff-sla-day-wednesday = الأربعاء
staff-sla-day-thursday = الخميس
staff-sla-day-friday = الجمعة
staff-sla-day-saturday = السبت
staff-sla-day-sunday = الأحد
staff-sla-calendar-edit = تعديل الجدول
staff-sla-hours-help = مثلًا 08:30-16:30، أو 08:00-12:00, 14:00-18:00؛ فارغ: مغلق.
staff-sla-national = الأعياد الوطنية
staff-sla-national-morocco = أعياد المغرب
staff-sla-national-none = لا شيء
staff-sla-holidays = عطل أخرى
staff-sla-holidays-help = واحدة في كل سطر: التاريخ ثم الاسم، مثلًا 2026-12-24 موسم.
staff-sla-movable = الأعياد الدينية المعلنة
staff-sla-movable-help = واحد في كل سطر: eid_al_fitr أو eid_al_adha أو islamic_new_year أو mawlid، ثم اليوم الأول وعدد الأيام، مثلًا eid_al_fitr 2027-03-20 2.
staff-sla-overrides = أيام خاصة
staff-sla-overrides-help = واحد في كل سطر: التاريخ، الساعات (أو closed) وملاحظة، مثلًا 2027-02-18 09:00-15:00 توقيت رمضان.
staff-sla-calendar-save = حفظ الجدول
staff-sla-fallback = لا توجد سياسة لهذا العقد: التكفل خلال 24 ساعة والحل خلال 72 ساعة، طوال اليوم، بدون غرامة.
staff-sla-version = النسخة { $number }
staff-sla-from = سارية ابتداءً من
staff-sla-from-help = فارغ: من الآن.
staff-sla-in-force = سارية
staff-sla-since-beginning = منذ البداية
staff-sla-clock = احتساب الوقت
staff-sla-clock-always = طوال اليوم
staff-sla-clock-business-hours = ساعات العمل فقط
staff-sla-targets = الآجال
staff-sla-targets-help = واحد في كل سطر: acknowledge أو on_site أو resolve ثم المدة، ويمكن إضافة priority=urgent أو service=light_out؛ مثلًا resolve 8h priority=urgent.
staff-sla-penalty = الغرامات
staff-sla-per-breach = عن كل تجاوز
staff-sla-per-hour = عن كل ساعة تأخير بدأت
staff-sla-penalty-capped = بسقف { $amount } { $currency ->
        [MAD] درهم
        [TND] دينار
       *[other] { $currency }
    } في الشهر
staff-sla-penalty-uncapped = بدون سقف
staff-sla-new-version = نسخة جديدة من السياسة
staff-sla-reasons = التوقفات التي توقف الاحتساب
staff-sla-reason-awaiting-resident = في انتظار المواطن
staff-sla-reason-third-party = في انتظار جهة أخرى
staff-sla-reason-force-majeure = قوة قاهرة
staff-sla-per-breach-label = الغرامة عن كل تجاوز ({ $currency ->
        [MAD] درهم
        [TND] دينار
       *[other] { $currency }
    })
staff-sla-per-hour-label = عن كل ساعة تأخير ({ $currency ->
        [MAD] درهم
        [TND] دينار
       *[other] { $currency }
    })
staff-sla-cap-label = السقف الشهري ({ $currency ->
        [MAD] درهم
        [TND] دينار
       *[other] { $currency }
    }، فارغ: بدون)
staff-sla-thresholds = التنبيهات عند (% من الأجل)
staff-sla-add-version = إضافة النسخة
staff-sla-done-calendar = تم حفظ الجدول.
staff-sla-done-policy = تمت إضافة النسخة الجديدة.

## Operators' webhooks
staff-webhooks-title = الويب هوك الخاص بالمشغلين
staff-webhooks-lead = يستقبل كل مشغل تذاكره عبر الويب هوك. هنا: آخر تسليم، والإرسالات الفاشلة حاليًا، والرسائل المتخلى عنها التي يمكنك إعادة إرسالها.
staff-webhooks-done-retry = تتم إعادة إرسال الرسالة.
staff-webhooks-state-ok = يعمل
staff-webhooks-state-failing = إخفاقات جارية
staff-webhooks-state-dead = رسائل متخلى عنها
staff-webhooks-state-none = بدون ويب هوك
staff-webhooks-endpoint = العنوان
staff-webhooks-no-endpoint = لا يوجد webhook مُعدّ: يعمل المشغل من خلال لوحة التحكم.
staff-webhooks-last = آخر تسليم
staff-webhooks-never = أبدًا
staff-webhooks-retrying = محاولات جارية
staff-webhooks-dead = متخلى عنها
staff-webhooks-event = الرسالة
staff-webhooks-created = أُنشئت في
staff-webhooks-attempts = المحاولات
staff-webhooks-error = آخر خطأ
staff-webhooks-retry = إعادة الإرسال
staff-webhooks-none = لا يوجد مشغل له عقد في الجماعة.

## The report page's map
staff-map-label = الخريطة: موقع البلاغ
staff-zoom-in = تكبير
staff-zoom-out = تصغير
staff-open-maps = فتح في تطبيق الخرائط
staff-open-osm = عرض على OpenStreetMap
