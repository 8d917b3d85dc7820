//! The scripting settings, read from `hm_settings` (hMailServer's names where it has them).

use std::time::Duration;

use altimail_store::repo::settings::Settings;
use altimail_vbscript::Limits;

/// `altimailscripttimeoutms`: wall-clock budget of one call, in milliseconds.
pub const TIMEOUT_SETTING: &str = "altimailscripttimeoutms";
/// `altimailscriptmaxsteps`: statements and loop turns of one call.
pub const STEPS_SETTING: &str = "altimailscriptmaxsteps";
/// `altimailscriptmaxmemorymb`: megabytes of strings and arrays one call may make.
pub const MEMORY_SETTING: &str = "altimailscriptmaxmemorymb";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_STEPS: u64 = 10_000_000;
const DEFAULT_MEMORY_MB: usize = 64;

/// How scripts run, as the settings say.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptConfig {
    /// `usescriptserver` = 1.
    pub enabled: bool,
    /// `scriptlanguage`, e.g. `VBScript` (the only one supported) or `JScript`.
    pub language: String,
    pub timeout: Duration,
    pub max_steps: u64,
    pub max_memory_bytes: usize,
}

impl Default for ScriptConfig {
    fn default() -> Self {
        ScriptConfig {
            enabled: false,
            language: "VBScript".into(),
            timeout: DEFAULT_TIMEOUT,
            max_steps: DEFAULT_STEPS,
            max_memory_bytes: DEFAULT_MEMORY_MB * 1024 * 1024,
        }
    }
}

impl ScriptConfig {
    pub fn from_settings(settings: &Settings) -> ScriptConfig {
        let positive = |name: &str| u64::try_from(settings.int(name)).ok().filter(|n| *n > 0);
        ScriptConfig {
            enabled: settings.bool("usescriptserver"),
            language: settings.string("scriptlanguage"),
            timeout: positive(TIMEOUT_SETTING).map(Duration::from_millis).unwrap_or(DEFAULT_TIMEOUT),
            max_steps: positive(STEPS_SETTING).unwrap_or(DEFAULT_STEPS),
            max_memory_bytes: positive(MEMORY_SETTING)
                .and_then(|mb| usize::try_from(mb).ok())
                .unwrap_or(DEFAULT_MEMORY_MB)
                .saturating_mul(1024 * 1024),
        }
    }

    /// True for VBScript (`scriptlanguage` is compared without case; empty means VBScript).
    pub fn is_vbscript(&self) -> bool {
        self.language.is_empty() || self.language.eq_ignore_ascii_case("vbscript")
    }

    pub fn limits(&self) -> Limits {
        let max_string = (16 * 1024 * 1024).min(self.max_memory_bytes);
        Limits {
            max_steps: self.max_steps,
            max_duration: self.timeout,
            max_allocated_bytes: self.max_memory_bytes,
            max_string_bytes: max_string,
            ..Limits::default()
        }
    }
}
