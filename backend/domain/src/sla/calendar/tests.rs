//! Tests of business calendars.

use super::*;
use jiff::civil::{Weekday, date};
use proptest::prelude::*;

const CASABLANCA: &str = "Africa/Casablanca";

fn ts(raw: &str) -> Timestamp {
    raw.parse().unwrap()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn admin() -> BusinessCalendar {
    BusinessCalendar::moroccan_administration(CASABLANCA).unwrap()
}

#[test]
fn time_zone_must_be_iana() {
    assert!(BusinessCalendar::new(CASABLANCA, WeeklyHours::default()).is_ok());
    for bad in ["", "Mars/Olympus_Mons", "+01:00", "-01", "Africa/"] {
        let err = BusinessCalendar::new(bad, WeeklyHours::default()).unwrap_err();
        assert_eq!(err.field, "time_zone", "{bad}");
    }
}

#[test]
fn working_intervals_parse_and_merge() {
    let i = WorkingInterval::parse("08:30-16:30").unwrap();
    assert_eq!((i.start_minute(), i.end_minute()), (510, 990));
    assert_eq!(i.to_string(), "08:30-16:30");
    assert_eq!(
        WorkingInterval::parse("22:00-24:00").unwrap().end_minute(),
        1440
    );
    for bad in [
        "16:30-08:30",
        "08:30-08:30",
        "8:30-16:30",
        "08:60-09:00",
        "24:01-24:30",
        "x",
    ] {
        assert!(WorkingInterval::parse(bad).is_err(), "{bad}");
    }
    let day = DaySchedule::parse("14:00-18:00, 08:00-12:00,11:00-13:00,18:00-19:00").unwrap();
    let shown: Vec<String> = day.intervals().iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["08:00-13:00", "14:00-19:00"]);
    assert_eq!(day.working_minutes(), 10 * 60);
    assert!(DaySchedule::parse("closed").unwrap().is_closed());
    let json = serde_json::to_string(&day).unwrap();
    assert_eq!(json, r#"["08:00-13:00","14:00-19:00"]"#);
    assert_eq!(serde_json::from_str::<DaySchedule>(&json).unwrap(), day);
}

#[test]
fn morocco_fixed_holidays_by_year() {
    let dates = |year| -> Vec<(i8, i8)> {
        morocco_fixed_holidays(year)
            .iter()
            .map(|h| (h.date.month(), h.date.day()))
            .collect()
    };
    assert_eq!(
        dates(2023),
        [
            (1, 1),
            (1, 11),
            (5, 1),
            (7, 30),
            (8, 14),
            (8, 20),
            (8, 21),
            (11, 6),
            (11, 18)
        ]
    );
    assert!(dates(2024).contains(&(1, 14)));
    assert!(!dates(2025).contains(&(10, 31)));
    assert_eq!(dates(2026).len(), 11);
    assert!(dates(2026).contains(&(10, 31)));

    let cal = admin();
    assert_eq!(
        cal.holiday_on(date(2026, 11, 18)),
        Some("Fête de l'Indépendance")
    );
    assert_eq!(cal.holiday_on(date(2023, 1, 14)), None);
    assert!(cal.schedule_on(date(2026, 5, 1)).is_closed()); // a Friday
    assert!(!cal.schedule_on(date(2026, 5, 4)).is_closed());
}

#[test]
fn movable_holidays_are_data() {
    assert!(MovableHoliday::new(MovableHolidayKind::EidAlFitr, date(2026, 3, 20), 0).is_err());
    let fitr = MovableHoliday::new(MovableHolidayKind::EidAlFitr, date(2026, 3, 20), 2).unwrap();
    let mut cal = admin();
    cal.add_movable_holiday(&fitr);
    assert_eq!(
        cal.holiday_on(date(2026, 3, 20)),
        Some("Aïd Al Fitr (jour 1)")
    );
    assert_eq!(
        cal.holiday_on(date(2026, 3, 21)),
        Some("Aïd Al Fitr (jour 2)")
    );
    assert_eq!(cal.holiday_on(date(2026, 3, 22)), None);
    // A movable holiday on a fixed one keeps both names.
    cal.add_holiday(Holiday {
        date: date(2026, 3, 20),
        name: "Test".into(),
    });
    assert_eq!(
        cal.holiday_on(date(2026, 3, 20)),
        Some("Aïd Al Fitr (jour 1) / Test")
    );
}

/// The 2026 transitions of Africa/Casablanca in the bundled database (tzdata 2026e):
/// back to UTC+0 for Ramadan on Sunday 15 February (03:00 -> 02:00), forward to UTC+1
/// on Sunday 22 March (02:00 -> 03:00), and back to UTC+0 for good on Sunday
/// 20 September (02:00 -> 01:00), since Morocco returns to permanent UTC (tzdata 2026c).
#[test]
fn casablanca_2026_transitions() {
    let tz = TimeZone::get(CASABLANCA).unwrap();
    let transitions: Vec<(Timestamp, i32)> = tz
        .following(ts("2026-01-01T00:00:00Z"))
        .take_while(|t| t.timestamp() < ts("2027-12-31T00:00:00Z"))
        .map(|t| (t.timestamp(), t.offset().seconds()))
        .collect();
    assert_eq!(
        transitions,
        [
            (ts("2026-02-15T02:00:00Z"), 0),
            (ts("2026-03-22T02:00:00Z"), 3600),
            (ts("2026-09-20T01:00:00Z"), 0),
        ]
    );
}

#[test]
fn ramadan_shifts_the_utc_instants_of_working_hours() {
    let cal = admin();
    let opening = |d: Date| cal.working_spans(d)[0];
    // Friday before Ramadan: UTC+1.
    assert_eq!(
        opening(date(2026, 2, 13)),
        (ts("2026-02-13T07:30:00Z"), ts("2026-02-13T15:30:00Z"))
    );
    // Monday during Ramadan: UTC+0, so 08:30 local is 08:30 UTC.
    assert_eq!(
        opening(date(2026, 2, 16)),
        (ts("2026-02-16T08:30:00Z"), ts("2026-02-16T16:30:00Z"))
    );
    // Monday after Ramadan: UTC+1 again.
    assert_eq!(opening(date(2026, 3, 23)).0, ts("2026-03-23T07:30:00Z"));
    // After 20 September 2026: UTC+0 for good.
    assert_eq!(opening(date(2026, 9, 21)).0, ts("2026-09-21T08:30:00Z"));
}

#[test]
fn due_time_across_the_ramadan_change() {
    let cal = admin();
    // Friday 13 February 2026, 15:30 local (UTC+1): one working hour left that day.
    let start = ts("2026-02-13T14:30:00Z");
    let due = cal.add_business(start, hours(2)).unwrap();
    // The second hour is on Monday from 08:30 local, which is now 08:30 UTC.
    assert_eq!(due, ts("2026-02-16T09:30:00Z"));
    assert_eq!(cal.business_duration(start, due), hours(2));
    // A fixed UTC+1 offset would have said 08:30 UTC: an hour early.
    let fixed = BusinessCalendar {
        time_zone: TimeZone::fixed(jiff::tz::offset(1)),
        ..cal.clone()
    };
    assert_eq!(
        fixed.add_business(start, hours(2)).unwrap(),
        ts("2026-02-16T08:30:00Z")
    );
}

#[test]
fn holiday_on_friday_then_weekend() {
    let mut cal = admin();
    // Friday 17 April 2026 is made a holiday: Thursday 16:00 + 1h lands on Monday.
    cal.add_holiday(Holiday {
        date: date(2026, 4, 17),
        name: "Fermeture".into(),
    });
    let thursday_16h = ts("2026-04-16T15:00:00Z"); // 16:00 local, UTC+1
    let due = cal.add_business(thursday_16h, hours(1)).unwrap();
    assert_eq!(due, ts("2026-04-20T08:00:00Z")); // Monday 09:00 local
    // Thursday 16:00 to Monday 12:00 local: 30 min + 3.5 h.
    let monday_noon = ts("2026-04-20T11:00:00Z");
    assert_eq!(
        cal.business_duration(thursday_16h, monday_noon),
        SignedDuration::from_mins(4 * 60)
    );
    // The national holiday on Friday 1 May 2026 does the same.
    let thursday = ts("2026-04-30T15:00:00Z");
    assert_eq!(
        cal.add_business(thursday, hours(1)).unwrap(),
        ts("2026-05-04T08:00:00Z")
    );
}

#[test]
fn overrides_open_and_close_days() {
    let mut cal = admin();
    let saturday = date(2026, 4, 18);
    assert!(cal.working_spans(saturday).is_empty());
    cal.set_override(saturday, DaySchedule::parse("09:00-12:00").unwrap());
    assert_eq!(
        cal.working_spans(saturday),
        [(ts("2026-04-18T08:00:00Z"), ts("2026-04-18T11:00:00Z"))]
    );
    // An override also opens a holiday...
    cal.set_override(date(2026, 5, 1), DaySchedule::parse("08:30-10:30").unwrap());
    assert_eq!(cal.working_spans(date(2026, 5, 1)).len(), 1);
    // ...and closes a working day.
    cal.set_override(date(2026, 4, 20), DaySchedule::closed());
    assert!(cal.working_spans(date(2026, 4, 20)).is_empty());
    // Friday 16:00 + 1h: 30 min on Friday, 30 min on the opened Saturday.
    assert_eq!(
        cal.add_business(ts("2026-04-17T15:00:00Z"), hours(1))
            .unwrap(),
        ts("2026-04-18T08:30:00Z")
    );
}

#[test]
fn always_clock_ignores_the_calendar() {
    let mut cal = admin();
    cal.set_override(date(2026, 4, 20), DaySchedule::closed());
    let start = ts("2026-04-18T22:00:00Z"); // a Saturday night
    assert_eq!(
        ClockKind::Always.elapsed(&cal, start, ts("2026-04-20T22:00:00Z")),
        hours(48)
    );
    assert_eq!(
        ClockKind::Always.add(&cal, start, hours(5)).unwrap(),
        ts("2026-04-19T03:00:00Z")
    );
    assert_eq!(
        ClockKind::Always.elapsed(&cal, start, ts("2026-04-01T00:00:00Z")),
        SignedDuration::ZERO
    );
    assert_eq!(
        ClockKind::BusinessHours.elapsed(&cal, start, ts("2026-04-20T22:00:00Z")),
        SignedDuration::ZERO
    );
}

#[test]
fn a_calendar_without_working_time_does_not_hang() {
    let cal = BusinessCalendar::new(CASABLANCA, WeeklyHours::closed()).unwrap();
    let start = ts("2026-04-18T08:00:00Z");
    assert_eq!(
        cal.add_business(start, hours(1)),
        Err(CalendarError::NoWorkingTime {
            searched_from: date(2026, 4, 18)
        })
    );
    // Only a later override gives it time.
    let mut cal = cal;
    cal.set_override(date(2026, 6, 1), DaySchedule::parse("10:00-11:00").unwrap());
    assert_eq!(
        cal.add_business(start, hours(1)).unwrap(),
        ts("2026-06-01T10:00:00Z")
    );
    assert!(cal.add_business(start, hours(2)).is_err());
    // Open weekly hours but a gap of years: gives up too.
    let mut cal = admin();
    let mut d = date(2026, 1, 1);
    while d < date(2030, 1, 1) {
        cal.set_override(d, DaySchedule::closed());
        d = d.tomorrow().unwrap();
    }
    assert!(matches!(
        cal.add_business(start, hours(1)),
        Err(CalendarError::NoWorkingTime { .. })
    ));
}

#[test]
fn dst_gaps_and_folds_in_local_intervals() {
    // A night shift across the 2026 Casablanca transitions (all on Sundays).
    let night = DaySchedule::parse("01:00-04:00").unwrap();
    let cal = BusinessCalendar::new(
        CASABLANCA,
        WeeklyHours::closed().with_day(Weekday::Sunday, night),
    )
    .unwrap();
    // Fold on 15 February (03:00 -> 02:00): 01:00-04:00 local lasts four hours.
    assert_eq!(
        cal.working_spans(date(2026, 2, 15)),
        [(ts("2026-02-15T00:00:00Z"), ts("2026-02-15T04:00:00Z"))]
    );
    // Gap on 22 March (02:00 -> 03:00): it lasts two hours.
    assert_eq!(
        cal.working_spans(date(2026, 3, 22)),
        [(ts("2026-03-22T01:00:00Z"), ts("2026-03-22T03:00:00Z"))]
    );
    // An interval entirely inside the gap has no working time.
    let in_gap = BusinessCalendar::new(
        CASABLANCA,
        WeeklyHours::closed().with_day(Weekday::Sunday, DaySchedule::parse("02:10-02:50").unwrap()),
    )
    .unwrap();
    assert!(in_gap.working_spans(date(2026, 3, 22)).is_empty());
    assert_eq!(in_gap.working_spans(date(2026, 3, 29)).len(), 1);
}

fn timestamp_in(range: std::ops::Range<i64>) -> impl Strategy<Value = Timestamp> {
    range.prop_map(|s| Timestamp::from_second(s).unwrap())
}

/// 2025-06-01 .. 2027-06-01: covers the 2026 Ramadan changes and the September switch.
fn around_2026() -> impl Strategy<Value = Timestamp> {
    timestamp_in(1_748_736_000..1_811_808_000)
}

/// Administration hours, a split shift with night parts across the Casablanca
/// transitions, and intervals ending and starting inside Europe/Paris's DST gap.
fn test_calendars() -> Vec<BusinessCalendar> {
    let split = DaySchedule::parse("00:00-03:30,07:00-12:00,14:00-24:00").unwrap();
    let mut split_shift = BusinessCalendar::new(CASABLANCA, WeeklyHours::closed()).unwrap();
    for weekday in [Weekday::Saturday, Weekday::Sunday, Weekday::Wednesday] {
        split_shift.weekly_hours.set(weekday, split.clone());
    }
    let night = DaySchedule::parse("01:00-02:20,02:40-02:50,03:00-04:00").unwrap();
    let paris = BusinessCalendar::new(
        "Europe/Paris",
        WeeklyHours::moroccan_administration().with_day(Weekday::Sunday, night),
    )
    .unwrap();
    vec![admin(), split_shift, paris]
}

fn calendars() -> impl Strategy<Value = BusinessCalendar> {
    prop::sample::select(test_calendars())
}

#[test]
fn working_spans_are_ordered_and_never_overlap() {
    for cal in test_calendars() {
        let mut previous_end = Timestamp::MIN;
        let mut day = date(2025, 1, 1);
        while day < date(2028, 1, 1) {
            for (start, end) in cal.working_spans(day) {
                assert!(previous_end <= start && start < end, "{day} in {cal:?}");
                previous_end = end;
            }
            day = day.tomorrow().unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn elapsed_is_never_negative(cal in calendars(), a in around_2026(), b in around_2026()) {
        let elapsed = cal.business_duration(a, b);
        prop_assert!(!elapsed.is_negative());
        if b <= a {
            prop_assert_eq!(elapsed, SignedDuration::ZERO);
        } else {
            prop_assert!(elapsed <= b.duration_since(a));
        }
    }

    #[test]
    fn adding_then_measuring_gives_the_duration_back(
        cal in calendars(),
        start in around_2026(),
        secs in 0i64..400 * 3600,
    ) {
        let duration = SignedDuration::from_secs(secs);
        let due = cal.add_business(start, duration).unwrap();
        prop_assert!(due >= start);
        prop_assert_eq!(cal.business_duration(start, due), duration);
        // And it is the earliest such instant.
        if secs > 0 {
            let just_before = due - SignedDuration::from_nanos(1);
            prop_assert!(cal.business_duration(start, just_before) < duration);
        }
    }

    #[test]
    fn elapsed_is_monotonic_and_additive(
        cal in calendars(),
        a in around_2026(),
        steps in (0i64..30 * 86_400, 0i64..30 * 86_400),
    ) {
        let b = a + SignedDuration::from_secs(steps.0);
        let c = b + SignedDuration::from_secs(steps.1);
        let (ab, bc, ac) = (
            cal.business_duration(a, b),
            cal.business_duration(b, c),
            cal.business_duration(a, c),
        );
        prop_assert!(ac >= ab);
        prop_assert_eq!(ab + bc, ac);
    }
}
