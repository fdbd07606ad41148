# The commune staff's back office (triage, report page, counter intake, notices).
staff-nav-label = Back office
staff-nav-triage = To triage
staff-nav-intake = Counter
staff-nav-notices = Service notices
staff-nav-dashboard = Dashboard

staff-status-new = New
staff-status-unrouted = Unassigned
staff-status-acknowledged = Acknowledged
staff-status-in-progress = In progress
staff-status-paused = Paused
staff-status-resolved = Resolved
staff-status-closed = Closed
staff-status-rejected = Sent back by the operator
staff-status-duplicate = Duplicate
staff-status-reopened = Reopened

staff-channel-app = App
staff-channel-web = Website
staff-channel-open311 = Open311
staff-channel-phone = Phone
staff-channel-counter = Counter

staff-priority-low = Low
staff-priority-normal = Normal
staff-priority-high = High
staff-priority-urgent = Urgent

staff-triage-title = Reports to triage
staff-triage-lead = Reports no contract covers and reports operators sent back, newest first.
staff-triage-caption = Triage queue
staff-triage-empty = Nothing to triage right now.
staff-pager-label = Pages
staff-first-page = First page

staff-col-reference = Reference
staff-col-service = Service
staff-col-status = Status
staff-col-channel = Channel
staff-col-created = Reported on
staff-col-description = Description
staff-col-priority = Priority
staff-col-due = Due
staff-col-operator = Operator and contract
staff-col-place = Position (lat., lon.)
staff-col-supporters = Supporters

staff-candidate = { $reference } at { $distance } m
staff-actor-unknown = Deleted account
staff-actor-resident = Resident
staff-actor-system = Balagh (automatic)

staff-event-created = Report received
staff-event-routed = Assigned to an operator
staff-event-unrouted = No contract covers this place
staff-event-supported = A resident's support
staff-event-status-changed = Status changed
staff-event-assigned = Agent assigned
staff-event-comment = Comment
staff-event-moderated = Description moderated
staff-event-duplicate-merged = Duplicate merged
staff-event-rated = Resident's rating
staff-event-sla-warning = Deadline warning
staff-event-sla-breached = Deadline missed
staff-event-dispute-opened = Dispute opened
staff-event-dispute-decided = Dispute decided
staff-event-photo-added = Photo added
staff-event-photo-moderated = Photo moderated
staff-event-priority-changed = Priority changed

staff-done-route = The report was assigned.
staff-done-duplicate = The report was merged into the original.
staff-done-dismiss = The report was dismissed.
staff-done-priority = The priority was saved.
staff-done-moderate = The moderation was saved.
staff-done-comment = The comment was added.
staff-done-notice = The notice was published.

staff-error-stale = Someone changed this report in the meantime: here it is as it is now. Try again if it still makes sense.
staff-error-status = This action is no longer possible in this status.
staff-error-invalid = Check the form: { $detail }
staff-error-other = The action could not be saved. Try again.

staff-back-to-triage = ← Reports to triage
staff-report-title = Report
staff-facts = At a glance
staff-description = Description
staff-description-hidden = Hidden from the public and operators (moderation)
staff-moderate-reason = Reason for moderation
staff-show-description = Show the description again
staff-hide-description = Hide the description
staff-contact = Resident's contact (callback)
staff-contact-note = Visible to commune staff only, never to operators.
staff-contact-name = Name
staff-contact-phone = Phone
staff-route = Assign
staff-route-contract = Contract
staff-route-covering = Contracts whose zone contains this place
staff-route-other-zones = Other zones of the same service
staff-note = Note (optional)
staff-route-submit = Assign to this contract
staff-duplicate = Duplicate
staff-duplicate-none = No open report of the same service nearby.
staff-duplicate-of = Reports of the same service nearby
staff-duplicate-submit = Mark as a duplicate of this one
staff-dismiss = Dismiss
staff-dismiss-reason = Reason
staff-dismiss-submit = Dismiss
staff-priority = Priority
staff-priority-submit = Save the priority
staff-comment = Comment
staff-comment-text = Text
staff-comment-public = Visible to the resident
staff-comment-submit = Add the comment
staff-history = History

staff-intake-title = Counter: enter a report
staff-intake-lead = For a resident at the counter or on the phone: the report follows the same path as the app's.
staff-intake-step-service = 1. The service concerned
staff-intake-continue = Continue
staff-intake-step-details = 2. The report
staff-intake-channel = Received
staff-intake-where = Place
staff-intake-district = District
staff-intake-district-none = — choose —
staff-intake-coordinates-note = Or, if the resident knows them, the exact coordinates (they win over the district).
staff-intake-lat = Latitude
staff-intake-lon = Longitude
staff-intake-submit = Save and print the receipt
staff-intake-error-place = Give the district or the coordinates.
staff-intake-error-outside = This place is outside the commune.

staff-receipt-title = Report receipt
staff-receipt-reference = Your reference
staff-receipt-by = Recorded by
staff-receipt-next = Keep this reference: it lets you follow the report at the counter or by phone. The commune will call you back on the number given.
staff-receipt-print = Print the receipt
staff-receipt-open = Open the report
staff-receipt-another = New report

staff-notices-title = Service notices
staff-notices-lead = Planned interruptions, collection delays, diversions: residents of the area are told.
staff-notices-current = Current notices
staff-notices-none = No current notice.
staff-notice-title = Title
staff-notice-kind = Kind
staff-notice-services = Services concerned
staff-notice-until = Until
staff-notice-actions = Actions
staff-notice-end = End
staff-notice-publish = Publish a notice
staff-notice-duration = Duration
staff-notice-hours = { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}
staff-notice-area = Area concerned
staff-notice-map-help = Click on the map to place the area's corners (at least three), or choose a district below: the drawn area wins.
staff-notice-map-label = Map of the commune: click to draw the notice's area
staff-notice-clear = Clear the drawn area
staff-notice-points = Corners placed:
staff-notice-district = Or a whole district
staff-notice-texts = Notice text
staff-notice-title-fr = Title in French
staff-notice-body-fr = Text in French
staff-notice-title-ar = Title in Arabic
staff-notice-body-ar = Text in Arabic
staff-notice-submit = Publish the notice
staff-notice-error-area = Draw the area on the map (at least three corners) or choose a district.
staff-notice-kind-planned-interruption = Planned interruption
staff-notice-kind-collection-delay = Collection delay
staff-notice-kind-diversion = Diversion
staff-notice-kind-other = Other

staff-photos = Photos
staff-photos-none = No photo.
staff-photo-alt = Photo of the report
staff-photo-approved = public
staff-photo-pending = not public (to approve)
staff-photo-approve = Publish photo
staff-photo-hide = Withdraw photo
staff-photo-by-resident = Taken by the resident
staff-photo-by-operator = Taken by the operator
staff-photo-by-staff = Taken by the commune
staff-done-photo = The photo's moderation was saved.
