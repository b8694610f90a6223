//! Calendar arithmetic on Unix seconds, UTC only: all forkdrift needs is to read and
//! write ISO-8601 dates, which does not justify a date-time crate.

pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses `YYYY-MM-DD`, optionally followed by `THH:MM[:SS]` and `Z`, as UTC.
pub fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('Z');
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = 0;
    if let Some(time) = time {
        let mut fields = time.split(':');
        let hours: i64 = fields.next()?.parse().ok()?;
        let minutes: i64 = fields.next()?.parse().ok()?;
        let secs: i64 = fields.next().map_or(Some(0), |s| s.parse().ok())?;
        seconds = hours * 3600 + minutes * 60 + secs;
    }
    Some(days_from_civil(year, month, day) * DAY + seconds)
}

/// `2024-03-01T12:00:00Z`
pub fn format_iso(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(DAY));
    let rest = seconds.rem_euclid(DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `2024-03-01`
pub fn format_date(seconds: i64) -> String {
    format_iso(seconds)[..10].to_string()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The same day `months` months after `seconds` (midnight UTC), clamped to the month's last day:
/// 31 January + 1 month is 29 February in a leap year.
pub fn add_months(seconds: i64, months: u32) -> i64 {
    let (year, month, day) = civil_from_days(seconds.div_euclid(DAY));
    let index = year * 12 + i64::from(month - 1) + i64::from(months);
    let (year, month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    let last = (28..=31)
        .rev()
        .find(|d| civil_from_days(days_from_civil(year, month, *d)).1 == month)
        .unwrap_or(28);
    days_from_civil(year, month, day.min(last)) * DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates_across_eras_and_leap_days() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2024-12-31T00:00:01Z",
            "1969-07-20T20:17:00Z",
        ] {
            assert_eq!(format_iso(parse_iso(text).unwrap()), text);
        }
        assert_eq!(parse_iso("2024-01-01"), Some(1_704_067_200));
        assert_eq!(parse_iso("2024-13-01"), None);
    }
}
