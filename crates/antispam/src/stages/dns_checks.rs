//! The DNS tests of `checks/` as pre-transmission stages: DNSBL (`hm_dnsbl` rows, read with
//! the session's settings into [`Checker::dnsbl`]), HELO host, PTR and sender MX; SURBL
//! (`hm_surblservers`) after the body.

use super::{Checker, StageFuture};
use crate::checks;
use crate::context::Context;
use crate::score::Finding;

fn record(ctx: &mut Context, test: &str, finding: Option<Finding>) {
    match finding {
        Some(f) => {
            ctx.note(test, format!("fail({})", f.score));
            ctx.tally.add(f);
        }
        None => ctx.note(test, "pass"),
    }
}

pub(super) fn dnsbl<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if c.dnsbl.iter().all(|l| !l.active) {
            return;
        }
        let findings = checks::dnsbl::check(&*c.dns, ctx.ip, &c.dnsbl).await;
        if findings.is_empty() {
            ctx.note("DNSBL", "pass");
        }
        for f in findings {
            ctx.note("DNSBL", format!("fail({})", f.score));
            ctx.tally.add(f);
        }
    })
}

/// Post-transmission: the domains of links in the message against `hm_surblservers`.
pub(super) fn surbl<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if ctx.message.is_empty() || c.surbl.iter().all(|l| !l.active) {
            return;
        }
        let findings = checks::surbl::check(&*c.dns, &ctx.message, &c.surbl, Default::default()).await;
        if findings.is_empty() {
            ctx.note("SURBL", "pass");
        }
        for f in findings {
            ctx.note("SURBL", format!("fail({})", f.score));
            ctx.tally.add(f);
        }
    })
}

pub(super) fn helo<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if c.settings.helo_check {
            let f = checks::helo::check(&*c.dns, &ctx.helo, ctx.ip, i64::from(c.settings.helo_score)).await;
            record(ctx, "HELO", f);
        }
    })
}

pub(super) fn ptr<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if c.settings.ptr_check {
            let f = checks::ptr::check(&*c.dns, ctx.ip, i64::from(c.settings.ptr_score)).await;
            record(ctx, "PTR", f);
        }
    })
}

pub(super) fn mx<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        if c.settings.mx_check {
            let f = checks::mx::check(&*c.dns, &ctx.sender, i64::from(c.settings.mx_score)).await;
            record(ctx, "MX", f);
        }
    })
}
