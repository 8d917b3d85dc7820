//! Dates as VBScript keeps them (OLE Automation dates: days since 1899-12-30, the time of
//! day as the fraction) and their US-English text forms.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

/// The date and time of an OLE date, `None` outside chrono's range.
pub fn to_datetime(ole: f64) -> Option<NaiveDateTime> {
    if !ole.is_finite() || ole.abs() > 3_000_000.0 {
        return None;
    }
    // negative OLE dates count the days backwards but the time forwards
    let days = ole.trunc();
    let fraction = (ole - days).abs();
    let seconds = (fraction * 86_400.0).round() as i64;
    epoch().checked_add_signed(Duration::days(days as i64))?.checked_add_signed(Duration::seconds(seconds))
}

pub fn from_datetime(dt: NaiveDateTime) -> f64 {
    let delta = dt - epoch();
    let days = delta.num_days();
    let seconds = (delta - Duration::days(days)).num_seconds();
    let fraction = seconds as f64 / 86_400.0;
    if days < 0 { days as f64 - fraction } else { days as f64 + fraction }
}

pub fn now() -> f64 {
    from_datetime(chrono::Local::now().naive_local())
}

/// The general date format of `CStr(date)`: the date, the time, or both.
pub fn format_general(ole: f64) -> String {
    let Some(dt) = to_datetime(ole) else { return ole.to_string() };
    let has_date = ole.trunc() != 0.0;
    let has_time = ole.fract() != 0.0;
    match (has_date, has_time) {
        (true, true) => format!("{} {}", format_short_date(dt), format_long_time(dt)),
        (false, true) => format_long_time(dt),
        _ => format_short_date(dt),
    }
}

pub fn format_short_date(dt: NaiveDateTime) -> String {
    format!("{}/{}/{}", dt.month(), dt.day(), dt.year())
}

pub fn format_long_time(dt: NaiveDateTime) -> String {
    let (pm, hour) = dt.hour12();
    format!("{}:{:02}:{:02} {}", hour, dt.minute(), dt.second(), if pm { "PM" } else { "AM" })
}

/// `FormatDateTime(date, format)`: 0 general, 1 long date, 2 short date, 3 long time,
/// 4 short time (24-hour hh:mm).
pub fn format(ole: f64, format: i32) -> Option<String> {
    let dt = to_datetime(ole)?;
    Some(match format {
        0 => format_general(ole),
        1 => format!("{}, {} {:02}, {}", dt.format("%A"), dt.format("%B"), dt.day(), dt.year()),
        2 => format_short_date(dt),
        3 => format_long_time(dt),
        4 => format!("{:02}:{:02}", dt.hour(), dt.minute()),
        _ => return None,
    })
}

/// Reads a date in the forms scripts write: `M/D/YYYY`, `YYYY-MM-DD`, `D MonthName YYYY`,
/// each with an optional time `H:MM[:SS] [AM|PM]`, or a time alone.
pub fn parse(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let mut date: Option<NaiveDate> = None;
    let mut time: Option<NaiveTime> = None;
    let mut words: Vec<&str> = t.split([' ', 'T', ',']).filter(|w| !w.is_empty()).collect();
    let mut meridiem: Option<bool> = None;
    if let Some(last) = words.last() {
        if last.eq_ignore_ascii_case("pm") {
            meridiem = Some(true);
            words.pop();
        } else if last.eq_ignore_ascii_case("am") {
            meridiem = Some(false);
            words.pop();
        }
    }
    let mut rest = Vec::new();
    for word in words {
        if word.contains(':') {
            time = Some(parse_time(word, meridiem)?);
        } else if word.contains('/') || (word.contains('-') && word.len() > 4) {
            date = Some(parse_numeric_date(word)?);
        } else {
            rest.push(word);
        }
    }
    if !rest.is_empty() {
        if date.is_some() {
            return None;
        }
        date = Some(parse_month_name_date(&rest)?);
    }
    if date.is_none() && time.is_none() {
        return None;
    }
    let day_part = date.map(|d| from_datetime(d.and_time(NaiveTime::MIN))).unwrap_or(0.0);
    let time_part = time.map(|t| f64::from(t.num_seconds_from_midnight()) / 86_400.0).unwrap_or(0.0);
    Some(if day_part < 0.0 { day_part - time_part } else { day_part + time_part })
}

fn parse_time(word: &str, pm: Option<bool>) -> Option<NaiveTime> {
    let mut parts = word.split(':');
    let mut hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

fn parse_numeric_date(word: &str) -> Option<NaiveDate> {
    let separator = if word.contains('/') { '/' } else { '-' };
    let parts: Vec<i32> = word.split(separator).map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let (year, month, day) = match parts.as_slice() {
        [a, b, c] if *a > 31 => (*a, *b, *c),
        [m, d, y] => (expand_year(*y), *m, *d),
        [m, d] => (chrono::Local::now().year(), *m, *d),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

fn expand_year(year: i32) -> i32 {
    match year {
        0..=29 => 2000 + year,
        30..=99 => 1900 + year,
        _ => year,
    }
}

pub fn month_from_name(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let lower = name.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    MONTHS.iter().position(|m| *m == prefix).map(|i| i as u32 + 1)
}

fn parse_month_name_date(words: &[&str]) -> Option<NaiveDate> {
    let mut month = None;
    let mut numbers = Vec::new();
    for word in words {
        if let Ok(n) = word.parse::<i32>() {
            numbers.push(n);
        } else if let Some(m) = month_from_name(word) {
            month = Some(m);
        } else if word.len() > 2 {
            // a weekday name like "Mon" is allowed and ignored
            continue;
        } else {
            return None;
        }
    }
    let month = month?;
    let (day, year) = match numbers.as_slice() {
        [d, y] if *d <= 31 => (*d, expand_year(*y)),
        [y, d] => (*d, expand_year(*y)),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, u32::try_from(day).ok()?)
}

/// The interval names of `DateAdd`, `DateDiff` and `DatePart`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Interval {
    Year,
    Quarter,
    Month,
    DayOfYear,
    Day,
    Weekday,
    Week,
    Hour,
    Minute,
    Second,
}

pub fn interval(name: &str) -> Option<Interval> {
    Some(match name.to_ascii_lowercase().as_str() {
        "yyyy" => Interval::Year,
        "q" => Interval::Quarter,
        "m" => Interval::Month,
        "y" => Interval::DayOfYear,
        "d" => Interval::Day,
        "w" => Interval::Weekday,
        "ww" => Interval::Week,
        "h" => Interval::Hour,
        "n" => Interval::Minute,
        "s" => Interval::Second,
        _ => return None,
    })
}

fn add_months(dt: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let total = (i64::from(dt.year()) * 12 + i64::from(dt.month0())).checked_add(months)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = total.rem_euclid(12) as u32 + 1;
    // the day is clipped to the last day of the month, as DateAdd does
    let mut day = dt.day();
    loop {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
            return Some(date.and_time(dt.time()));
        }
        day = day.checked_sub(1).filter(|d| *d > 0)?;
    }
}

pub fn add(interval: Interval, amount: i64, ole: f64) -> Option<f64> {
    let dt = to_datetime(ole)?;
    let result = match interval {
        Interval::Year => add_months(dt, amount.checked_mul(12)?)?,
        Interval::Quarter => add_months(dt, amount.checked_mul(3)?)?,
        Interval::Month => add_months(dt, amount)?,
        Interval::DayOfYear | Interval::Day | Interval::Weekday => {
            dt.checked_add_signed(Duration::try_days(amount)?)?
        }
        Interval::Week => dt.checked_add_signed(Duration::try_weeks(amount)?)?,
        Interval::Hour => dt.checked_add_signed(Duration::try_hours(amount)?)?,
        Interval::Minute => dt.checked_add_signed(Duration::try_minutes(amount)?)?,
        Interval::Second => dt.checked_add_signed(Duration::try_seconds(amount)?)?,
    };
    Some(from_datetime(result))
}

/// `DateDiff`: the number of interval boundaries crossed from `a` to `b`.
pub fn diff(interval: Interval, a: f64, b: f64) -> Option<i64> {
    let (x, y) = (to_datetime(a)?, to_datetime(b)?);
    let months = |d: NaiveDateTime| i64::from(d.year()) * 12 + i64::from(d.month0());
    let days = |d: NaiveDateTime| (d.date() - NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()).num_days();
    Some(match interval {
        Interval::Year => i64::from(y.year() - x.year()),
        Interval::Quarter => (months(y) / 3) - (months(x) / 3),
        Interval::Month => months(y) - months(x),
        Interval::DayOfYear | Interval::Day => days(y) - days(x),
        Interval::Weekday => (days(y) - days(x)) / 7,
        Interval::Week => {
            // Sundays crossed
            let sunday_index = |d: NaiveDateTime| {
                (days(d)
                    + i64::from(
                        NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default().weekday().num_days_from_sunday(),
                    ))
                .div_euclid(7)
            };
            sunday_index(y) - sunday_index(x)
        }
        Interval::Hour => (days(y) * 24 + i64::from(y.hour())) - (days(x) * 24 + i64::from(x.hour())),
        Interval::Minute => {
            let minutes = |d: NaiveDateTime| days(d) * 1440 + i64::from(d.hour()) * 60 + i64::from(d.minute());
            minutes(y) - minutes(x)
        }
        Interval::Second => (y - x).num_seconds(),
    })
}

pub fn from_parts(year: i64, month: i64, day: i64) -> Option<f64> {
    // DateSerial lets month and day overflow into the next year or month
    let year = i32::try_from(year).ok()?;
    let base = NaiveDate::from_ymd_opt(expand_year(year), 1, 1)?.and_time(NaiveTime::MIN);
    let with_month = add_months(base, month - 1)?;
    let with_day = with_month.checked_add_signed(Duration::try_days(day - 1)?)?;
    Some(from_datetime(with_day))
}

pub fn time_from_parts(hour: i64, minute: i64, second: i64) -> f64 {
    let seconds = hour * 3600 + minute * 60 + second;
    seconds as f64 / 86_400.0
}
