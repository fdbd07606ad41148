common-skip = Skip to content
common-logout = Log out
common-language = Language
common-reference = Reference { $reference }
common-reports-count = { $count ->
    [one] { $count } report
   *[other] { $count } reports
}
common-next-page = Next page
common-previous-page = Previous page
common-save = Save
common-cancel = Cancel
