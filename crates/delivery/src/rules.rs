//! Rules at delivery, where hMailServer runs them: the global rules (`ruleaccountid` 0) once per
//! delivery attempt of a queued message, before local and remote delivery; an account's rules
//! when a copy is delivered to that account. The evaluation is `altimail-rules`; here the rows
//! are read, and the actions performed: delete, forward, reply, copy, a changed message saved
//! durably, the folder, route and local address recorded for the workers.
//!
//! Local and remote delivery are two workers that may each claim a message with both kinds of
//! recipients; the global rules' decision is recorded with the attempt it was made at
//! (`altimail_rule_results`), so the second worker of the same attempt uses it instead of
//! running the rules (and their forwards and replies) again. Generated mail is queued before
//! that record is written: a crash in between sends it again at the next start (at least once,
//! never lost).

use std::sync::Arc;

use altimail_net::{HmLog, Severity};
use altimail_rules::{Action, ActionColumns, Criterion, Facts, Generated, NoScriptEngine, Outcome, Rule, ScriptEngine};
use altimail_store::files::MessageFiles;
use altimail_store::repo::accounts::Account;
use altimail_store::repo::messages::Message;
use altimail_store::repo::queue::{self as queue_repo, GlobalRuleResult};
use altimail_store::repo::rules as rows;
use altimail_store::repo::settings::Settings;
use altimail_store::{Db, Store, StoreError};

pub use altimail_scripting::Scripts;
use altimail_scripting::{Arg, Event, MessageInfo, MessageObject, ScriptRecipient};

use crate::generated;
use crate::queue::{self, QueuedRecipient};
use crate::settle::{self, Unreachable};
use crate::spool::{NewMessage, Recipient, Spool};

/// The rules of `account_id` (0: the global rules) as the evaluator takes them, in order.
pub async fn load(db: &Db, account_id: i64) -> Result<Vec<Rule>, StoreError> {
    Ok(rows::list(db, account_id).await?.iter().map(from_row).collect())
}

/// A stored rule as the evaluator takes it.
pub fn from_row(r: &rows::Rule) -> Rule {
    let criteria = r
        .criteria
        .iter()
        .map(|c| {
            Criterion::from_codes(c.use_predefined, c.predefined_field, &c.header_name, c.match_type, &c.match_value)
        })
        .collect();
    let actions = r.actions.iter().map(|a| Action::from_codes(&columns(a))).collect();
    Rule::from_codes(r.id, &r.name, r.active, r.use_and, criteria, actions)
}

/// The columns of a stored action that the evaluator reads.
pub fn columns(a: &rows::Action) -> ActionColumns {
    ActionColumns {
        action_type: a.action_type,
        imap_folder: a.imap_folder.clone(),
        subject: a.subject.clone(),
        from_name: a.from_name.clone(),
        from_address: a.from_address.clone(),
        to: a.to.clone(),
        body: a.body.clone(),
        script_function: a.script_function.clone(),
        header: a.header.clone(),
        value: a.value.clone(),
        route_id: a.route_id,
    }
}

/// What the global rules left of a queued message.
#[derive(Debug)]
pub enum Global {
    /// A rule deleted it: its queue rows and file are gone.
    Deleted,
    /// Deliver it: `raw` is the message as it now is (saved), `result` what the rules chose.
    Deliver { raw: Vec<u8>, result: GlobalRuleResult },
}

/// Performs rules' actions; shared by the local and the remote worker.
#[derive(Clone)]
pub struct RuleRunner {
    store: Store,
    spool: Spool,
    log: HmLog,
    scripts: Arc<dyn ScriptEngine>,
    /// The event scripts (OnDeliveryStart, OnDeliverMessage), raised in the same once-per-
    /// message step as the global rules.
    events: Option<Scripts>,
}

impl RuleRunner {
    pub fn new(store: Store, spool: Spool, log: HmLog) -> Self {
        RuleRunner { store, spool, log, scripts: Arc::new(NoScriptEngine), events: None }
    }

    /// The engine "run function" actions call (none by default: such actions are logged).
    pub fn with_script_engine(self, scripts: Arc<dyn ScriptEngine>) -> Self {
        RuleRunner { scripts, ..self }
    }

    /// The event scripts: "run function" actions and the delivery events.
    pub fn with_scripts(self, scripts: Scripts) -> Self {
        RuleRunner { scripts: Arc::new(scripts.clone()), events: Some(scripts), ..self }
    }

    /// Runs the global rules on claimed queued message `message` (file `path`, contents `raw`)
    /// unless they already ran at this attempt; see the module documentation.
    pub async fn global(
        &self,
        settings: &Settings,
        host: &str,
        message: &Message,
        path: &std::path::Path,
        raw: Vec<u8>,
    ) -> Result<Global, StoreError> {
        let db = &self.store.db;
        if let Some(result) = queue_repo::global_rule_result(db, message.id).await?
            && result.attempt == message.tries
        {
            return Ok(Global::Deliver { raw, result });
        }
        let rules = load(db, rows::GLOBAL).await?;
        let attempt = GlobalRuleResult { attempt: message.tries, ..Default::default() };
        let events = self.events.as_ref().filter(|s| {
            s.configure(settings);
            s.handles(Event::OnDeliveryStart) || s.handles(Event::OnDeliverMessage)
        });
        if rules.is_empty() && events.is_none() {
            return Ok(Global::Deliver { raw, result: attempt });
        }
        let recipients = queue::recipients(db, message.id).await?;
        // OnDeliveryStart: the first step of this attempt.
        let raw = match self.delivery_event(Event::OnDeliveryStart, settings, message, path, &recipients, raw).await? {
            Some(raw) => raw,
            None => return Ok(Global::Deleted),
        };
        let facts = Facts {
            recipients: recipients.iter().map(|r| r.address.clone()).collect(),
            delivery_attempts: message.tries + 1,
            loop_limit: settings.int("rulelooplimit"),
        };
        let scripts = self.scripts.clone();
        let input = raw.clone();
        let outcome =
            tokio::task::spawn_blocking(move || altimail_rules::apply(&rules, input, &facts, scripts.as_ref()))
                .await
                .map_err(|e| StoreError::Invalid(format!("rules task failed: {e}")))?;
        let raw = match &outcome.message {
            Some(changed) => {
                // Saved before anything is delivered from it: a crash from here on delivers the
                // changed message.
                MessageFiles::write_durable_async(path.to_path_buf(), changed.clone()).await?;
                changed.clone()
            }
            None => raw,
        };
        self.log_outcome(message.id, "global", &outcome);
        let copy_to: Vec<Recipient> = recipients
            .iter()
            .map(|r| Recipient {
                notify: String::new(),
                orcpt: String::new(),
                ..Recipient::local(&r.address, r.account_id, &r.original)
            })
            .collect();
        self.send_generated(host, &message.from, None, &raw, &outcome.generated, copy_to).await?;
        if let Some(rule) = &outcome.delete {
            self.log.application(&format!(
                "SMTPDeliverer - Message {}: Message deleted by global rule. {rule}",
                message.id
            ));
            queue::remove(db, message.id).await?;
            if let Err(e) = tokio::fs::remove_file(path).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
            return Ok(Global::Deleted);
        }
        // OnDeliverMessage: after the global rules, before local and remote delivery.
        let raw = match self.delivery_event(Event::OnDeliverMessage, settings, message, path, &recipients, raw).await? {
            Some(raw) => raw,
            None => return Ok(Global::Deleted),
        };
        let result = GlobalRuleResult {
            attempt: message.tries,
            imap_folder: outcome.folder.clone().unwrap_or_default(),
            route_id: outcome.route_id.unwrap_or(0),
            bind_address: outcome.bind_address.clone().unwrap_or_default(),
        };
        queue_repo::set_global_rule_result(db, message.id, &result).await?;
        Ok(Global::Deliver { raw, result })
    }

    /// Runs `account`'s rules on its copy `raw` of queued message `message` for recipient `r`;
    /// generated mail is queued here.
    pub async fn account(
        &self,
        settings: &Settings,
        host: &str,
        account: &Account,
        message: &Message,
        r: &QueuedRecipient,
        raw: &[u8],
    ) -> Result<AccountOutcome, StoreError> {
        let db = &self.store.db;
        let rules = load(db, account.id).await?;
        if rules.is_empty() {
            return Ok(AccountOutcome::default());
        }
        let facts = Facts {
            recipients: queue::recipients(db, message.id).await?.into_iter().map(|r| r.address).collect(),
            delivery_attempts: message.tries + 1,
            loop_limit: settings.int("rulelooplimit"),
        };
        let scripts = self.scripts.clone();
        let input = raw.to_vec();
        let outcome =
            tokio::task::spawn_blocking(move || altimail_rules::apply(&rules, input, &facts, scripts.as_ref()))
                .await
                .map_err(|e| StoreError::Invalid(format!("rules task failed: {e}")))?;
        self.log_outcome(message.id, &account.address, &outcome);
        let current = outcome.message.as_deref().unwrap_or(raw);
        let copy_to = vec![Recipient::local(&account.address, account.id, &r.original)];
        self.send_generated(host, &message.from, Some(account), current, &outcome.generated, copy_to).await?;
        if let Some(rule) = &outcome.delete {
            self.log.application(&format!(
                "SMTPDeliverer - Message {}: Message to {} deleted by account rule. {rule}",
                message.id, account.address
            ));
        }
        if outcome.route_id.is_some() || outcome.bind_address.is_some() {
            tracing::debug!("{}: route and bind-address actions apply to global rules only", account.address);
        }
        Ok(AccountOutcome { delete: outcome.delete.is_some(), folder: outcome.folder, message: outcome.message })
    }

    /// OnDeliveryFailed(oMessage, sRecipient, sErrorMessage) for a recipient that failed for
    /// good; what the script returns is ignored.
    pub async fn delivery_failed(&self, message: &Message, raw: &[u8], recipient: &str, error: &str) {
        let Some(scripts) = self.events.as_ref().filter(|s| s.handles(Event::OnDeliveryFailed)) else { return };
        let object = MessageObject::new(MessageInfo {
            id: message.id,
            from_address: message.from.clone(),
            delivery_attempt: message.tries,
            raw: raw.to_vec(),
            ..MessageInfo::default()
        });
        let args = vec![Arg::Message(object), Arg::Text(recipient.to_owned()), Arg::Text(error.to_owned())];
        scripts.fire_as_configured(Event::OnDeliveryFailed, args).await;
    }

    /// Raises a delivery event on the queued message. `None`: the script asked for the message
    /// to be deleted (Result.Value 1), and it is gone, without a bounce. What the script saved
    /// is written durably to the message file before delivery goes on.
    async fn delivery_event(
        &self,
        event: Event,
        settings: &Settings,
        message: &Message,
        path: &std::path::Path,
        recipients: &[QueuedRecipient],
        raw: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(scripts) = self.events.as_ref().filter(|s| s.handles(event)) else { return Ok(Some(raw)) };
        let object = MessageObject::new(MessageInfo {
            id: message.id,
            filename: path.display().to_string(),
            from_address: message.from.clone(),
            recipients: recipients
                .iter()
                .map(|r| ScriptRecipient {
                    address: r.address.clone(),
                    original_address: r.original.clone(),
                    is_local_user: r.account_id != 0,
                })
                .collect(),
            delivery_attempt: message.tries,
            raw: raw.clone(),
        });
        let answer = scripts.fire(settings, event, vec![Arg::Message(object.clone())]).await;
        if answer.is_some_and(|r| r.value == 1) {
            self.log.application(&format!(
                "SMTPDeliverer - Message {}: Message deleted by the {} script.",
                message.id,
                event.name()
            ));
            queue::remove(&self.store.db, message.id).await?;
            if let Err(e) = tokio::fs::remove_file(path).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
            return Ok(None);
        }
        let Some(saved) = object.saved() else { return Ok(Some(raw)) };
        if saved.recipients.is_some() {
            self.log.application(&format!(
                "SMTPDeliverer - Message {}: recipient changes made by {} are not applied at delivery",
                message.id,
                event.name()
            ));
        }
        if saved.raw == raw {
            return Ok(Some(raw));
        }
        MessageFiles::write_durable_async(path.to_path_buf(), saved.raw.clone()).await?;
        Ok(Some(saved.raw))
    }

    fn log_outcome(&self, id: i64, whose: &str, outcome: &Outcome) {
        if !outcome.matched.is_empty() {
            tracing::info!("message {id}: {whose} rules matched: {}", outcome.matched.join(", "));
        }
        for why in &outcome.refused {
            self.log.error(Severity::Medium, 5064, "RuleApplier", &format!("Message {id}: {why}"));
        }
    }

    /// Queues forwards, copies and replies. `account`: whose rule it was (replies then come from
    /// that account's address; a global rule's replies have the null sender).
    async fn send_generated(
        &self,
        host: &str,
        sender: &str,
        account: Option<&Account>,
        raw: &[u8],
        generated: &[Generated],
        copy_to: Vec<Recipient>,
    ) -> Result<(), StoreError> {
        let db = &self.store.db;
        for g in generated {
            let (what, message) = match g {
                Generated::Forward { to, data } => {
                    let recipients = match settle::recipients_for(db, to).await {
                        Ok(r) => r,
                        Err(Unreachable::Temporary(e)) => return Err(e),
                        Err(Unreachable::Permanent(why)) => {
                            tracing::warn!("rule forward to {to} not sent: {why}");
                            continue;
                        }
                    };
                    // A forward of a bounce goes out from the mailer daemon, not the null sender.
                    let from = if sender.is_empty() { format!("mailer-daemon@{host}") } else { sender.to_owned() };
                    let msg = NewMessage { sender: from, recipients, extras: Default::default(), data: data.clone() };
                    (format!("forward to {to}"), msg)
                }
                Generated::Copy { rule, data } => {
                    let msg = NewMessage {
                        sender: sender.to_owned(),
                        recipients: copy_to.clone(),
                        extras: Default::default(),
                        data: data.clone(),
                    };
                    (format!("copy by rule {rule}"), msg)
                }
                Generated::Reply { from_name, from_address, subject, body, loop_count } => {
                    if sender.is_empty() {
                        continue;
                    }
                    let recipients = match settle::recipients_for(db, sender).await {
                        Ok(r) => r,
                        Err(Unreachable::Temporary(e)) => return Err(e),
                        Err(Unreachable::Permanent(why)) => {
                            tracing::warn!("rule reply to {sender} not sent: {why}");
                            continue;
                        }
                    };
                    let data = generated::rule_reply(
                        host,
                        generated::RuleReply {
                            from_name,
                            from_address,
                            to: sender,
                            subject,
                            body,
                            loop_count: *loop_count,
                        },
                        raw,
                    );
                    let from = account.map(|a| a.address.clone()).unwrap_or_default();
                    (
                        format!("reply to {sender}"),
                        NewMessage { sender: from, recipients, extras: Default::default(), data },
                    )
                }
            };
            match self.spool.submit(message).await {
                Ok(id) => tracing::info!("rule {what}: queued as message {id}"),
                Err(e) => {
                    tracing::warn!("rule {what}: not queued: {e}");
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// What an account's rules decided for its copy.
#[derive(Debug, Default)]
pub struct AccountOutcome {
    /// The account gets no copy.
    pub delete: bool,
    /// The folder of its copy (wins over the global rules' folder).
    pub folder: Option<String>,
    /// Its copy as changed by set-header actions.
    pub message: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_rows_become_rules_with_their_meaning() {
        let stored = rows::Rule {
            id: 3,
            account_id: 0,
            name: "r".into(),
            active: true,
            use_and: false,
            sort_order: 1,
            criteria: vec![
                rows::Criterion {
                    use_predefined: true,
                    predefined_field: 4,
                    match_type: 2,
                    match_value: "x".into(),
                    ..Default::default()
                },
                rows::Criterion {
                    use_predefined: false,
                    predefined_field: 4,
                    header_name: "X-Spam".into(),
                    match_type: 5,
                    match_value: "(".into(),
                    ..Default::default()
                },
            ],
            actions: vec![
                rows::Action { action_type: 4, imap_folder: "Junk".into(), ..Default::default() },
                rows::Action { action_type: 7, header: "X-A".into(), value: "v".into(), ..Default::default() },
                rows::Action { action_type: 8, route_id: 9, ..Default::default() },
                rows::Action { action_type: 42, ..Default::default() },
            ],
        };
        let rule = from_row(&stored);
        assert_eq!((rule.id, rule.use_and, rule.active), (3, false, true));
        assert_eq!(rule.criteria[0].field, altimail_rules::Field::Subject);
        assert_eq!(rule.criteria[1].field, altimail_rules::Field::Header("X-Spam".into()));
        assert_eq!(rule.criteria[1].match_type, altimail_rules::MatchType::RegEx);
        assert_eq!(
            rule.actions,
            [
                Action::MoveToFolder("Junk".into()),
                Action::SetHeader { name: "X-A".into(), value: "v".into() },
                Action::SendUsingRoute(9),
                Action::Unknown(42),
            ]
        );
    }
}
