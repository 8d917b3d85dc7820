//! An in-memory index of the directory: domains, domain aliases, routes (with their listed
//! addresses), for every account its address, id, domain and active flag, and aliases and
//! distribution lists whole (with the lists' members). Recipient resolution and logons look
//! names up here instead of searching the SQL indexes, so a lookup costs a hash probe however
//! many accounts, domains, aliases or lists there are, and an unknown address is answered
//! without any statement.
//!
//! The database stays the truth; the index follows it:
//!
//! - Changes made through this process (the repositories, the web admin, tests) are noted by the
//!   SQL layer ([`changes_directory`], [`note_change`]): the next lookup checks the database
//!   again, and reloads what changed, before answering.
//! - Changes made by another process are found by a check that runs when a lookup finds the
//!   last one older than [`REFRESH`] (an idle server sends nothing). Its quick part reads, with
//!   index probes only, the directory version every Altimail process bumps after such a change
//!   (the CLI, the API of another server on the same database) and each table's largest id
//!   (rows added by anyone, hMailServer included). Its *checksum* part reads each table's row
//!   count and a sum over the indexed columns (numbers and text lengths), which sees a row
//!   removed, (de)activated or moved to another domain by a process that bumps nothing
//!   (hMailServer sharing the database, SQL by hand); a scan of every row, it runs when the quick
//!   part moved and otherwise every [`REFRESH`], or every second per
//!   [`CHECKSUM_ROWS_PER_SECOND`] rows when the tables are larger (132,000 rows for 100,000
//!   accounts in 10,000 domains: every 5 s). A table whose checksum moved is read again, and
//!   everything when the version moved but no checksum did. A change by Altimail is therefore
//!   seen within [`REFRESH`] (plus the time of one check) of its commit, and one by another
//!   program within that or the checksum's interval. The check runs in the background while
//!   the snapshot is younger than twice [`REFRESH`] (a busy server: lookups never wait for
//!   it), and before answering when it is older (the first lookup after an idle spell).
//! - A change by another program that no checksum sees (a rename keeping every length, say
//!   `bob@` to `tom@`) is picked up by a full reload at most [`FULL_RELOAD`] after the
//!   previous one.
//!
//! When a check fails (database unreachable), the previous snapshot stays in use and the check
//! is tried again after another [`REFRESH`]; with no snapshot at all the error is returned.
//! Names are compared lower-cased (Unicode lower case, like PostgreSQL's `lower()`; SQLite's
//! `NOCASE` and MySQL's collations agree on ASCII names).

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::StoreError;
use crate::db::{Db, Dialect, Row};
use crate::repo::aliases::{self, Alias};
use crate::repo::domains::{self, Domain, NamedDomain};
use crate::repo::lists::{self, List};
use crate::repo::routes::{self, Route};

/// How old the last check against the database may be before a lookup checks again.
pub const REFRESH: Duration = Duration::from_secs(1);
/// How old the snapshot may be before it is read again whole, fingerprint or not.
pub const FULL_RELOAD: Duration = Duration::from_secs(60);
/// The checksum runs at most every second per this many rows of the tables it sums (100,000
/// accounts on SQLite: ~60 ms of a scan every ~5 s). Counted in rows rather than timed, so that
/// a busy machine does not stretch it.
const CHECKSUM_ROWS_PER_SECOND: u64 = 25_000;

/// Run by every Altimail process after it commits a change to a table the index mirrors.
pub(crate) const BUMP_VERSION_SQL: &str = "UPDATE altimail_directory_version SET version = version + 1 WHERE id = 1";

/// Bumped after every committed write of this process to a table the index mirrors.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Whether `sql` writes a table the index mirrors (`hm_accounts`, `hm_domains`,
/// `hm_domain_aliases`, `hm_routes`, `hm_routeaddresses`, `hm_aliases`, `hm_distributionlists`,
/// `hm_distributionlistsrecipients`). The logon bookkeeping updates of
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
    ["hm_accounts", "hm_domain", "hm_route", "hm_aliases", "hm_distributionlist"].iter().any(|t| lower.contains(t))
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
/// one consistent state. Each group of tables is shared with the next snapshot when its
/// tables did not move, so a reload copies nothing it does not read again.
#[derive(Debug, Default)]
pub struct Snapshot {
    small: Arc<SmallTables>,
    accounts: Arc<HashMap<String, AccountKey>>,
    aliases: Arc<Aliases>,
    lists: Arc<Lists>,
}

impl Snapshot {
    /// The domain named `name` (its own name, not an alias).
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.small.domains_by_name.get(&name.to_lowercase()).map(|d| &**d)
    }

    pub fn domain_by_id(&self, id: i64) -> Option<&Domain> {
        self.small.domains_by_id.get(&id).map(|d| &**d)
    }

    /// The domain the domain alias `alias` points to, when both exist.
    pub fn domain_of_alias(&self, alias: &str) -> Option<&Domain> {
        self.small.domain_aliases.get(&alias.to_lowercase()).and_then(|id| self.domain_by_id(*id))
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
        let indexed = self.small.routes.iter().find(|r| matches(&r.route.domain))?;
        let mut route = indexed.route.clone();
        if indexed.addresses.contains(&address.to_lowercase()) {
            route.addresses = vec![address.to_owned()];
        }
        Some(route)
    }

    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// The alias named `name`, without case (of several, the first added).
    pub fn alias(&self, name: &str) -> Option<&Alias> {
        self.aliases.by_name.get(&name.to_lowercase())
    }

    /// The distribution list with this address, without case (of several, the first added).
    pub fn list(&self, address: &str) -> Option<&List> {
        self.lists.by_address.get(&address.to_lowercase())
    }

    /// The member addresses of the list `list_id` as stored (empty ones included), in the order
    /// they were added.
    pub fn members(&self, list_id: i64) -> &[String] {
        self.lists.members.get(&list_id).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Per table, what [`fingerprint_sql`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Prints {
    small: [i64; 8],
    accounts: [i64; 3],
    aliases: [i64; 3],
    lists: [i64; 6],
    /// Rows of every table summed.
    rows: u64,
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
        part(
            "hm_aliases",
            "aliasid",
            "aliasid * (1 + aliasactive) + 3 * aliasdomainid + 7 * LENGTH(aliasname) \
             + 11 * COALESCE(LENGTH(aliasvalue), 0)",
        ),
        part(
            "hm_distributionlists",
            "distributionlistid",
            "distributionlistid * (1 + distributionlistenabled + 2 * distributionlistrequireauth) \
             + 3 * distributionlistdomainid + 5 * LENGTH(distributionlistaddress) \
             + 7 * COALESCE(LENGTH(distributionlistrequireaddress), 0) + 11 * distributionlistmode",
        ),
        part(
            "hm_distributionlistsrecipients",
            "distributionlistrecipientid",
            "distributionlistrecipientid + 3 * distributionlistrecipientlistid \
             + 7 * COALESCE(LENGTH(distributionlistrecipientaddress), 0)",
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
    let [l, m] = [three("hm_distributionlists")?, three("hm_distributionlistsrecipients")?];
    let [accounts, aliases] = [three("hm_accounts")?, three("hm_aliases")?];
    let rows = [d[0], a[0], r[0], ra[0], l[0], m[0], accounts[0], aliases[0]].iter().map(|&n| n.max(0) as u64).sum();
    Ok(Prints { small, accounts, aliases, lists: [l[0], l[1], l[2], m[0], m[1], m[2]], rows })
}

/// The quick part of a check: the directory version and each table's largest id, all read
/// through primary keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct QuickPrints([i64; 9]);

const MIRRORED_KEYS: [(&str, &str); 8] = [
    ("hm_accounts", "accountid"),
    ("hm_domains", "domainid"),
    ("hm_domain_aliases", "daid"),
    ("hm_routes", "routeid"),
    ("hm_routeaddresses", "routeaddressid"),
    ("hm_aliases", "aliasid"),
    ("hm_distributionlists", "distributionlistid"),
    ("hm_distributionlistsrecipients", "distributionlistrecipientid"),
];

fn quick_prints_sql() -> String {
    let mut parts = vec!["(SELECT COALESCE(MAX(version), 0) FROM altimail_directory_version) AS v".to_owned()];
    parts.extend(
        MIRRORED_KEYS.iter().map(|(table, id)| format!("(SELECT COALESCE(MAX({id}), 0) FROM {table}) AS {table}")),
    );
    format!("SELECT {}", parts.join(", "))
}

async fn quick_prints(db: &Db) -> Result<QuickPrints, StoreError> {
    let row = db.fetch_optional(&quick_prints_sql(), &[]).await?;
    let row = row.ok_or_else(|| StoreError::Decode("no quick fingerprint row".into()))?;
    let mut out = [row.int("v")?, 0, 0, 0, 0, 0, 0, 0, 0];
    for (slot, (table, _)) in out[1..].iter_mut().zip(MIRRORED_KEYS) {
        *slot = row.int(table)?;
    }
    Ok(QuickPrints(out))
}

async fn fingerprints(db: &Db) -> Result<Prints, StoreError> {
    let row = db.fetch_optional(&fingerprint_sql(db.dialect()), &[]).await?;
    row.as_ref().map(read_prints).transpose()?.ok_or_else(|| StoreError::Decode("no fingerprint row".into()))
}

/// Domains, domain aliases and routes: small even with 10,000 domains.
#[derive(Debug, Default)]
struct SmallTables {
    domains_by_name: HashMap<String, Arc<Domain>>,
    domains_by_id: HashMap<i64, Arc<Domain>>,
    domain_aliases: HashMap<String, i64>,
    /// In hMailServer's order (see [`routes::list`]).
    routes: Vec<IndexedRoute>,
}

/// `hm_aliases`, by lower-cased name.
#[derive(Debug, Default)]
struct Aliases {
    by_name: HashMap<String, Alias>,
}

/// `hm_distributionlists` by lower-cased address, and their members by list id.
#[derive(Debug, Default)]
struct Lists {
    by_address: HashMap<String, List>,
    members: HashMap<i64, Vec<String>>,
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

async fn load_aliases(db: &Db) -> Result<Aliases, StoreError> {
    let mut by_name = HashMap::new();
    // In id order: the first added alias of a name counts, as a search by name finds it.
    for alias in aliases::all(db).await? {
        by_name.entry(alias.name.to_lowercase()).or_insert(alias);
    }
    Ok(Aliases { by_name })
}

async fn load_lists(db: &Db) -> Result<Lists, StoreError> {
    let mut by_address = HashMap::new();
    for list in lists::all(db).await? {
        by_address.entry(list.address.to_lowercase()).or_insert(list);
    }
    let mut members: HashMap<i64, Vec<String>> = HashMap::new();
    for (list_id, address) in lists::all_members(db).await? {
        members.entry(list_id).or_default().push(address);
    }
    Ok(Lists { by_address, members })
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
    quick: Option<QuickPrints>,
    /// When the checksum last ran.
    summed: Option<Instant>,
    checked: Option<Instant>,
    loaded: Option<Instant>,
    generation: u64,
}

/// The last snapshot checked: what lookups get without touching the database.
#[derive(Clone)]
struct Published {
    snapshot: Arc<Snapshot>,
    /// The value of [`GENERATION`] the check started from.
    generation: u64,
    /// When the check ended.
    checked: Instant,
}

/// The index of one database. Get it with [`DirectoryIndex::of`].
#[derive(Default)]
pub struct DirectoryIndex {
    /// Held while checking or loading, so that one check runs at a time.
    state: tokio::sync::Mutex<State>,
    published: Mutex<Option<Published>>,
    /// A background check is under way.
    checking: AtomicBool,
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

/// Clears [`DirectoryIndex::checking`] when the background check ends, or is dropped with its
/// runtime.
struct CheckingFlag(Arc<DirectoryIndex>);

impl Drop for CheckingFlag {
    fn drop(&mut self) {
        self.0.checking.store(false, Ordering::Release);
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

    /// The current snapshot of `db`'s directory. It is checked against the database before
    /// answering when this process changed the directory since the last check, or when that
    /// check is older than twice [`REFRESH`]; when it is only older than [`REFRESH`], the check
    /// starts in the background and the lookup is answered at once.
    pub async fn snapshot(self: &Arc<Self>, db: &Db) -> Result<Arc<Snapshot>, StoreError> {
        let generation = GENERATION.load(Ordering::Acquire);
        let published = self.published.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(published) = published
            && published.generation == generation
        {
            let age = published.checked.elapsed();
            if age < REFRESH {
                return Ok(published.snapshot);
            }
            if age < 2 * REFRESH && self.check_in_background(db) {
                return Ok(published.snapshot);
            }
        }
        let mut state = self.state.lock().await;
        // Another lookup may have checked while this one waited.
        if let (Some(snapshot), Some(checked)) = (&state.snapshot, state.checked)
            && checked.elapsed() < REFRESH
            && generation == state.generation
        {
            return Ok(snapshot.clone());
        }
        self.check(db, &mut state, generation).await
    }

    /// Starts a check on the runtime's threads unless one is under way; `false` when there is
    /// no runtime to run it on.
    fn check_in_background(self: &Arc<Self>, db: &Db) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return false };
        if self.checking.swap(true, Ordering::AcqRel) {
            return true;
        }
        let flag = CheckingFlag(self.clone());
        let db = db.clone();
        runtime.spawn(async move {
            let index = flag.0.clone();
            let mut state = index.state.lock().await;
            let fresh = state.checked.is_some_and(|at| at.elapsed() < REFRESH);
            if !fresh {
                let generation = GENERATION.load(Ordering::Acquire);
                // An error is logged by `check`; the previous snapshot stays published.
                let _ = index.check(&db, &mut state, generation).await;
            }
            drop(state);
            drop(flag);
        });
        true
    }

    /// Checks the database (reloading what moved), records and publishes the result. On an
    /// error the previous snapshot stays in use until the next check.
    async fn check(&self, db: &Db, state: &mut State, generation: u64) -> Result<Arc<Snapshot>, StoreError> {
        match refresh(db, state).await {
            Ok(()) => state.generation = generation,
            Err(e) => match &state.snapshot {
                Some(_) => tracing::warn!("checking the directory index: {e}; using the previous snapshot"),
                None => return Err(e),
            },
        }
        let checked = Instant::now();
        state.checked = Some(checked);
        let snapshot = state.snapshot.clone().ok_or_else(|| StoreError::Decode("directory index not loaded".into()))?;
        *self.published.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Published { snapshot: snapshot.clone(), generation: state.generation, checked });
        Ok(snapshot)
    }
}

/// Reads the fingerprints and reloads the groups of tables whose fingerprint moved (everything
/// when the snapshot is older than [`FULL_RELOAD`]).
async fn refresh(db: &Db, state: &mut State) -> Result<(), StoreError> {
    // Without the version table (a schema Altimail has not upgraded) every check sums.
    let quick = quick_prints(db).await.ok();
    let full = state.snapshot.is_none() || state.loaded.is_none_or(|at| at.elapsed() >= FULL_RELOAD);
    let rows = state.prints.map_or(0, |p| p.rows);
    let spacing = REFRESH.max(Duration::from_secs_f64(rows as f64 / CHECKSUM_ROWS_PER_SECOND as f64));
    let checksum_due = state.summed.is_none_or(|at| at.elapsed() >= spacing);
    if !full && !checksum_due && quick.is_some() && state.quick == quick {
        return Ok(());
    }
    let prints = fingerprints(db).await?;
    state.summed = Some(Instant::now());
    // An Altimail process changed the directory in a way no checksum shows (a rename keeping
    // every length): read it all again rather than wait for the full reload.
    let version_moved = matches!((state.quick, quick), (Some(old), Some(new)) if old.0[0] != new.0[0]);
    // Read before the tables, like the checksum: a change committed in between moves it again.
    state.quick = quick;
    let old = state.prints.unwrap_or_default();
    let full = full || (version_moved && old == prints);
    let small_moved = full || old.small != prints.small;
    let accounts_moved = full || old.accounts != prints.accounts;
    let aliases_moved = full || old.aliases != prints.aliases;
    let lists_moved = full || old.lists != prints.lists;
    if !(small_moved || accounts_moved || aliases_moved || lists_moved) {
        return Ok(());
    }
    let previous = state.snapshot.clone().unwrap_or_default();
    let next = Snapshot {
        small: if small_moved { Arc::new(load_small(db).await?) } else { previous.small.clone() },
        accounts: if accounts_moved { Arc::new(load_accounts(db).await?) } else { previous.accounts.clone() },
        aliases: if aliases_moved { Arc::new(load_aliases(db).await?) } else { previous.aliases.clone() },
        lists: if lists_moved { Arc::new(load_lists(db).await?) } else { previous.lists.clone() },
    };
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
        assert!(changes_directory("UPDATE hm_aliases SET aliasactive = ? WHERE aliasid = ?"));
        assert!(changes_directory("INSERT INTO hm_distributionlists (a) VALUES (?)"));
        assert!(changes_directory("DELETE FROM hm_distributionlistsrecipients WHERE distributionlistrecipientid = ?"));
        assert!(changes_directory("UPDATE hm_accounts SET accountactive = ? WHERE accountid = ?"));
        assert!(!changes_directory("SELECT * FROM hm_accounts"));
        assert!(!changes_directory("INSERT INTO hm_messages (a) VALUES (?)"));
        assert!(!changes_directory("UPDATE hm_accounts SET accountlastlogontime = ? WHERE accountid = ?"));
        assert!(!changes_directory(
            "UPDATE hm_accounts SET accountpassword = ?, accountpwencryption = ? WHERE accountid = ?"
        ));
    }
}
