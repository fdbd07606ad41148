# Screens in the commune's reception areas (issue 21).
screen-title = معلومات الجماعة
screen-notices-heading = إشعارات الخدمات بالقرب من هنا
screen-urgent-heading = إشعار عاجل
screen-no-notices = لا يوجد حاليا أي إشعار خدمة بالقرب من هنا.
screen-notice-until = إلى غاية { $time }
screen-services-heading = حالة الخدمات
screen-services-period = الأرقام المنشورة عن { $period }
screen-services-none = لم تُنشر أي أرقام بعد.
screen-district = القطاع { $district }
screen-outside-zones = خارج القطاعات
screen-new = { $count ->
    [zero] لم يصل أي بلاغ
    [one] وصل بلاغ واحد
    [two] وصل بلاغان
    [few] وصلت { $count } بلاغات
    [many] وصل { $count } بلاغًا
   *[other] وصل { $count } بلاغ
}
screen-resolved = { $count ->
    [zero] لم يُحل أي بلاغ
    [one] حُل بلاغ واحد
    [two] حُل بلاغان
    [few] حُلت { $count } بلاغات
    [many] حُل { $count } بلاغًا
   *[other] حُل { $count } بلاغ
}
screen-withheld = بلاغات أقل من أن تُنشر
screen-within-sla = { $percent } ٪ حُلت في الآجال
screen-median = المدة الوسيطة للحل: { $hours } ساعة
screen-how-heading = كيف تبلغ عن مشكل
screen-how-web = امسح الرمز أو افتح { $url }
screen-how-sms = عبر رسالة قصيرة إلى { $number }
screen-how-counter = في الشباك: { $hours }
screen-qr-label = رمز QR نحو تطبيق التبليغ
screen-updated = آخر تحديث { $time }
screen-stale = الشبكة غير متاحة: تعود هذه المعلومات إلى { $time } وقد لا تكون محينة.
screen-listen = استمع
screen-revoked = هذه الشاشة لم تعد مسجلة.
