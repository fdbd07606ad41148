# Screens in the commune's reception areas (issue 21).
screen-title = Commune information
screen-notices-heading = Service notices near here
screen-urgent-heading = Urgent notice
screen-no-notices = No service notice near here at the moment.
screen-notice-until = Until { $time }
screen-services-heading = State of the services
screen-services-period = Published figures for { $period }
screen-services-none = No figures published yet.
screen-district = Area { $district }
screen-outside-zones = outside the areas
screen-new = { $count ->
    [one] { $count } report received
   *[other] { $count } reports received
}
screen-resolved = { $count ->
    [one] { $count } resolved
   *[other] { $count } resolved
}
screen-withheld = too few reports to publish
screen-within-sla = { $percent } % resolved on time
screen-median = Median time to resolve: { $hours } h
screen-how-heading = How to report a problem
screen-how-web = Scan the code or open { $url }
screen-how-sms = By SMS to { $number }
screen-how-counter = At the counter: { $hours }
screen-qr-label = QR code to the reporting app
screen-updated = Updated { $time }
screen-stale = Network unavailable: this information dates from { $time } and may be out of date.
screen-listen = Listen
screen-revoked = This screen is no longer registered.
