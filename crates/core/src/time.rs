//! Times as hMailServer keeps them: naive local time, whole seconds.

use chrono::{Local, NaiveDateTime, Timelike};

/// The current local time without sub-seconds, as hMailServer writes date-times.
pub fn now_local() -> NaiveDateTime {
    let now = Local::now().naive_local();
    now.with_nanosecond(0).unwrap_or(now)
}
