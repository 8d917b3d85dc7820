//! An in-memory index of the directory: domains, domain aliases, routes (with their listed
//! addresses) and, for every account, its address, id, domain and active flag. Recipient
//! resolution and logons look names up here instead of searching the SQL indexes, so a lookup
//! costs a hash probe however many accounts or domains there are.
//!
//! The database stays the truth; the index follows it:
//!
//! - Changes made through this process (the repositories, the web admin, tests) are noted by the
//!   SQL layer ([`changes_directory`], [`note_change`]): the next lookup checks the database
//!   again, and reloads what changed, before answering.
//! - Changes made by another process (the CLI, hMailServer sharing the database) are found by a
//!   *fingerprint*: one statement with the row count, largest id and a checksum over the indexed
//!   columns (numbers and text lengths) of each table. It runs when a lookup finds the last
//!   check older than [`REFRESH`] (an idle server sends nothing); a table whose fingerprint moved
//!   is read again. An account added, removed, (de)activated or moved to another domain is
//!   therefore seen within [`REFRESH`] of its commit.
//! - A change the fingerprint cannot see (a rename keeping every length, say `bob@` to `tom@`)
//!   is picked up by a full reload at most [`FULL_RELOAD`] after the previous one.
//!
//! When a check fails (database unreachable), the previous snapshot stays in use and the check
//! is tried again after another [`REFRESH`]; with no snapshot at all the error is returned.
//! Names are compared lower-cased (Unicode lower case, like PostgreSQL's `lower()`; SQLite's
//! `NOCASE` and MySQL's collations agree on ASCII names).

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::StoreError;
use crate::db::{Db, Dialect, Row};
use crate::repo::domains::{self, Domain, NamedDomain};
use crate::repo::routes::{self, Route};

/// How old the last check against the database may be before a lookup checks again.
pub const REFRESH: Duration = Duration::from_secs(1);
/// How old the snapshot may be before it is read again whole, fingerprint or not.
pub const FULL_RELOAD: Duration = Duration::from_secs(60);

/// Bumped after every committed write of this process to a table the index mirrors.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Whether `sql` writes a table the index mirrors (`hm_accounts`, `hm_domains`,
/// `hm_domain_aliases`, `hm_routes`, `hm_routeaddresses`). The logon bookkeeping updates of
/// `hm_accounts` (logon time, re-hashed password) change nothing the index holds.
pub(crate) fn changes_directory(sql: &str) -> bool {
    let head = sql.trim_start();
    let is_write = ["INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|verb| head.get(..verb.len()).is_some_and(|h| h.eq_ignore_ascii_case(verb)));
    if !is_write {
        return false;
    }
    let lower = head.to_ascii_lowercase();
    if lower.starts_with("update hm_accounts set accountlastlogontime")
        || lower.starts_with("update hm_accounts set accountpassword")
    {
        return false;
    }
    ["hm_accounts", "hm_domain", "hm_route"].iter().any(|t| lower.contains(t))
}

/// Tells every index of this process that the directory changed (after the commit).
pub(crate) fn note_change() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// What the index keeps of an account: enough to resolve a recipient, and the id to read the
/// rest (a logon reads the row by its primary key, so passwords are never cached here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountKey {
    pub id: i64,
    pub domain_id: i64,
    pub active: bool,
}

/// A route with its listed addresses lower-cased for lookup.
#[derive(Debug)]
struct IndexedRoute {
    route: Route,
    addresses: HashSet<String>,
}

/// The directory at one moment. Lookups take one snapshot and keep it, so a resolution sees
/// one consistent state.
#[derive(Debug, Default)]
pub struct Snapshot {
    domains_by_name: HashMap<String, Arc<Domain>>,
    domains_by_id: HashMap<i64, Arc<Domain>>,
    /// Domain alias name → domain id of the first added alias of that name.
    domain_aliases: HashMap<String, i64>,
    accounts: HashMap<String, AccountKey>,
    /// In hMailServer's order (see [`routes::list`]).
    routes: Vec<IndexedRoute>,
}

impl Snapshot {
    /// The domain named `name` (its own name, not an alias).
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains_by_name.get(&name.to_lowercase()).map(|d| &**d)
    }

    pub fn domain_by_id(&self, id: i64) -> Option<&Domain> {
        self.domains_by_id.get(&id).map(|d| &**d)
    }

    /// The domain the domain alias `alias` points to, when both exist.
    pub fn domain_of_alias(&self, alias: &str) -> Option<&Domain> {
        self.domain_aliases.get(&alias.to_lowercase()).and_then(|id| self.domain_by_id(*id))
    }

    /// What a domain name stands for, as [`domains::find_by_name_or_alias`] answers it: the
    /// domain of a domain alias of that name, else the domain of that name.
    pub fn named(&self, name: &str) -> Option<NamedDomain> {
        if let Some(domain) = self.domain_of_alias(name) {
            return Some(NamedDomain { domain: domain.clone(), via_alias: true });
        }
        self.domain(name).map(|d| NamedDomain { domain: d.clone(), via_alias: false })
    }

    /// The account with this address, without case.
    pub fn account(&self, address: &str) -> Option<AccountKey> {
        self.accounts.get(&address.to_lowercase()).copied()
    }

    /// The first route, in hMailServer's order, whose pattern `matches`, carrying only its
    /// listed addresses equal to `address` (so [`Route::covers`] answers for `address`).
    pub fn route_for(&self, address: &str, mut matches: impl FnMut(&str) -> bool) -> Option<Route> {
        let indexed = self.routes.iter().find(|r| matches(&r.route.domain))?;
        let mut route = indexed.route.clone();
        if indexed.addresses.contains(&address.to_lowercase()) {
            route.addresses = vec![address.to_owned()];
        }
        Some(route)
    }

    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }
}

/// Per table, what [`fingerprint_sql`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Prints {
    small: [i64; 8],
    accounts: [i64; 3],
}

/// One statement reading every table's fingerprint: row count, largest id and a checksum of
/// the indexed columns (numbers, and lengths of texts).
fn fingerprint_sql(d: Dialect) -> String {
    let part = |table: &str, id: &str, row: &str| {
        format!(
            "(SELECT COUNT(*) FROM {table}) AS {table}_n, \
             (SELECT COALESCE(MAX({id}), 0) FROM {table}) AS {table}_max, \
             (SELECT {} FROM {table}) AS {table}_sum",
            d.sum_int(row)
        )
    };
    let parts = [
        part(
            "hm_accounts",
            "accountid",
            "accountid * (1 + accountactive) + 3 * accountdomainid + 7 * LENGTH(accountaddress)",
        ),
        part(
            "hm_domains",
            "domainid",
            "domainid * (1 + domainactive + 2 * domainuseplusaddressing) + 3 * LENGTH(domainname) \
             + 5 * LENGTH(domainpostmaster) + 7 * domainmaxsize + 11 * domainmaxmessagesize \
             + 13 * LENGTH(domainplusaddressingchar) + 17 * domainantispamoptions + 19 * LENGTH(domaindkimselector) \
             + 23 * LENGTH(domaindkimprivatekeyfile) + 29 * domainmaxnoofaccounts + 31 * domainmaxnoofaliases \
             + 37 * domainmaxnoofdistributionlists + 41 * domainlimitationsenabled + 43 * domainmaxaccountsize",
        ),
        part("hm_domain_aliases", "daid", "daid + 3 * dadomainid + 7 * LENGTH(daalias)"),
        part(
            "hm_routes",
            "routeid",
            "routeid * (1 + routealladdresses + 2 * routeuseauthentication + 4 * routetreatsecurityaslocal \
             + 8 * routetreatsenderaslocaldomain) + 3 * LENGTH(routedomainname) + 5 * LENGTH(routedescription) \
             + 7 * LENGTH(routetargetsmthost) + 11 * routetargetsmtport + 13 * routenooftries \
             + 17 * routeminutesbetweentry + 19 * LENGTH(routeauthenticationusername) \
             + 23 * LENGTH(routeauthenticationpassword) + 29 * routeconnectionsecurity",
        ),
        part(
            "hm_routeaddresses",
            "routeaddressid",
            "routeaddressid + 3 * routeaddressrouteid + 7 * LENGTH(routeaddressaddress)",
        ),
    ];
    format!("SELECT {}", parts.join(", "))
}

fn read_prints(row: &Row) -> Result<Prints, StoreError> {
    let three = |table: &str| -> Result<[i64; 3], StoreError> {
        Ok([row.int(&format!("{table}_n"))?, row.int(&format!("{table}_max"))?, row.int(&format!("{table}_sum"))?])
    };
    let [d, a, r, ra] =
        [three("hm_domains")?, three("hm_domain_aliases")?, three("hm_routes")?, three("hm_routeaddresses")?];
    // The small tables are read together: fold them into one comparable array.
    let small = [
        d[0],
        d[1] ^ d[2].rotate_left(17),
        a[0],
        a[1] ^ a[2].rotate_left(17),
        r[0],
        r[1],
        r[2],
        ra[0] ^ ra[1] ^ ra[2].rotate_left(17),
    ];
    Ok(Prints { small, accounts: three("hm_accounts")? })
}

async fn fingerprints(db: &Db) -> Result<Prints, StoreError> {
    let row = db.fetch_optional(&fingerprint_sql(db.dialect()), &[]).await?;
    row.as_ref().map(read_prints).transpose()?.ok_or_else(|| StoreError::Decode("no fingerprint row".into()))
}

/// Domains, domain aliases and routes: small even with 10,000 domains.
struct SmallTables {
    domains_by_name: HashMap<String, Arc<Domain>>,
    domains_by_id: HashMap<i64, Arc<Domain>>,
    domain_aliases: HashMap<String, i64>,
    routes: Vec<IndexedRoute>,
}

async fn load_small(db: &Db) -> Result<SmallTables, StoreError> {
    let mut domains_by_name = HashMap::new();
    let mut domains_by_id = HashMap::new();
    for domain in domains::list(db).await? {
        let domain = Arc::new(domain);
        domains_by_name.insert(domain.name.to_lowercase(), domain.clone());
        domains_by_id.insert(domain.id, domain);
    }
    let mut domain_aliases = HashMap::new();
    for alias in crate::repo::domain_aliases::all(db).await? {
        // In id order: the first added alias of a name counts, as hMailServer scans them.
        domain_aliases.entry(alias.alias.to_lowercase()).or_insert(alias.domain_id);
    }
    let routes = routes::list(db)
        .await?
        .into_iter()
        .map(|mut route| {
            let addresses = route.addresses.drain(..).map(|a| a.to_lowercase()).collect();
            IndexedRoute { route, addresses }
        })
        .collect();
    Ok(SmallTables { domains_by_name, domains_by_id, domain_aliases, routes })
}

async fn load_accounts(db: &Db) -> Result<HashMap<String, AccountKey>, StoreError> {
    let keys = crate::repo::accounts::keys(db).await?;
    let mut accounts = HashMap::with_capacity(keys.len());
    for (address, key) in keys {
        accounts.insert(address.to_lowercase(), key);
    }
    Ok(accounts)
}

#[derive(Default)]
struct State {
    snapshot: Option<Arc<Snapshot>>,
    prints: Option<Prints>,
    checked: Option<Instant>,
    loaded: Option<Instant>,
    generation: u64,
}

/// The index of one database. Get it with [`DirectoryIndex::of`].
#[derive(Default)]
pub struct DirectoryIndex {
    /// Held while checking or loading, so concurrent lookups wait for one check.
    state: tokio::sync::Mutex<State>,
    /// The last snapshot checked, with the generation it saw: what lookups get while another
    /// lookup runs a check that only the clock asked for.
    published: Mutex<Option<(Arc<Snapshot>, u64)>>,
}

impl std::fmt::Debug for DirectoryIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectoryIndex")
    }
}

type Registry = Mutex<Vec<(Weak<dyn Any + Send + Sync>, Arc<DirectoryIndex>)>>;

/// Something that lives exactly as long as `db`'s pool (its connect options).
fn pool_identity(db: &Db) -> Arc<dyn Any + Send + Sync> {
    match db {
        Db::Sqlite(p) => p.connect_options(),
        Db::Postgres(p) => p.connect_options(),
        Db::MySql(p) => p.connect_options(),
    }
}

impl DirectoryIndex {
    /// The index of `db`'s pool (made on first use; clones of a [`Db`] share it). An entry
    /// goes when its pool is dropped; the weak reference keeps the address from being reused
    /// until then.
    pub fn of(db: &Db) -> Arc<DirectoryIndex> {
        static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        let identity = pool_identity(db);
        let ptr = Arc::as_ptr(&identity) as *const ();
        let mut registry = REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
        registry.retain(|(weak, _)| weak.strong_count() > 0);
        if let Some((_, index)) = registry.iter().find(|(weak, _)| Weak::as_ptr(weak) as *const () == ptr) {
            return index.clone();
        }
        let index = Arc::new(DirectoryIndex::default());
        registry.push((Arc::downgrade(&identity), index.clone()));
        index
    }

    /// The current snapshot of `db`'s directory, checked against the database first when the
    /// last check is older than [`REFRESH`] or this process changed the directory since.
    pub async fn snapshot(&self, db: &Db) -> Result<Arc<Snapshot>, StoreError> {
        let generation = GENERATION.load(Ordering::Acquire);
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(_) => {
                // Another lookup is checking. Unless this process changed the directory since
                // the last check, its snapshot is at most REFRESH plus one check old: use it
                // rather than wait (the fingerprint of 100,000 accounts takes milliseconds).
                let published = self.published.lock().unwrap_or_else(PoisonError::into_inner).clone();
                match published {
                    Some((snapshot, seen)) if seen == generation => return Ok(snapshot),
                    _ => self.state.lock().await,
                }
            }
        };
        if let (Some(snapshot), Some(checked)) = (&state.snapshot, state.checked)
            && checked.elapsed() < REFRESH
            && generation == state.generation
        {
            return Ok(snapshot.clone());
        }
        match refresh(db, &mut state).await {
            Ok(()) => {
                state.generation = generation;
                state.checked = Some(Instant::now());
            }
            Err(e) => match &state.snapshot {
                Some(_) => {
                    tracing::warn!("checking the directory index: {e}; using the previous snapshot");
                    state.checked = Some(Instant::now());
                }
                None => return Err(e),
            },
        }
        let snapshot = state.snapshot.clone().ok_or_else(|| StoreError::Decode("directory index not loaded".into()))?;
        *self.published.lock().unwrap_or_else(PoisonError::into_inner) = Some((snapshot.clone(), state.generation));
        Ok(snapshot)
    }
}

/// Reads the fingerprints and reloads what moved (everything when the snapshot is older than
/// [`FULL_RELOAD`]).
async fn refresh(db: &Db, state: &mut State) -> Result<(), StoreError> {
    let prints = fingerprints(db).await?;
    let full = state.snapshot.is_none() || state.loaded.is_none_or(|at| at.elapsed() >= FULL_RELOAD);
    let old = state.prints.unwrap_or_default();
    let small_moved = full || old.small != prints.small;
    let accounts_moved = full || old.accounts != prints.accounts;
    if !small_moved && !accounts_moved {
        return Ok(());
    }
    let previous = state.snapshot.clone().unwrap_or_default();
    let mut next = Snapshot::default();
    if small_moved {
        let small = load_small(db).await?;
        next.domains_by_name = small.domains_by_name;
        next.domains_by_id = small.domains_by_id;
        next.domain_aliases = small.domain_aliases;
        next.routes = small.routes;
    } else {
        next.domains_by_name = previous.domains_by_name.clone();
        next.domains_by_id = previous.domains_by_id.clone();
        next.domain_aliases = previous.domain_aliases.clone();
        next.routes = previous
            .routes
            .iter()
            .map(|r| IndexedRoute { route: r.route.clone(), addresses: r.addresses.clone() })
            .collect();
    }
    next.accounts = if accounts_moved { load_accounts(db).await? } else { previous.accounts.clone() };
    // The fingerprints were read before the tables: a change committed in between is seen
    // again by the next check.
    state.prints = Some(prints);
    state.snapshot = Some(Arc::new(next));
    if full {
        state.loaded = Some(Instant::now());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_writes_to_directory_tables() {
        assert!(changes_directory("INSERT INTO hm_accounts (a) VALUES (?)"));
        assert!(changes_directory("  delete from hm_domain_aliases WHERE daid = ?"));
        assert!(changes_directory("UPDATE hm_routes SET routedomainname = ?"));
        assert!(changes_directory("DELETE FROM hm_routeaddresses WHERE routeaddressrouteid = ?"));
        assert!(changes_directory("UPDATE hm_accounts SET accountactive = ? WHERE accountid = ?"));
        assert!(!changes_directory("SELECT * FROM hm_accounts"));
        assert!(!changes_directory("INSERT INTO hm_messages (a) VALUES (?)"));
        assert!(!changes_directory("UPDATE hm_accounts SET accountlastlogontime = ? WHERE accountid = ?"));
        assert!(!changes_directory(
            "UPDATE hm_accounts SET accountpassword = ?, accountpwencryption = ? WHERE accountid = ?"
        ));
    }
}
