//! The anti-spam tests in the SMTP path (hMailServer's rules): they apply when the client's IP
//! range has the anti-spam bit, the client is not authenticated and it is not white-listed
//! (`hm_whitelist`). The pre-transmission tests run when the body is about to come (DATA, or
//! the first BDAT chunk), refusing with `550`; the post-transmission tests run at its end,
//! before it is stored, refusing with `554` (a DMARC `p=reject` refusal is `550 5.7.1`). Nothing
//! is accepted and bounced later. A DNS failure never refuses mail: that test is skipped.
//!
//! Accepted mail gets `Authentication-Results` (when SPF, DKIM or DMARC is checked), loses any
//! such header naming our host, and at the mark threshold gets hMailServer's spam headers and
//! subject prefix. A body streamed to its file (over 1 MiB) is tested from that file at its end
//! when it is within `antispammaxsize` (read back whole: memory stays within that setting), and
//! the file is written again with the header edits; a larger one skips the post-transmission
//! tests, as hMailServer does, and only its head is rewritten ([`check_file`]).
//!
//! Greylisting is decided per RCPT under the same conditions ([`greylist`]); for the null sender
//! its refusal comes after DATA, as in hMailServer. When SpamAssassin
//! ran, the message stored is spamd's processed one, with the header edits applied to it.

use std::sync::Arc;

use altimail_antispam::auth::Authenticator;
use altimail_antispam::greylist::{self, Decision, Policy, Request};
use altimail_antispam::headers::{Edits, authentication_results, spam_headers};
use altimail_antispam::{AntiSpamSettings, Checker, Context, Outcome, POST_TRANSMISSION, PRE_TRANSMISSION};
use altimail_delivery::{Spool, SpoolFile};
use altimail_dns::Dns;
use altimail_net::{Connection, Severity};
use altimail_store::Store;
use altimail_store::repo::settings::Settings;
use altimail_store::repo::whitelist;
use tokio::io::AsyncReadExt;

use crate::proto::Reply;

/// What the SMTP service needs for the tests besides the settings.
#[derive(Clone)]
pub struct AntiSpam {
    /// The server's one resolver.
    pub dns: Arc<dyn Dns>,
    /// SPF/DKIM/DMARC (over the resolver behind `dns`, see `altimail_antispam::auth`).
    pub auth: Option<Authenticator>,
}

impl AntiSpam {
    /// The tests with the settings (and DNS block lists) of one session.
    pub async fn checker(&self, store: &Store, settings: &Settings) -> Checker {
        let dnsbl = altimail_store::repo::dnsbl::active(&store.db).await.unwrap_or_else(|e| {
            tracing::error!("anti-spam: DNS block lists unavailable, not checked: {e}");
            Vec::new()
        });
        let surbl = altimail_store::repo::surbl::active(&store.db).await.unwrap_or_else(|e| {
            tracing::error!("anti-spam: URI block lists unavailable, not checked: {e}");
            Vec::new()
        });
        Checker {
            settings: AntiSpamSettings::from_settings(settings),
            dns: self.dns.clone(),
            auth: self.auth.clone(),
            dnsbl,
            surbl,
            db: Some(store.db.clone()),
            bayes: Some(altimail_antispam::bayes::BayesSettings::from_settings(settings)),
        }
    }
}

/// The anti-spam state of one transaction.
pub(super) struct SpamState {
    pub(super) ctx: Context,
    /// False when white-listed: headers only, no tests.
    pub(super) tested: bool,
}

/// What greylisting says about a recipient it lets through at RCPT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Greylisted {
    /// Not greylisted (passed, bypassed, or greylisting does not apply).
    No,
    /// A null sender's recipient that is greylisted: accepted at RCPT, the message is answered
    /// with [`after_data_reply`] once its body has come.
    AfterData,
}

/// The reply to the end of a null sender's message that had a greylisted recipient.
pub(super) fn after_data_reply() -> Reply {
    let (code, text) = greylist::reply(true);
    Reply::new(code, None, text)
}

/// Greylisting for one recipient that resolved (hMailServer decides it per RCPT, for local
/// domains with greylisting on). The caller has checked the range's anti-spam bit and that the
/// client is not authenticated; a client white-listed in `hm_whitelist` is not greylisted.
/// With `BypassGreylistingOnSPFSuccess` the SPF result is asked for at the first recipient that
/// needs it and kept in `ctx`, where the SPF stage before the body finds it. A database failure
/// is logged and lets the recipient through.
///
/// A deferred recipient gets `451` at RCPT, except for the null sender: as in hMailServer a
/// bounce is not refused recipient by recipient (a sender may give up on a bounce whose RCPT
/// failed); its RCPT is accepted and the message is answered `450` after DATA
/// ([`Greylisted::AfterData`]).
#[allow(clippy::too_many_arguments)]
pub(super) async fn greylist(
    store: &Store,
    conn: &Connection,
    checker: &Checker,
    policy: &Policy,
    ctx: &mut Option<Context>,
    host: &str,
    helo: &str,
    sender: &str,
    recipient: &str,
) -> Result<Greylisted, Reply> {
    let db_error = |e: altimail_store::StoreError| -> Result<Greylisted, Reply> {
        conn.log.error(Severity::Medium, 5014, "SMTPD", &format!("greylisting unavailable, not applied: {e}"));
        Ok(Greylisted::No)
    };
    match greylist::applies(&store.db, policy, recipient).await {
        Ok(true) => {}
        Ok(false) => return Ok(Greylisted::No),
        Err(e) => return db_error(e),
    }
    match whitelist::matches(&store.db, conn.peer_ip(), sender).await {
        Ok(false) => {}
        Ok(true) => return Ok(Greylisted::No),
        Err(e) => return db_error(e),
    }
    let ctx = ctx.get_or_insert_with(|| Context::new(conn.peer_ip(), helo, sender, host));
    if policy.bypass_on_spf_pass {
        altimail_antispam::stages::check_spf(checker, ctx).await;
    }
    let request = Request { client: conn.peer_ip(), sender, recipient, spf_pass: ctx.spf_passed() };
    let decision = greylist::decide(&store.db, &*checker.dns, policy, &request, altimail_core::time::now_local()).await;
    match decision {
        Ok(Decision::Defer) => {
            let null_sender = sender.is_empty();
            conn.log.application(&format!(
                "SMTPD - Greylisting: {} from {} to {recipient} deferred{}",
                conn.peer_ip(),
                if null_sender { "<>" } else { sender },
                if null_sender { " (answered after DATA)" } else { "" }
            ));
            if null_sender {
                return Ok(Greylisted::AfterData);
            }
            let (code, text) = greylist::reply(false);
            Err(Reply::new(code, None, text))
        }
        Ok(Decision::Pass | Decision::Skipped(_)) => Ok(Greylisted::No),
        Err(e) => db_error(e),
    }
}

/// Before the body: `Ok(None)` when the tests do not apply (authenticated client). `seed` is
/// the context started at RCPT time (greylisting's SPF result), when there is one.
#[allow(clippy::too_many_arguments)]
pub(super) async fn before_data(
    store: &Store,
    conn: &Connection,
    checker: &Checker,
    host: &str,
    helo: &str,
    sender: &str,
    authenticated: bool,
    seed: Option<Context>,
) -> Result<Option<SpamState>, Reply> {
    if authenticated {
        return Ok(None);
    }
    let mut ctx = seed.unwrap_or_else(|| Context::new(conn.peer_ip(), helo, sender, host));
    let listed = match whitelist::matches(&store.db, conn.peer_ip(), sender).await {
        Ok(listed) => listed,
        Err(e) => {
            conn.log.error(Severity::Medium, 5014, "SMTPD", &format!("white list unavailable, tests run: {e}"));
            false
        }
    };
    if listed {
        conn.log.application(&format!("SMTPD - Anti-spam: {sender} from {} is white-listed", conn.peer_ip()));
        return Ok(Some(SpamState { ctx, tested: false }));
    }
    altimail_antispam::stages::run(PRE_TRANSMISSION, checker, &mut ctx).await;
    match ctx.outcome(&checker.settings.thresholds) {
        Outcome::Refuse(text) | Outcome::RefusePolicy(text) => {
            altimail_core::stats::count(altimail_core::stats::Counter::Spam);
            conn.log.application(&format!("SMTPD - {} - refused before data", ctx.status_line()));
            Err(Reply::new(550, Some((5, 7, 1)), text))
        }
        Outcome::Pass | Outcome::Mark => Ok(Some(SpamState { ctx, tested: true })),
    }
}

/// After the body (held in memory): runs the post-transmission tests unless the message is
/// larger than `antispammaxsize`, logs the status line and gives the header edits, or the
/// refusal.
pub(super) async fn after_data(
    conn: &Connection,
    checker: &Checker,
    state: &mut SpamState,
    body: &[u8],
) -> Result<Edits, Reply> {
    if state.tested && (body.len() as u64) <= checker.settings.max_size {
        state.ctx.message = body.to_vec();
        altimail_antispam::stages::run(POST_TRANSMISSION, checker, &mut state.ctx).await;
        state.ctx.message = Vec::new();
        for text in std::mem::take(&mut state.ctx.errors) {
            conn.log.error(Severity::Medium, 5508, "SMTPD", &text);
        }
    }
    let mut edits = finish(conn, checker, state, "after data")?;
    // The message to store is spamd's processed one, when SpamAssassin ran.
    edits.replacement = state.ctx.replacement.take();
    Ok(edits)
}

/// The header edits for the transaction's state so far, with the status line logged; a
/// refusal when the outcome is one.
pub(super) fn finish(conn: &Connection, checker: &Checker, state: &SpamState, when: &str) -> Result<Edits, Reply> {
    let ctx = &state.ctx;
    let outcome = if state.tested { ctx.outcome(&checker.settings.thresholds) } else { Outcome::Pass };
    if state.tested {
        conn.log.application(&format!("SMTPD - {} - {when}", ctx.status_line()));
    }
    let s = &checker.settings;
    let mut edits = Edits { strip_results_of: Some(ctx.host_name.clone()), ..Edits::default() };
    if s.spf || s.dkim_verify || s.dmarc {
        edits.prefix.push_str(&authentication_results(ctx));
    }
    if !matches!(outcome, Outcome::Pass) {
        altimail_core::stats::count(altimail_core::stats::Counter::Spam);
    }
    match outcome {
        Outcome::Refuse(text) => return Err(Reply::new(554, Some((5, 7, 1)), text)),
        Outcome::RefusePolicy(text) => return Err(Reply::new(550, Some((5, 7, 1)), text)),
        Outcome::Mark => {
            edits.prefix.push_str(&spam_headers(s, ctx));
            if s.prepend_subject {
                edits.subject_prefix = Some(s.prepend_subject_text.clone());
            }
        }
        Outcome::Pass => {}
    }
    Ok(edits)
}

/// Where a streamed body's file is cut: the trace headers the server wrote first, then the head
/// of the body as it was when streaming began (its header section, unless that is larger).
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamSplit {
    pub(super) trace_len: u64,
    pub(super) head_len: u64,
}

/// Copy size when rewriting a streamed file.
const COPY_CHUNK: usize = 64 * 1024;

/// The post-transmission tests for a body streamed to `file` without its header edits: within
/// `antispammaxsize` the body is read back and tested as one held in memory ([`after_data`]),
/// and the file is written again with the edits (or spamd's processed message); over it, the
/// tests are skipped and only the head is rewritten with the edits so far, the rest copied in
/// chunks. A refusal drops the file (it is removed with `file`).
pub(super) async fn check_file(
    spool: &Spool,
    conn: &Connection,
    checker: &Checker,
    state: &mut SpamState,
    split: StreamSplit,
    mut file: SpoolFile,
) -> Result<SpoolFile, Reply> {
    let saving = |e: &dyn std::fmt::Display| {
        conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
        super::not_saved()
    };
    file.finish().await.map_err(|e| saving(&e))?;
    let body_len = file.size().saturating_sub(split.trace_len);
    let mut source = tokio::fs::File::open(file.path()).await.map_err(|e| saving(&e))?;
    let mut out = vec![0u8; usize::try_from(split.trace_len).map_err(|e| saving(&e))?];
    source.read_exact(&mut out).await.map_err(|e| saving(&e))?;
    if body_len <= checker.settings.max_size {
        let mut body = Vec::with_capacity(usize::try_from(body_len).unwrap_or(0));
        source.read_to_end(&mut body).await.map_err(|e| saving(&e))?;
        let edits = after_data(conn, checker, state, &body).await?;
        out.extend_from_slice(&edits.apply(&body));
        return spool.create_file(out).await.map_err(|e| saving(&e));
    }
    tracing::debug!("streamed message of {body_len} octets is over antispammaxsize: post-transmission tests skipped");
    let edits = finish(conn, checker, state, "streamed")?;
    let mut head = vec![0u8; usize::try_from(split.head_len.min(body_len)).map_err(|e| saving(&e))?];
    source.read_exact(&mut head).await.map_err(|e| saving(&e))?;
    out.extend_from_slice(&edits.apply(&head));
    drop(head);
    let mut rewritten = spool.create_file(out).await.map_err(|e| saving(&e))?;
    let mut chunk = vec![0u8; COPY_CHUNK];
    loop {
        let n = source.read(&mut chunk).await.map_err(|e| saving(&e))?;
        if n == 0 {
            break;
        }
        rewritten.append(chunk.get(..n).unwrap_or_default()).await.map_err(|e| saving(&e))?;
    }
    Ok(rewritten)
}
