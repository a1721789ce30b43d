//! The retry arithmetic: [`retry_after`] from response headers and the jittered exponential backoff.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use crate::config::RetryPolicy;

/// How long the server asked to wait: `retry-after-ms` (milliseconds, as OpenAI and Anthropic send),
/// else `Retry-After` in seconds or as an HTTP date (IMF-fixdate; a date in the past means now).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(milliseconds) = text("retry-after-ms").and_then(|value| value.parse::<f64>().ok()) {
        if milliseconds.is_finite() && milliseconds >= 0.0 {
            return Duration::try_from_secs_f64(milliseconds / 1000.0).ok();
        }
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return if seconds.is_finite() && seconds >= 0.0 {
            Duration::try_from_secs_f64(seconds).ok()
        } else {
            None
        };
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let mut parts = value.split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if zone != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|name| *name == month)? as u32 + 1;
    let day: u32 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut clock = time.split(':').map(|field| field.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if clock.next().is_some() || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // The date comes from a server: every step is checked, a year too large for the clock is no date.
    let days = u64::try_from(days_from_civil(year, month, day)?).ok()?;
    let seconds = days.checked_mul(86_400)?.checked_add(hour * 3600 + minute * 60 + second)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); `None` when the
/// year is too large to count in days.
fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let year = if month <= 2 { year.checked_sub(1)? } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era.checked_mul(146_097)?.checked_add(day_of_era - 719_468)
}

/// The wait after `failed_attempts` failures: uniform in `[0, min(max_backoff, initial * 2^(n-1))]`,
/// with `random` the uniform draw.
pub(crate) fn backoff(policy: &RetryPolicy, failed_attempts: u32, random: u64) -> Duration {
    let doublings = failed_attempts.saturating_sub(1).min(31);
    let ceiling = policy.initial_backoff.saturating_mul(1_u32 << doublings).min(policy.max_backoff);
    // A ceiling near `Duration::MAX` times a 64-bit draw does not fit in 128 bits: saturate.
    let nanos = ceiling.as_nanos().saturating_mul(u128::from(random)) >> 64;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A fresh random number for jitter. `RandomState` is seeded from the OS once per thread; the counter
/// makes each call differ.
pub(crate) fn jitter_draw() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn retry_after_in_milliseconds_seconds_and_dates() {
        assert_eq!(retry_after(&headers(&[("retry-after-ms", "1500")])), Some(Duration::from_millis(1500)));
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250.5"), ("retry-after", "9")])),
            Some(Duration::from_micros(250_500))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "1")])), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(&headers(&[("retry-after", " 30 ")])), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "x"), ("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(&HeaderMap::new()), None);
        let past = retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]));
        assert_eq!(past, Some(Duration::ZERO));
        let future = retry_after(&headers(&[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")]));
        assert!(future.is_some_and(|wait| wait > Duration::from_secs(86_400 * 365 * 7000)));
    }

    #[test]
    fn http_dates_are_exact() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(at, UNIX_EPOCH.checked_add(Duration::from_secs(784_111_777)));
        let leap = parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT");
        assert_eq!(leap, UNIX_EPOCH.checked_add(Duration::from_secs(1_709_164_800)));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49 GMT"), None);
        // A hostile year overflows nothing (the probe's header panicked with overflow checks on).
        for year in ["1000000000000000", "9223372036854775807", "-9223372036854775808"] {
            let date = format!("Sun, 06 Nov {year} 08:49:37 GMT");
            assert_eq!(parse_http_date(&date), None, "{date}");
            let mut map = HeaderMap::new();
            map.insert("retry-after", HeaderValue::from_str(&date).unwrap_or(HeaderValue::from_static("x")));
            assert_eq!(retry_after(&map), None, "{date}");
        }
    }

    #[test]
    fn backoff_grows_exponentially_under_full_jitter() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(60),
        };
        assert_eq!(backoff(&policy, 1, 0), Duration::ZERO);
        let near_max = u64::MAX;
        let ceilings: Vec<u128> =
            (1..=6).map(|failed| backoff(&policy, failed, near_max).as_millis()).collect();
        assert_eq!(ceilings, vec![99, 199, 399, 799, 999, 999]);
        assert_eq!(backoff(&policy, 3, u64::MAX / 2).as_millis(), 199, "half of the 400 ms ceiling");
        assert_eq!(backoff(&policy, u32::MAX, near_max).as_millis(), 999);
        let unbounded = RetryPolicy { initial_backoff: Duration::MAX, max_backoff: Duration::MAX, ..policy };
        assert!(backoff(&unbounded, 5, u64::MAX) > Duration::from_secs(1 << 30), "no overflow");
        let draws: Vec<u64> = (0..4).map(|_| jitter_draw()).collect();
        assert!(draws.windows(2).all(|pair| pair[0] != pair[1]), "{draws:?}");
    }
}
