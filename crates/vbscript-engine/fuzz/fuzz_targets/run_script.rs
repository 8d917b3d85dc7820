#![no_main]

use altimail_vbscript::{Engine, Limits, Script};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let limits = Limits {
        max_steps: 20_000,
        max_duration: Duration::from_millis(200),
        max_allocated_bytes: 16 * 1024 * 1024,
        max_string_bytes: 1024 * 1024,
        max_array_elements: 100_000,
        ..Limits::default()
    };
    if let Ok(script) = Script::compile_with(source, &limits) {
        let mut engine = Engine::with_limits(&script, limits);
        let _ = engine.run_main();
    }
});
