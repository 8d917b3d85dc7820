//! SpamAssassin (`spamassassinenabled`): the message goes to spamd; a spam verdict adds
//! `spamassassinscore` (or SpamAssassin's own score with `spamassassinmergescore`), and the
//! message stored is spamd's processed one, with its `X-Spam-*` headers. When spamd cannot be
//! reached or does not answer in time, hMailServer's error text goes to the error log and the
//! message goes on unscored.

use std::time::Duration;

use super::{Checker, StageFuture};
use crate::context::Context;
use crate::spamassassin::SpamAssassin;

/// How long spamd may take for the connect, each write and each read.
const TIMEOUT: Duration = Duration::from_secs(90);

pub(super) fn run<'a>(c: &'a Checker, ctx: &'a mut Context) -> StageFuture<'a> {
    Box::pin(async move {
        let s = &c.settings;
        if !s.spamassassin || ctx.message.is_empty() {
            return;
        }
        let host = s.spamassassin_host.trim();
        let sa = SpamAssassin {
            host: if host.is_empty() { "127.0.0.1".to_owned() } else { host.to_owned() },
            port: if s.spamassassin_port == 0 { 783 } else { s.spamassassin_port },
            score: s.spamassassin_score,
            merge_score: s.spamassassin_merge,
            max_size_kb: s.max_size / 1024,
            timeout: TIMEOUT,
        };
        match sa.check(&ctx.message, &ctx.sender).await {
            Ok(Some(result)) => {
                match result.finding(&sa) {
                    Some(f) => {
                        ctx.note("SpamAssassin", format!("spam({})", f.score));
                        ctx.tally.add(f);
                    }
                    None => ctx.note("SpamAssassin", "clean"),
                }
                ctx.replacement = Some(result.message);
            }
            Ok(None) => ctx.note("SpamAssassin", "skipped (too large)"),
            Err(e) => {
                let text = e.log_text();
                tracing::warn!("anti-spam: {text}");
                ctx.errors.push(text);
                ctx.note("SpamAssassin", "error(skipped)");
            }
        }
    })
}
