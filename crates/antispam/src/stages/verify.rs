//! DKIM signatures and DMARC, computed once per message for the DKIM and DMARC stages and the
//! `Authentication-Results` header.

use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimResult, DmarcResult};

use super::Checker;
use crate::context::{Authentication, Context, DkimCheck, DmarcCheck, dkim_word, dmarc_word};

/// Verifies the DKIM signatures of `ctx.message` and, when DMARC is on, its DMARC policy;
/// keeps the outcome in `ctx.authentication`. Does nothing when already done, when the message
/// was not read (too large) or when there is no resolver.
pub async fn authenticate_message(c: &Checker, ctx: &mut Context) {
    if ctx.authentication.is_some() || ctx.message.is_empty() {
        return;
    }
    let Some(auth) = &c.auth else { return };
    let Some(message) = AuthenticatedMessage::parse(&ctx.message) else {
        ctx.authentication = Some(Authentication::default());
        return;
    };
    let dkim = auth.0.verify_dkim(&message).await;
    let checks = dkim
        .iter()
        .map(|d| DkimCheck {
            result: dkim_word(d.result()),
            domain: d.signature().map(|s| s.d.clone()).unwrap_or_default(),
            selector: d.signature().map(|s| s.s.clone()).unwrap_or_default(),
        })
        .collect();
    let mut dmarc = None;
    if c.settings.dmarc {
        // DMARC needs the SPF result; SPF may be off as a scored test.
        let spf = match &ctx.spf {
            Some(spf) => spf.clone(),
            None => {
                auth.0.verify_spf(SpfParameters::verify_mail_from(ctx.ip, &ctx.helo, &ctx.host_name, &ctx.sender)).await
            }
        };
        let mail_from_domain = ctx.sender_domain().to_owned();
        let output = auth.0.verify_dmarc(DmarcParameters::new(&message, &dkim, &mail_from_domain, &spf)).await;
        let result = output.result();
        dmarc = Some(DmarcCheck {
            result: dmarc_word(&result),
            from_domain: message.from().rsplit_once('@').map_or(message.from(), |(_, d)| d).to_owned(),
            policy: match output.policy() {
                Policy::Reject => "reject",
                Policy::Quarantine => "quarantine",
                Policy::None | Policy::Unspecified => "none",
            },
        });
        if matches!(result, DmarcResult::TempError(_)) {
            tracing::info!("anti-spam: DMARC of {} skipped: temporary DNS error", message.from());
        }
    }
    if dkim.iter().any(|d| matches!(d.result(), DkimResult::TempError(_))) {
        tracing::info!("anti-spam: a DKIM key lookup failed temporarily");
    }
    ctx.authentication = Some(Authentication { dkim: checks, dmarc });
}
