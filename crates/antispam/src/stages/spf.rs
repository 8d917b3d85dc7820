//! SPF (RFC 7208) of the MAIL FROM identity: hMailServer scores only `fail` (not softfail),
//! with `usespfscore` and the text `Blocked by SPF. (<explanation>)`.

use mail_auth::SpfResult;
use mail_auth::spf::verify::SpfParameters;

use super::{Checker, StageFuture};
use crate::context::{Context, spf_word};
use crate::score::Finding;

/// Asks for the SPF result of the transaction unless it is already known (greylisting's bypass
/// on SPF pass may have asked at RCPT time): the result is kept in [`Context::spf`], so it is
/// asked for once per transaction. Scores nothing; the SPF stage does.
pub async fn check(c: &Checker, ctx: &mut Context) {
    if ctx.spf.is_some() {
        return;
    }
    let Some(auth) = &c.auth else { return };
    let params = SpfParameters::verify_mail_from(ctx.ip, &ctx.helo, &ctx.host_name, &ctx.sender);
    ctx.spf = Some(auth.0.verify_spf(params).await);
}

pub(super) fn run<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if !c.settings.spf {
            return;
        }
        if c.auth.is_none() && ctx.spf.is_none() {
            return ctx.note("SPF", "skipped (no resolver)");
        }
        check(c, ctx).await;
        let Some(output) = ctx.spf.take() else { return };
        match output.result() {
            SpfResult::Fail => {
                let explanation = output
                    .explanation()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{} is not allowed to send mail for {}", ctx.ip, output.domain()));
                let score = c.settings.spf_score;
                ctx.tally.add(Finding::new("SPF", score, format!("Blocked by SPF. ({explanation})")));
                ctx.note("SPF", format!("fail({score})"));
            }
            SpfResult::TempError => {
                tracing::info!("anti-spam: SPF of {} skipped: temporary DNS error", output.domain());
                ctx.note("SPF", "temperror(skipped)");
            }
            other => ctx.note("SPF", spf_word(other)),
        }
        ctx.spf = Some(output);
    })
}
