//! DKIM verification (`ASDKIMVerificationEnabled`): a message whose signatures all fail
//! verification (none passes) gets `ASDKIMVerificationFailureScore`, with hMailServer's text
//! `Rejected by DKIM.`. Unsigned mail and keys that cannot be fetched for now are not scored.

use super::{Checker, StageFuture, verify::authenticate_message};
use crate::context::Context;
use crate::score::Finding;

/// hMailServer's reason text for a failed DKIM verification.
pub const REASON: &str = "Rejected by DKIM.";

pub(super) fn run<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if !c.settings.dkim_verify {
            return;
        }
        authenticate_message(c, ctx).await;
        let Some(auth) = &ctx.authentication else { return ctx.note("DKIM", "skipped") };
        let passed = auth.dkim.iter().any(|d| d.result == "pass");
        let failed = auth.dkim.iter().any(|d| matches!(d.result, "fail" | "permerror"));
        let word = if auth.dkim.is_empty() {
            "none"
        } else if passed {
            "pass"
        } else if failed {
            "fail"
        } else {
            auth.dkim.first().map_or("none", |d| d.result)
        };
        if failed && !passed {
            let score = c.settings.dkim_score;
            ctx.tally.add(Finding::new("DKIM", score, REASON));
            ctx.note("DKIM", format!("fail({score})"));
        } else {
            ctx.note("DKIM", word);
        }
    })
}
