common-skip = الانتقال إلى المحتوى
common-logout = تسجيل الخروج
common-language = اللغة
common-reference = المرجع { $reference }
common-reports-count = { $count ->
    [zero] لا توجد بلاغات
    [one] بلاغ واحد
    [two] بلاغان
    [few] { $count } بلاغات
    [many] { $count } بلاغًا
   *[other] { $count } بلاغ
}
common-next-page = الصفحة التالية
common-previous-page = الصفحة السابقة
common-save = حفظ
common-cancel = إلغاء
