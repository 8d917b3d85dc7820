//! Running rules over a message (hMailServer's `RuleApplier::ApplyRules`).
//!
//! Rules run in the order given (the caller sorts by `rulesortorder`); inactive ones are
//! skipped. A rule matches when all its criteria match (`ruleuseand`) or any one does; a rule
//! without criteria never matches. A matching rule's actions all run, in order; "stop rule
//! processing" ends the evaluation after the rule it is in. A set-header or a script function
//! changes the message at once, so later criteria and generated copies see the change.
//! Generated mail (forward, copy, reply) is refused once `X-hMailServer-LoopCount` has reached
//! the loop limit; a reply also when the message is `Auto-Submitted` (other than "no").

use crate::matching::criterion_matches;
use crate::message::{LOOP_COUNT_HEADER, MessageView, loop_count, raw_header, set_header};
use crate::model::{Action, Field, Rule};
use crate::script::ScriptEngine;

/// What the rules need to know besides the message itself.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The envelope recipients (criterion "recipient list").
    pub recipients: Vec<String>,
    /// Retries so far plus one (criterion "delivery attempts").
    pub delivery_attempts: i64,
    /// The `rulelooplimit` setting.
    pub loop_limit: i64,
}

/// Mail an action asks the caller to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generated {
    /// The message, loop count increased, to `to` (envelope sender unchanged).
    Forward { to: String, data: Vec<u8> },
    /// The message, loop count increased and `X-CopyRule: <rule>` added, to the same recipients
    /// (a global rule: the message's recipients; an account rule: the account).
    Copy { rule: String, data: Vec<u8> },
    /// A new message to the envelope sender, built by the caller from these columns; its
    /// `X-hMailServer-LoopCount` is to be `loop_count`.
    Reply { from_name: String, from_address: String, subject: String, body: String, loop_count: i64 },
}

/// What the rules decided; the caller performs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The message is not to be delivered: names the rule ("Rule name: X, ID: n").
    pub delete: Option<String>,
    /// Deliver into this folder instead of the INBOX (the last move wins).
    pub folder: Option<String>,
    /// Send remote recipients through this route.
    pub route_id: Option<i64>,
    /// Connect from this local address for remote delivery.
    pub bind_address: Option<String>,
    /// The message as changed by set-header actions or scripts; `None` when unchanged.
    pub message: Option<Vec<u8>>,
    /// Mail to send, in the order the actions asked for it.
    pub generated: Vec<Generated>,
    /// Actions that were refused and why (loop limit, no recipient), for the log.
    pub refused: Vec<String>,
    /// The names of the rules that matched, in order.
    pub matched: Vec<String>,
}

/// Runs `rules` over the message `raw`; see the module documentation.
pub fn apply(rules: &[Rule], raw: Vec<u8>, facts: &Facts, scripts: &dyn ScriptEngine) -> Outcome {
    let mut run = Run { message: raw, changed: false, outcome: Outcome::default() };
    for rule in rules.iter().filter(|r| r.active) {
        if !run.matches(rule, facts) {
            continue;
        }
        run.outcome.matched.push(rule.name.clone());
        let mut stop = false;
        for action in &rule.actions {
            stop |= run.perform(rule, action, facts, scripts);
        }
        if stop {
            break;
        }
    }
    let mut outcome = run.outcome;
    if run.changed {
        outcome.message = Some(run.message);
    }
    outcome
}

struct Run {
    message: Vec<u8>,
    changed: bool,
    outcome: Outcome,
}

impl Run {
    fn matches(&self, rule: &Rule, facts: &Facts) -> bool {
        if rule.criteria.is_empty() {
            return false;
        }
        let view = MessageView::new(&self.message);
        let mut test = rule.criteria.iter().map(|c| criterion_matches(c, &field_value(&view, &c.field, facts)));
        if rule.use_and { test.all(|m| m) } else { test.any(|m| m) }
    }

    /// Performs one action; true when it stops rule processing.
    fn perform(&mut self, rule: &Rule, action: &Action, facts: &Facts, scripts: &dyn ScriptEngine) -> bool {
        let count = loop_count(&self.message);
        let loop_reached = count >= facts.loop_limit;
        match action {
            Action::Delete => self.outcome.delete = Some(format!("Rule name: {}, ID: {}", rule.name, rule.id)),
            Action::MoveToFolder(folder) => self.outcome.folder = Some(folder.clone()),
            Action::SendUsingRoute(id) => self.outcome.route_id = Some(*id),
            Action::BindToAddress(ip) => self.outcome.bind_address = Some(ip.clone()),
            Action::StopRuleProcessing => return true,
            Action::Forward { to } => {
                if loop_reached {
                    self.refuse(rule, "could not forward message: maximum rule loop count reached");
                } else if to.trim().is_empty() {
                    self.refuse(rule, "could not forward message: empty recipient address");
                } else {
                    let data = set_header(&self.message, LOOP_COUNT_HEADER, &(count + 1).to_string());
                    self.outcome.generated.push(crate::Generated::Forward { to: to.trim().to_owned(), data });
                }
            }
            Action::CreateCopy => {
                if loop_reached {
                    self.refuse(rule, "could not copy message: maximum rule loop count reached");
                } else {
                    let data = set_header(&self.message, LOOP_COUNT_HEADER, &(count + 1).to_string());
                    let data = set_header(&data, "X-CopyRule", &rule.name);
                    self.outcome.generated.push(Generated::Copy { rule: rule.name.clone(), data });
                }
            }
            Action::Reply { from_name, from_address, subject, body } => {
                if loop_reached || auto_submitted(&self.message) {
                    self.refuse(rule, "could not reply to message: maximum rule loop count reached or Auto-Submitted");
                } else {
                    self.outcome.generated.push(Generated::Reply {
                        from_name: from_name.clone(),
                        from_address: from_address.clone(),
                        subject: subject.clone(),
                        body: body.clone(),
                        loop_count: count + 1,
                    });
                }
            }
            Action::SetHeader { name, value } => {
                let original = raw_header(&self.message, name);
                let value = value.replace("%MACRO_ORIGINAL_HEADER%", &original);
                self.message = set_header(&self.message, name, &value);
                self.changed = true;
            }
            Action::RunFunction(function) => {
                if let Some(changed) = scripts.run_function(function, &self.message) {
                    self.message = changed;
                    self.changed = true;
                }
            }
            Action::Unknown(code) => {
                tracing::debug!("rule {}: action type {code} is unknown and ignored", rule.name);
            }
        }
        false
    }

    fn refuse(&mut self, rule: &Rule, why: &str) {
        self.outcome.refused.push(format!("rule {}: {why}", rule.name));
    }
}

/// `Auto-Submitted` set to anything but "no".
fn auto_submitted(raw: &[u8]) -> bool {
    let v = raw_header(raw, "Auto-Submitted");
    !v.is_empty() && !v.eq_ignore_ascii_case("no")
}

/// The value a criterion on `field` tests.
fn field_value(view: &MessageView<'_>, field: &Field, facts: &Facts) -> String {
    match field {
        Field::From => view.header("From"),
        Field::To => view.header("To"),
        Field::Cc => view.header("CC"),
        Field::Subject => view.header("Subject"),
        Field::Body => view.body().to_owned(),
        Field::MessageSize => view.size().to_string(),
        Field::RecipientList => facts.recipients.join(";"),
        Field::DeliveryAttempts => facts.delivery_attempts.to_string(),
        Field::Header(name) => view.header(name),
        Field::Unknown(_) => String::new(),
    }
}
