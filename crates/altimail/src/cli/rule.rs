//! `altimail rule …` (hm_rules, hm_rule_criterias, hm_rule_actions): global rules (applied to
//! every message before delivery) and an account's rules (applied to its copies), with their
//! criteria and actions.

use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use altimail_delivery::rules::{columns, from_row};
use altimail_rules::{Action as RuleAction, Field, MatchType};
use altimail_store::Store;
use altimail_store::repo::accounts;
use altimail_store::repo::rules::{self, Action, Criterion, Direction, GLOBAL, Rule};

use super::output::{Output, yes_no};

#[derive(Debug, Subcommand)]
pub enum RuleCmd {
    /// List the global rules, or an account's, in the order they run.
    List {
        /// The account whose rules to list (default: the global rules).
        #[arg(long)]
        account: Option<String>,
    },
    /// Show a rule with its criteria and actions.
    Show {
        /// The rule's id (as `rule list` shows it).
        id: i64,
    },
    /// Add a rule at the end of the list; then add criteria and actions to it.
    Add {
        /// The rule's name.
        name: String,
        /// The account the rule belongs to (default: a global rule).
        #[arg(long)]
        account: Option<String>,
        /// Match when any criterion matches (default: all must match).
        #[arg(long)]
        any: bool,
        /// Add it switched off.
        #[arg(long)]
        inactive: bool,
    },
    /// Change a rule's name, whether it is on, and whether all or any criteria must match.
    Set {
        /// The rule's id.
        id: i64,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// Switch the rule on (true) or off (false).
        #[arg(long)]
        active: Option<bool>,
        /// "all" or "any" criteria must match.
        #[arg(long, value_enum)]
        matching: Option<Matching>,
    },
    /// Delete a rule with its criteria and actions.
    Remove {
        /// The rule's id.
        id: i64,
    },
    /// Move a rule one place up or down in its list.
    Move {
        /// The rule's id.
        id: i64,
        /// up or down.
        direction: Way,
    },
    /// A rule's criteria.
    #[command(subcommand)]
    Criterion(CriterionCmd),
    /// A rule's actions.
    #[command(subcommand)]
    Action(ActionCmd),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Matching {
    All,
    Any,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Way {
    Up,
    Down,
}

impl From<Way> for Direction {
    fn from(w: Way) -> Self {
        match w {
            Way::Up => Direction::Up,
            Way::Down => Direction::Down,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CriterionCmd {
    /// Add a criterion: FIELD is from, to, cc, subject, body, size, recipients, attempts or
    /// header:NAME; MATCH is equals, not-equals, contains, not-contains, less-than,
    /// greater-than, wildcard or regex.
    Add {
        /// The rule's id.
        rule: i64,
        /// What is compared: from, to, cc, subject, body, size, recipients, attempts or header:NAME.
        field: String,
        /// How: equals, not-equals, contains, not-contains, less-than, greater-than, wildcard or regex.
        r#match: String,
        /// What it is compared with.
        value: String,
    },
    /// Delete a criterion (its id as `rule show` lists it).
    Remove {
        /// The criterion's id.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActionCmd {
    /// Add an action at the end of a rule's actions.
    Add {
        /// The rule's id.
        rule: i64,
        #[command(subcommand)]
        kind: ActionKind,
    },
    /// Delete an action (its id as `rule show` lists it).
    Remove {
        /// The action's id.
        id: i64,
    },
    /// Move an action one place up or down among its rule's actions.
    Move {
        /// The action's id.
        id: i64,
        /// up or down.
        direction: Way,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ActionKind {
    /// Do not deliver the message (a global rule: to anyone; an account rule: to the account).
    Delete,
    /// Send a copy to an address.
    Forward {
        /// The address the copy goes to.
        to: String,
    },
    /// Answer the sender.
    Reply {
        /// The reply's sender address.
        #[arg(long)]
        from_address: String,
        /// The reply's sender name.
        #[arg(long, default_value = "")]
        from_name: String,
        /// The reply's subject.
        #[arg(long, default_value = "")]
        subject: String,
        /// The reply's text.
        #[arg(long, default_value = "")]
        body: String,
    },
    /// Deliver into an IMAP folder (levels joined by the hierarchy delimiter, e.g. INBOX.Spam),
    /// created when missing.
    Move {
        /// The folder's path, e.g. INBOX.Spam.
        folder: String,
    },
    /// Call a function of the event script with the message.
    RunFunction {
        /// The function's name in the event script.
        function: String,
    },
    /// Evaluate no further rule.
    Stop,
    /// Set a header; %MACRO_ORIGINAL_HEADER% stands for its value before.
    SetHeader {
        /// The header's name.
        header: String,
        /// Its new value.
        value: String,
    },
    /// Deliver remote recipients through a route (its id).
    Route {
        /// The route's id.
        route: i64,
    },
    /// Send a copy to the same recipients, marked with X-CopyRule.
    Copy,
    /// Connect from this local IP address for remote delivery.
    Bind {
        /// The local IP address.
        address: String,
    },
}

impl ActionKind {
    fn to_action(&self) -> RuleAction {
        match self.clone() {
            ActionKind::Delete => RuleAction::Delete,
            ActionKind::Forward { to } => RuleAction::Forward { to },
            ActionKind::Reply { from_address, from_name, subject, body } => {
                RuleAction::Reply { from_name, from_address, subject, body }
            }
            ActionKind::Move { folder } => RuleAction::MoveToFolder(folder),
            ActionKind::RunFunction { function } => RuleAction::RunFunction(function),
            ActionKind::Stop => RuleAction::StopRuleProcessing,
            ActionKind::SetHeader { header, value } => RuleAction::SetHeader { name: header, value },
            ActionKind::Route { route } => RuleAction::SendUsingRoute(route),
            ActionKind::Copy => RuleAction::CreateCopy,
            ActionKind::Bind { address } => RuleAction::BindToAddress(address),
        }
    }
}

async fn account_id(store: &Store, account: Option<&str>) -> anyhow::Result<i64> {
    match account {
        None => Ok(GLOBAL),
        Some(a) => Ok(accounts::find(&store.db, a).await?.ok_or_else(|| anyhow!("no account {a}"))?.id),
    }
}

async fn require(store: &Store, id: i64) -> anyhow::Result<Rule> {
    rules::get(&store.db, id).await?.ok_or_else(|| anyhow!("no rule {id} (see `altimail rule list`)"))
}

/// A criterion as listed.
#[derive(Debug, Serialize)]
struct CriterionView {
    id: i64,
    field: String,
    r#match: String,
    value: String,
}

/// An action as listed.
#[derive(Debug, Serialize)]
struct ActionView {
    id: i64,
    action: String,
}

/// A rule as `show` prints it.
#[derive(Debug, Serialize)]
struct RuleView {
    id: i64,
    account_id: i64,
    name: String,
    active: bool,
    matching: &'static str,
    criteria: Vec<CriterionView>,
    actions: Vec<ActionView>,
}

fn view(r: &Rule) -> RuleView {
    let evaluated = from_row(r);
    RuleView {
        id: r.id,
        account_id: r.account_id,
        name: r.name.clone(),
        active: r.active,
        matching: if r.use_and { "all" } else { "any" },
        criteria: r
            .criteria
            .iter()
            .zip(&evaluated.criteria)
            .map(|(c, e)| CriterionView {
                id: c.id,
                field: e.field.name(),
                r#match: e.match_type.name(),
                value: c.match_value.clone(),
            })
            .collect(),
        actions: r
            .actions
            .iter()
            .map(|a| ActionView { id: a.id, action: RuleAction::from_codes(&columns(a)).describe() })
            .collect(),
    }
}

fn store_action(rule_id: i64, action: &RuleAction) -> Action {
    let c = action.columns();
    Action {
        rule_id,
        action_type: c.action_type,
        imap_folder: c.imap_folder,
        subject: c.subject,
        from_name: c.from_name,
        from_address: c.from_address,
        to: c.to,
        body: c.body,
        script_function: c.script_function,
        header: c.header,
        value: c.value,
        route_id: c.route_id,
        ..Default::default()
    }
}

pub async fn run(cmd: RuleCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        RuleCmd::List { account } => {
            let id = account_id(store, account.as_deref()).await?;
            let all: Vec<RuleView> = rules::list(db, id).await?.iter().map(view).collect();
            let rows = all
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.name.clone(),
                        yes_no(r.active),
                        r.matching.to_owned(),
                        r.criteria.len().to_string(),
                        r.actions.iter().map(|a| a.action.clone()).collect::<Vec<_>>().join("; "),
                    ]
                })
                .collect();
            out.table(&all, &["ID", "NAME", "ACTIVE", "MATCH", "CRITERIA", "ACTIONS"], rows)
        }
        RuleCmd::Show { id } => {
            let r = view(&require(store, id).await?);
            if out.json {
                return out.object(&r);
            }
            let mut text = format!(
                "rule {} {:?} (account {}), active: {}, match: {}\ncriteria:\n",
                r.id,
                r.name,
                if r.account_id == GLOBAL { "global".to_owned() } else { r.account_id.to_string() },
                yes_no(r.active),
                r.matching
            );
            for c in &r.criteria {
                text.push_str(&format!("  {}  {} {} {:?}\n", c.id, c.field, c.r#match, c.value));
            }
            text.push_str("actions:\n");
            for a in &r.actions {
                text.push_str(&format!("  {}  {}\n", a.id, a.action));
            }
            super::output::emit(&text)
        }
        RuleCmd::Add { name, account, any, inactive } => {
            let account_id = account_id(store, account.as_deref()).await?;
            let rule = Rule { account_id, name, active: !inactive, use_and: !any, ..Default::default() };
            let r = rules::create(db, &rule).await?;
            out.done(&format!("rule {} added as {}", r.name, r.id), &view(&r))
        }
        RuleCmd::Set { id, name, active, matching } => {
            let mut r = require(store, id).await?;
            if let Some(n) = name {
                r.name = n;
            }
            if let Some(a) = active {
                r.active = a;
            }
            if let Some(m) = matching {
                r.use_and = matches!(m, Matching::All);
            }
            rules::update(db, &r).await?;
            out.done(&format!("rule {id} changed"), &view(&r))
        }
        RuleCmd::Remove { id } => {
            let r = require(store, id).await?;
            rules::delete(db, id).await?;
            out.done(&format!("rule {} ({}) removed", r.id, r.name), &view(&r))
        }
        RuleCmd::Move { id, direction } => {
            require(store, id).await?;
            rules::move_rule(db, id, direction.into()).await?;
            let r = require(store, id).await?;
            out.done(&format!("rule {id} is now number {}", r.sort_order), &view(&r))
        }
        RuleCmd::Criterion(CriterionCmd::Add { rule, field, r#match, value }) => {
            require(store, rule).await?;
            let field = Field::parse(&field).with_context(|| format!("unknown field {field:?}"))?;
            let match_type = MatchType::parse(&r#match).with_context(|| format!("unknown match type {match:?}"))?;
            let (use_predefined, predefined_field, header_name) = field.codes();
            let c = Criterion {
                rule_id: rule,
                use_predefined,
                predefined_field,
                header_name,
                match_type: match_type.code(),
                match_value: value,
                ..Default::default()
            };
            let c = rules::add_criterion(db, &c).await?;
            out.done(&format!("criterion {} added to rule {rule}", c.id), &c)
        }
        RuleCmd::Criterion(CriterionCmd::Remove { id }) => {
            let Some(c) = rules::get_criterion(db, id).await? else { bail!("no criterion {id}") };
            rules::delete_criterion(db, id).await?;
            out.done(&format!("criterion {id} removed from rule {}", c.rule_id), &c)
        }
        RuleCmd::Action(ActionCmd::Add { rule, kind }) => {
            require(store, rule).await?;
            let action = kind.to_action();
            let a = rules::add_action(db, &store_action(rule, &action)).await?;
            out.done(&format!("action {} ({}) added to rule {rule}", a.id, action.describe()), &a)
        }
        RuleCmd::Action(ActionCmd::Remove { id }) => {
            let Some(a) = rules::get_action(db, id).await? else { bail!("no action {id}") };
            rules::delete_action(db, id).await?;
            out.done(&format!("action {id} removed from rule {}", a.rule_id), &a)
        }
        RuleCmd::Action(ActionCmd::Move { id, direction }) => {
            if rules::get_action(db, id).await?.is_none() {
                bail!("no action {id}");
            }
            rules::move_action(db, id, direction.into()).await?;
            let a = rules::get_action(db, id).await?.ok_or_else(|| anyhow!("no action {id}"))?;
            out.done(&format!("action {id} is now number {}", a.sort_order), &a)
        }
    }
}
