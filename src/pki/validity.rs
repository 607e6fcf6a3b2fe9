//! Validity periods: `--days`, `--not-before` and `--not-after`.
//!
//! Pure: the current time is passed in, so the rules are unit-testable.

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, Time};

use super::error::PkiError;

/// notBefore is set this far in the past so that a client whose clock is a little behind does
/// not reject a certificate made moments ago as "not yet valid".
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Upper bound on `--days`: a hundred years. Anything longer is a typo.
pub const MAX_DAYS: u32 = 36_500;

/// A certificate's validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// The period that starts at `not_before` (default: now less the clock-skew allowance) and
    /// ends at `not_after`, or `days` (default: `default_days`) later. `days` and `not_after`
    /// exclude each other (the command line enforces it).
    pub fn new(
        now: OffsetDateTime,
        days: Option<u32>,
        not_before: Option<OffsetDateTime>,
        not_after: Option<OffsetDateTime>,
        default_days: u32,
    ) -> Result<Validity, PkiError> {
        let not_before = not_before.unwrap_or(now - CLOCK_SKEW);
        let not_after = if let Some(t) = not_after {
            t
        } else {
            let days = check_days(days.unwrap_or(default_days))?;
            not_before
                .checked_add(Duration::days(i64::from(days)))
                .ok_or_else(after_9999)?
        };
        if not_after <= not_before {
            return Err(PkiError::EndsBeforeStart {
                not_before: format_time(not_before),
                not_after: format_time(not_after),
            });
        }
        if not_after.year() > 9999 {
            return Err(after_9999());
        }
        Ok(Validity {
            not_before,
            not_after,
        })
    }

    /// Whole days from `now` until expiry; negative once expired.
    #[must_use]
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        days_until(now, self.not_after)
    }
}

/// Certificates cannot express dates after 9999-12-31 (RFC 5280's `GeneralizedTime`).
fn after_9999() -> PkiError {
    PkiError::After9999
}

/// `start` plus `length`, if that is still a date a certificate can hold (up to 9999-12-31).
#[must_use]
pub fn checked_end(start: OffsetDateTime, length: Duration) -> Option<OffsetDateTime> {
    start.checked_add(length).filter(|t| t.year() <= 9999)
}

/// Days from `now` until `then`, to the nearest whole day (negative when in the past).
///
/// The one rounding rule for day counts: a certificate made with `--days 825` is "valid for 825
/// days" and, a minute later, has "825 days left" — although its notBefore lies five minutes in
/// the past. Decisions (expired, due for renewal) compare seconds, never these counts.
#[must_use]
pub fn days_until(now: OffsetDateTime, then: OffsetDateTime) -> i64 {
    whole_days((then - now).whole_seconds())
}

/// Seconds as days, to the nearest whole day (halves away from zero).
#[must_use]
pub fn whole_days(seconds: i64) -> i64 {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    days + i64::from(rest >= 43_200) - i64::from(rest <= -43_200)
}

fn check_days(days: u32) -> Result<u32, PkiError> {
    if days == 0 || days > MAX_DAYS {
        return Err(PkiError::DaysOutOfRange {
            days,
            max: MAX_DAYS,
        });
    }
    Ok(days)
}

/// Parse an RFC 3339 timestamp (`2027-01-31T12:00:00Z`) or a plain date (`2027-01-31`, meaning
/// 00:00:00 UTC on that day).
pub fn parse_time(input: &str) -> Result<OffsetDateTime, PkiError> {
    if let Ok(t) = OffsetDateTime::parse(input, &Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(input, &date_format) {
        return Ok(d.with_time(Time::MIDNIGHT).assume_utc());
    }
    Err(PkiError::BadDate {
        input: crate::text::sanitize(input),
    })
}

/// A time as RFC 3339 in UTC, to the second: `2027-01-31T12:00:00Z`.
#[must_use]
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Parse a `--days` value: a positive whole number. Used as clap's value parser so that
/// `--days -3` and `--days soon` get the same clear message.
pub fn parse_days(input: &str) -> Result<u32, String> {
    let days: i64 = input
        .trim()
        .parse()
        .map_err(|_| format!("'{input}' is not a whole number of days"))?;
    if days <= 0 {
        return Err(format!("must be at least 1 day, not {days}"));
    }
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| format!("at most {MAX_DAYS} days (100 years), not {days}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00:00 UTC);

    fn t(text: &str) -> OffsetDateTime {
        parse_time(text).unwrap()
    }

    #[test]
    fn days_count_from_not_before_exactly() {
        let v = Validity::new(NOW, Some(365), None, None, 30).unwrap();
        assert_eq!(v.not_before, NOW - CLOCK_SKEW);
        assert_eq!(v.not_after - v.not_before, Duration::days(365));
        let v = Validity::new(NOW, None, None, None, 30).unwrap();
        assert_eq!(v.not_after - v.not_before, Duration::days(30));
    }

    #[test]
    fn not_after_accepts_dates_and_timestamps() {
        let v = Validity::new(NOW, None, None, Some(t("2027-01-31")), 365).unwrap();
        assert_eq!(v.not_after, datetime!(2027-01-31 00:00:00 UTC));
        let v = Validity::new(NOW, None, None, Some(t("2027-01-31T12:30:00+02:00")), 365).unwrap();
        assert_eq!(v.not_after, datetime!(2027-01-31 10:30:00 UTC));
    }

    #[test]
    fn past_periods_need_a_matching_not_before() {
        assert!(Validity::new(NOW, None, None, Some(t("2020-01-01")), 365).is_err());
        let v =
            Validity::new(NOW, None, Some(t("2019-01-01")), Some(t("2020-01-01")), 365).unwrap();
        assert!(v.days_left(NOW) < 0);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Validity::new(NOW, Some(0), None, None, 365).is_err());
        assert!(Validity::new(NOW, Some(MAX_DAYS + 1), None, None, 365).is_err());
        assert!(parse_time("tomorrow").is_err());
        assert!(parse_days("-3").unwrap_err().contains("at least 1"));
        assert!(parse_days("soon").unwrap_err().contains("whole number"));
        assert!(parse_days("99999999999").unwrap_err().contains("at most"));
        assert_eq!(parse_days("365"), Ok(365));
    }

    #[test]
    fn dates_near_the_year_9999_are_errors_not_panics() {
        for not_before in ["9999-12-31", "9999-12-31T23:59:59Z", "9999-06-01"] {
            let err = Validity::new(NOW, Some(365), Some(t(not_before)), None, 365);
            assert!(err.is_err(), "{not_before}");
        }
        assert!(checked_end(datetime!(9999-12-31 0:00 UTC), Duration::days(2)).is_none());
    }

    #[test]
    fn day_counts_round_to_the_nearest_day() {
        assert_eq!(days_until(NOW, NOW + Duration::hours(47)), 2);
        assert_eq!(days_until(NOW, NOW + Duration::hours(35)), 1);
        assert_eq!(
            days_until(NOW, NOW + Duration::days(825) - Duration::minutes(6)),
            825
        );
        assert_eq!(days_until(NOW, NOW - Duration::hours(1)), 0);
        assert_eq!(days_until(NOW, NOW - Duration::hours(13)), -1);
        assert_eq!(days_until(NOW, NOW - Duration::hours(36)), -2);
        assert_eq!(whole_days(i64::MIN), i64::MIN / 86_400 - 1);
    }
}
