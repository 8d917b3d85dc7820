//! DMARC (RFC 7489) with the SPF and DKIM results and the From domain: a failure under
//! `p=quarantine` adds `altimaildmarcscore` and marks the message; under `p=reject` it adds
//! the score or refuses the message (`altimaildmarcreject`); under `p=none` it is only noted.

use super::{Checker, StageFuture, verify::authenticate_message};
use crate::context::Context;
use crate::score::Finding;
use crate::settings::DmarcRejectAction;

pub(super) fn run<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if !c.settings.dmarc {
            return;
        }
        authenticate_message(c, ctx).await;
        let Some(dmarc) = ctx.authentication.as_ref().and_then(|a| a.dmarc.clone()) else {
            return ctx.note("DMARC", "skipped");
        };
        if dmarc.result != "fail" {
            return ctx.note("DMARC", dmarc.result);
        }
        let reason = format!("Rejected by DMARC. ({} policy {})", dmarc.from_domain, dmarc.policy);
        let score = c.settings.dmarc_score;
        match dmarc.policy {
            "reject" if c.settings.dmarc_reject == DmarcRejectAction::Refuse => {
                ctx.refusal = Some(reason);
                ctx.note("DMARC", "fail(reject)");
            }
            "reject" | "quarantine" => {
                ctx.tally.add(Finding::new("DMARC", score, reason));
                ctx.force_mark = dmarc.policy == "quarantine";
                ctx.note("DMARC", format!("fail({score})"));
            }
            _ => ctx.note("DMARC", "fail(policy none)"),
        }
    })
}
