//! Human durations on the command line: `30s`, `15m`, `12h`, `7d`, `2w`. A bare number is refused:
//! `renew --within 30` in cron would otherwise mean 30 seconds, and never be due in time.
//!
//! Pure parsing and formatting; it must not know which flag it parses.

use std::time::Duration;

/// Parse a duration (whole seconds, up to 100 years); used as a clap value parser, so each
/// flag is parsed once into a typed value.
pub fn parse(input: &str) -> Result<Duration, String> {
    parse_seconds(input).map(|s| Duration::from_secs(s.unsigned_abs()))
}

/// [`parse`], refusing zero: for timeouts and waits, where 0 s would mean "fail at once" (or,
/// for a socket, is not allowed at all).
pub fn parse_timeout(input: &str) -> Result<Duration, String> {
    let d = parse(input)?;
    if d.is_zero() {
        return Err(format!(
            "'{}' is no time at all: give at least 1s",
            input.trim()
        ));
    }
    Ok(d)
}

/// A duration as whole seconds, for comparing with certificate and token times.
#[must_use]
pub fn whole_seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn parse_seconds(input: &str) -> Result<i64, String> {
    let input = input.trim();
    let Some(i) = input.find(|c: char| !c.is_ascii_digit()) else {
        return Err(if input.is_empty() {
            "a duration is needed, like 30d, 12h, 15m or 30s".to_string()
        } else {
            format!(
                "'{input}' has no unit: write {input}d for days (or {input}h, {input}m, {input}s, {input}w)"
            )
        });
    };
    let (number, unit) = input.split_at(i);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("'{input}' is not a duration like 30d, 12h, 15m or 30s"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit in '{input}': use s, m, h, d or w")),
    };
    n.checked_mul(scale)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .ok_or_else(|| format!("'{input}' is longer than 100 years"))
}

/// Seconds as a short human duration: `45s`, `3m 20s`, `2h 5m`, `4d 1h`.
#[must_use]
pub fn describe(seconds: i64) -> String {
    let s = seconds.abs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_seconds("30s"), Ok(30));
        assert_eq!(parse_seconds("15m"), Ok(900));
        assert_eq!(parse_seconds("12h"), Ok(43_200));
        assert_eq!(parse_seconds("7d"), Ok(604_800));
        assert_eq!(parse_seconds("2w"), Ok(1_209_600));
        let bare = parse_seconds("30").unwrap_err();
        assert!(bare.contains("no unit") && bare.contains("30d"), "{bare}");
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-5m").is_err());
        assert!(parse_seconds("5y").is_err());
        assert!(parse_seconds("").is_err());
        assert!(parse_seconds("999999999999d").is_err());
    }

    #[test]
    fn typed_durations_and_timeouts() {
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(whole_seconds(Duration::from_secs(86_400)), 86_400);
    }

    #[test]
    fn describes_durations() {
        assert_eq!(describe(45), "45s");
        assert_eq!(describe(200), "3m 20s");
        assert_eq!(describe(-7500), "2h 5m");
        assert_eq!(describe(90_000), "1d 1h");
    }
}
