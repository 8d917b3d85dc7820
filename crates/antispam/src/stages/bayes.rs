//! The Bayesian score (`altimailbayesenabled`): the message is scored against what the filter
//! learnt (the first local recipient's domain's table with `altimailbayesperdomain`, else the
//! global one); at `altimailbayesthreshold` it adds `altimailbayesscore`. A database failure is
//! logged and the message goes on unscored.

use super::{Checker, StageFuture};
use crate::bayes::{TEST_NAME, score};
use crate::context::Context;

pub(super) fn run<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        let (Some(db), Some(settings)) = (&c.db, &c.bayes) else { return };
        if !settings.enabled || ctx.message.is_empty() {
            return;
        }
        match score(db, settings, ctx.domain_id.unwrap_or(0), &ctx.message).await {
            Ok(Some(f)) => {
                ctx.note(TEST_NAME, format!("spam({})", f.score));
                ctx.tally.add(f);
            }
            Ok(None) => ctx.note(TEST_NAME, "pass"),
            Err(e) => {
                ctx.errors.push(format!("The Bayesian filter could not score the message: {e}"));
                ctx.note(TEST_NAME, "error(skipped)");
            }
        }
    })
}
