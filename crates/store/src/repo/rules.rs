//! `hm_rules`, `hm_rule_criterias` and `hm_rule_actions`: the rules applied to messages at
//! delivery, global (`ruleaccountid` 0) or for one account, as hMailServer stores them.
//!
//! Rows are kept as hMailServer writes them: numeric codes stay numbers here (a row from a newer
//! hMailServer with an unknown code still reads), and the rules crate gives them meaning.
//! Orders are hMailServer's: rules by `rulesortorder`, criteria by `criteriaid`, actions by
//! `actionsortorder`; moving a rule or an action renumbers its list 1, 2, 3… as hMailServer's
//! `UpdateSortOrder_` does.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// The account id of global rules.
pub const GLOBAL: i64 = 0;

/// One rule with its criteria and actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: i64,
    /// `ruleaccountid`: 0 for a global rule.
    pub account_id: i64,
    pub name: String,
    pub active: bool,
    /// `ruleuseand`: every criterion must match (else any one).
    pub use_and: bool,
    pub sort_order: i64,
    /// In `criteriaid` order.
    pub criteria: Vec<Criterion>,
    /// In `actionsortorder` order.
    pub actions: Vec<Action>,
}

/// One criterion (`hm_rule_criterias`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub id: i64,
    pub rule_id: i64,
    /// `criteriausepredefined`: test [`Criterion::predefined_field`], else the header
    /// [`Criterion::header_name`].
    pub use_predefined: bool,
    /// `criteriapredefinedfield`: 1 From, 2 To, 3 CC, 4 Subject, 5 Body, 6 MessageSize,
    /// 7 RecipientList, 8 DeliveryAttempts.
    pub predefined_field: i64,
    pub header_name: String,
    /// `criteriamatchtype`: 1 Equals, 2 Contains, 3 LessThan, 4 GreaterThan, 5 RegEx,
    /// 6 NotContains, 7 NotEquals, 8 Wildcard.
    pub match_type: i64,
    pub match_value: String,
}

/// One action (`hm_rule_actions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Action {
    pub id: i64,
    pub rule_id: i64,
    /// `actiontype`: 1 Delete, 2 Forward, 3 Reply, 4 MoveToIMAPFolder, 5 RunScriptFunction,
    /// 6 StopRuleProcessing, 7 SetHeaderValue, 8 SendUsingRoute, 9 CreateCopy, 10 BindToAddress.
    pub action_type: i64,
    pub imap_folder: String,
    pub subject: String,
    pub from_name: String,
    pub from_address: String,
    /// Forward target.
    pub to: String,
    /// Reply body.
    pub body: String,
    /// `actionfilename`, unused by hMailServer; kept as read.
    pub file_name: String,
    pub sort_order: i64,
    pub script_function: String,
    pub header: String,
    /// Set-header value, or the local IP address of "bind to address".
    pub value: String,
    pub route_id: i64,
}

/// Which way [`move_rule`] and [`move_action`] move an item in its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

const RULE_COLUMNS: &str = "ruleid, ruleaccountid, rulename, ruleactive, ruleuseand, rulesortorder";
const CRITERION_COLUMNS: &str = "criteriaid, criteriaruleid, criteriausepredefined, criteriapredefinedfield, \
    criteriaheadername, criteriamatchtype, criteriamatchvalue";
const ACTION_COLUMNS: &str = "actionid, actionruleid, actiontype, actionimapfolder, actionsubject, actionfromname, \
    actionfromaddress, actionto, actionbody, actionfilename, actionsortorder, actionscriptfunction, actionheader, \
    actionvalue, actionrouteid";

impl Rule {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Rule {
            id: r.int("ruleid")?,
            account_id: r.int("ruleaccountid")?,
            name: r.text("rulename")?,
            active: r.bool("ruleactive")?,
            use_and: r.bool("ruleuseand")?,
            sort_order: r.int("rulesortorder")?,
            criteria: Vec::new(),
            actions: Vec::new(),
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("ruleaccountid", self.account_id.into()),
            ("rulename", self.name.as_str().into()),
            ("ruleactive", self.active.into()),
            ("ruleuseand", self.use_and.into()),
            ("rulesortorder", self.sort_order.into()),
        ]
    }
}

impl Criterion {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Criterion {
            id: r.int("criteriaid")?,
            rule_id: r.int("criteriaruleid")?,
            use_predefined: r.bool("criteriausepredefined")?,
            predefined_field: r.int("criteriapredefinedfield")?,
            header_name: r.text("criteriaheadername")?,
            match_type: r.int("criteriamatchtype")?,
            match_value: r.text("criteriamatchvalue")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("criteriaruleid", self.rule_id.into()),
            ("criteriausepredefined", self.use_predefined.into()),
            ("criteriapredefinedfield", self.predefined_field.into()),
            ("criteriaheadername", self.header_name.as_str().into()),
            ("criteriamatchtype", self.match_type.into()),
            ("criteriamatchvalue", self.match_value.as_str().into()),
        ]
    }

    fn check(&self) -> Result<(), StoreError> {
        check_len("header name", &self.header_name, 255)?;
        check_len("match value", &self.match_value, 255)
    }
}

impl Action {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Action {
            id: r.int("actionid")?,
            rule_id: r.int("actionruleid")?,
            action_type: r.int("actiontype")?,
            imap_folder: r.text("actionimapfolder")?,
            subject: r.text("actionsubject")?,
            from_name: r.text("actionfromname")?,
            from_address: r.text("actionfromaddress")?,
            to: r.text("actionto")?,
            body: r.text("actionbody")?,
            file_name: r.text("actionfilename")?,
            sort_order: r.int("actionsortorder")?,
            script_function: r.text("actionscriptfunction")?,
            header: r.text("actionheader")?,
            value: r.text("actionvalue")?,
            route_id: r.int("actionrouteid")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("actionruleid", self.rule_id.into()),
            ("actiontype", self.action_type.into()),
            ("actionimapfolder", self.imap_folder.as_str().into()),
            ("actionsubject", self.subject.as_str().into()),
            ("actionfromname", self.from_name.as_str().into()),
            ("actionfromaddress", self.from_address.as_str().into()),
            ("actionto", self.to.as_str().into()),
            ("actionbody", self.body.as_str().into()),
            ("actionfilename", self.file_name.as_str().into()),
            ("actionsortorder", self.sort_order.into()),
            ("actionscriptfunction", self.script_function.as_str().into()),
            ("actionheader", self.header.as_str().into()),
            ("actionvalue", self.value.as_str().into()),
            ("actionrouteid", self.route_id.into()),
        ]
    }

    fn check(&self) -> Result<(), StoreError> {
        for (what, value) in [
            ("IMAP folder", &self.imap_folder),
            ("subject", &self.subject),
            ("from name", &self.from_name),
            ("from address", &self.from_address),
            ("to", &self.to),
            ("file name", &self.file_name),
            ("script function", &self.script_function),
            ("value", &self.value),
        ] {
            check_len(what, value, 255)?;
        }
        check_len("header", &self.header, 80)
    }
}

fn check_len(what: &str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.chars().count() > max {
        return Err(StoreError::Invalid(format!("the {what} must be at most {max} characters")));
    }
    Ok(())
}

/// The rules of an account (0: the global rules), each with its criteria and actions, in
/// hMailServer's order. Inactive rules are included.
pub async fn list(db: &Db, account_id: i64) -> Result<Vec<Rule>, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM hm_rules WHERE ruleaccountid = ? ORDER BY rulesortorder, ruleid");
    let rows = db.fetch_all(&sql, &[account_id.into()]).await?;
    let mut rules = rows.iter().map(Rule::from_row).collect::<Result<Vec<_>, _>>()?;
    if rules.is_empty() {
        return Ok(rules);
    }
    // Two reads for all the rules' criteria and actions, not two per rule.
    let sql = format!(
        "SELECT {CRITERION_COLUMNS} FROM hm_rule_criterias WHERE criteriaruleid IN \
         (SELECT ruleid FROM hm_rules WHERE ruleaccountid = ?) ORDER BY criteriaid"
    );
    for row in db.fetch_all(&sql, &[account_id.into()]).await? {
        let c = Criterion::from_row(&row)?;
        if let Some(rule) = rules.iter_mut().find(|r| r.id == c.rule_id) {
            rule.criteria.push(c);
        }
    }
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM hm_rule_actions WHERE actionruleid IN \
         (SELECT ruleid FROM hm_rules WHERE ruleaccountid = ?) ORDER BY actionsortorder, actionid"
    );
    for row in db.fetch_all(&sql, &[account_id.into()]).await? {
        let a = Action::from_row(&row)?;
        if let Some(rule) = rules.iter_mut().find(|r| r.id == a.rule_id) {
            rule.actions.push(a);
        }
    }
    Ok(rules)
}

/// One rule with its criteria and actions.
pub async fn get(db: &Db, id: i64) -> Result<Option<Rule>, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM hm_rules WHERE ruleid = ?");
    let Some(row) = db.fetch_optional(&sql, &[id.into()]).await? else { return Ok(None) };
    let mut rule = Rule::from_row(&row)?;
    let sql = format!("SELECT {CRITERION_COLUMNS} FROM hm_rule_criterias WHERE criteriaruleid = ? ORDER BY criteriaid");
    rule.criteria =
        db.fetch_all(&sql, &[id.into()]).await?.iter().map(Criterion::from_row).collect::<Result<_, _>>()?;
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM hm_rule_actions WHERE actionruleid = ? ORDER BY actionsortorder, actionid"
    );
    rule.actions = db.fetch_all(&sql, &[id.into()]).await?.iter().map(Action::from_row).collect::<Result<_, _>>()?;
    Ok(Some(rule))
}

/// Adds a rule (its criteria and actions too) at the end of its account's list; returns it as
/// stored, with its ids and sort order.
pub async fn create(db: &Db, rule: &Rule) -> Result<Rule, StoreError> {
    check_name(&rule.name)?;
    let mut rule = rule.clone();
    let last = db
        .fetch_optional(
            "SELECT MAX(rulesortorder) AS n FROM hm_rules WHERE ruleaccountid = ?",
            &[rule.account_id.into()],
        )
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .unwrap_or(0);
    rule.sort_order = last + 1;
    rule.id = super::insert_row(db, "hm_rules", "ruleid", &rule.values()).await?;
    let criteria = std::mem::take(&mut rule.criteria);
    for mut c in criteria {
        c.rule_id = rule.id;
        rule.criteria.push(add_criterion(db, &c).await?);
    }
    let actions = std::mem::take(&mut rule.actions);
    for mut a in actions {
        a.rule_id = rule.id;
        rule.actions.push(add_action(db, &a).await?);
    }
    Ok(rule)
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("a rule needs a name".into()));
    }
    check_len("rule name", name, 100)
}

/// Changes a rule's own columns (name, active, AND/OR, account, sort order); its criteria and
/// actions are changed through their own functions.
pub async fn update(db: &Db, rule: &Rule) -> Result<(), StoreError> {
    check_name(&rule.name)?;
    if super::update_row(db, "hm_rules", "ruleid", rule.id, &rule.values()).await? == 0 {
        return Err(StoreError::NotFound(format!("no rule {}", rule.id)));
    }
    Ok(())
}

/// Deletes a rule with its criteria and actions.
pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM hm_rule_criterias WHERE criteriaruleid = ?", &[id.into()]).await?;
    tx.execute("DELETE FROM hm_rule_actions WHERE actionruleid = ?", &[id.into()]).await?;
    let n = tx.execute("DELETE FROM hm_rules WHERE ruleid = ?", &[id.into()]).await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no rule {id}")));
    }
    tx.commit().await
}

/// Moves a rule one place up or down among its account's rules; the list is renumbered from 1.
/// Moving the first rule up or the last down changes nothing.
pub async fn move_rule(db: &Db, id: i64, direction: Direction) -> Result<(), StoreError> {
    let rule = get(db, id).await?.ok_or_else(|| StoreError::NotFound(format!("no rule {id}")))?;
    let mut order: Vec<(i64, i64)> = list(db, rule.account_id).await?.iter().map(|r| (r.id, r.sort_order)).collect();
    if shift(&mut order, id, direction) {
        renumber(db, "hm_rules", "ruleid", "rulesortorder", &order).await?;
    }
    Ok(())
}

/// Moves `id` one place in `order` (`(id, sort order)` pairs); false when it cannot move.
fn shift(order: &mut [(i64, i64)], id: i64, direction: Direction) -> bool {
    let Some(i) = order.iter().position(|(x, _)| *x == id) else { return false };
    let j = match direction {
        Direction::Up if i > 0 => i - 1,
        Direction::Down if i + 1 < order.len() => i + 1,
        _ => return false,
    };
    order.swap(i, j);
    true
}

/// Gives the items of `order` the sort orders 1, 2, 3…, writing only those that change.
async fn renumber(db: &Db, table: &str, pk: &str, column: &str, order: &[(i64, i64)]) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let sql = format!("UPDATE {table} SET {column} = ? WHERE {pk} = ?");
    for (n, (id, current)) in order.iter().enumerate() {
        let wanted = n as i64 + 1;
        if *current != wanted {
            tx.execute(&sql, &[wanted.into(), (*id).into()]).await?;
        }
    }
    tx.commit().await
}

/// Adds a criterion to rule `criterion.rule_id`; returns it with its id.
pub async fn add_criterion(db: &Db, criterion: &Criterion) -> Result<Criterion, StoreError> {
    criterion.check()?;
    let mut c = criterion.clone();
    c.id = super::insert_row(db, "hm_rule_criterias", "criteriaid", &c.values()).await?;
    Ok(c)
}

pub async fn get_criterion(db: &Db, id: i64) -> Result<Option<Criterion>, StoreError> {
    let sql = format!("SELECT {CRITERION_COLUMNS} FROM hm_rule_criterias WHERE criteriaid = ?");
    db.fetch_optional(&sql, &[id.into()]).await?.as_ref().map(Criterion::from_row).transpose()
}

pub async fn update_criterion(db: &Db, criterion: &Criterion) -> Result<(), StoreError> {
    criterion.check()?;
    if super::update_row(db, "hm_rule_criterias", "criteriaid", criterion.id, &criterion.values()).await? == 0 {
        return Err(StoreError::NotFound(format!("no criterion {}", criterion.id)));
    }
    Ok(())
}

pub async fn delete_criterion(db: &Db, id: i64) -> Result<(), StoreError> {
    if db.execute("DELETE FROM hm_rule_criterias WHERE criteriaid = ?", &[id.into()]).await? == 0 {
        return Err(StoreError::NotFound(format!("no criterion {id}")));
    }
    Ok(())
}

/// Adds an action at the end of rule `action.rule_id`'s actions; returns it with its id and
/// sort order.
pub async fn add_action(db: &Db, action: &Action) -> Result<Action, StoreError> {
    action.check()?;
    let mut a = action.clone();
    let last = db
        .fetch_optional(
            "SELECT MAX(actionsortorder) AS n FROM hm_rule_actions WHERE actionruleid = ?",
            &[a.rule_id.into()],
        )
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .unwrap_or(0);
    a.sort_order = last + 1;
    a.id = super::insert_row(db, "hm_rule_actions", "actionid", &a.values()).await?;
    Ok(a)
}

pub async fn get_action(db: &Db, id: i64) -> Result<Option<Action>, StoreError> {
    let sql = format!("SELECT {ACTION_COLUMNS} FROM hm_rule_actions WHERE actionid = ?");
    db.fetch_optional(&sql, &[id.into()]).await?.as_ref().map(Action::from_row).transpose()
}

pub async fn update_action(db: &Db, action: &Action) -> Result<(), StoreError> {
    action.check()?;
    if super::update_row(db, "hm_rule_actions", "actionid", action.id, &action.values()).await? == 0 {
        return Err(StoreError::NotFound(format!("no action {}", action.id)));
    }
    Ok(())
}

pub async fn delete_action(db: &Db, id: i64) -> Result<(), StoreError> {
    if db.execute("DELETE FROM hm_rule_actions WHERE actionid = ?", &[id.into()]).await? == 0 {
        return Err(StoreError::NotFound(format!("no action {id}")));
    }
    Ok(())
}

/// Moves an action one place up or down among its rule's actions (renumbered from 1).
pub async fn move_action(db: &Db, id: i64, direction: Direction) -> Result<(), StoreError> {
    let action = get_action(db, id).await?.ok_or_else(|| StoreError::NotFound(format!("no action {id}")))?;
    let rule =
        get(db, action.rule_id).await?.ok_or_else(|| StoreError::NotFound(format!("no rule {}", action.rule_id)))?;
    let mut order: Vec<(i64, i64)> = rule.actions.iter().map(|a| (a.id, a.sort_order)).collect();
    if shift(&mut order, id, direction) {
        renumber(db, "hm_rule_actions", "actionid", "actionsortorder", &order).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_stops_at_the_ends() {
        let mut order = vec![(5, 1), (7, 2), (9, 3)];
        assert!(!shift(&mut order, 5, Direction::Up));
        assert!(!shift(&mut order, 9, Direction::Down));
        assert!(!shift(&mut order, 4, Direction::Down));
        assert!(shift(&mut order, 9, Direction::Up));
        assert_eq!(order.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [5, 9, 7]);
    }
}
