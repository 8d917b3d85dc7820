//! Making a backup while the server runs.
//!
//! Consistency: every row comes from one read-only snapshot transaction, so the archive shows
//! the database at one instant. Message files are never changed in place (a new version is a
//! new file), so a row of the snapshot names exactly the bytes it had then. A message delivered
//! after the snapshot began is not in the backup at all (neither row nor file); a message
//! expunged after it began may have lost its file by the time it is copied: it is then left out
//! of the XML too, counted and logged, as if it had been expunged a moment earlier.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use altimail_store::repo::backup::Snapshot;
use altimail_store::{Location, Row, Store};

use crate::archive;
use crate::format::{self, Col, Kind};
use crate::xml_write::XmlWriter;
use crate::{BackupError, BackupLog, Hook, Options, Outcome, Progress};

/// What a finished backup holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub archive: PathBuf,
    pub domains: u64,
    pub accounts: u64,
    pub messages: u64,
    pub bytes: u64,
    /// Messages whose file was gone when it was to be copied (expunged meanwhile, or lost).
    pub missing_files: u64,
}

/// Reports steps to the log and the caller.
pub(crate) struct Reporter<'a> {
    pub log: &'a BackupLog,
    pub progress: &'a mut dyn FnMut(Progress),
}

impl Reporter<'_> {
    pub fn step(&mut self, text: &str) {
        self.log.line(text);
        (self.progress)(Progress::Step(text.to_string()));
    }
}

/// Makes a backup of `store` into folder `destination`; calls `hook` with the outcome.
pub async fn run(
    store: &Store,
    destination: &Path,
    options: Options,
    log: &BackupLog,
    progress: &mut dyn FnMut(Progress),
    hook: Hook<'_>,
) -> Result<Summary, BackupError> {
    let mut reporter = Reporter { log, progress };
    reporter.step("Loading backup settings....");
    match make(store, destination, options, &mut reporter).await {
        Ok(summary) => {
            reporter.step(&format!(
                "Backup completed: {} ({} domains, {} accounts, {} messages, {} bytes{}).",
                summary.archive.display(),
                summary.domains,
                summary.accounts,
                summary.messages,
                summary.bytes,
                if summary.missing_files > 0 {
                    format!(", {} messages left out: file gone", summary.missing_files)
                } else {
                    String::new()
                }
            ));
            hook(&Outcome::Completed);
            Ok(summary)
        }
        Err(e) => {
            reporter.step(&format!("Backup failed: {e}"));
            hook(&Outcome::Failed(e.to_string()));
            Err(e)
        }
    }
}

struct Job<'a> {
    store: &'a Store,
    snap: Snapshot,
    xml: XmlWriter<BufWriter<File>>,
    zip: archive::Writer,
    /// Where message files go: into the archive, or into this folder ("Raw" format).
    raw_dir: Option<PathBuf>,
    options: Options,
    summary: Summary,
}

async fn make(
    store: &Store,
    destination: &Path,
    options: Options,
    reporter: &mut Reporter<'_>,
) -> Result<Summary, BackupError> {
    if !destination.is_dir() {
        return Err(BackupError::Refused(format!(
            "The specified backup directory is not accessible: {}",
            destination.display()
        )));
    }
    let stamp = chrono::Local::now().format("%Y-%m-%d %H%M%S");
    let archive_path = destination.join(format!("HMBackup {stamp}.7z"));
    if archive_path.exists() {
        return Err(BackupError::Refused(format!("{} already exists", archive_path.display())));
    }
    let raw_dir =
        (options.messages && options.domains && !options.compress).then(|| destination.join(format::DATA_DIR_NAME));
    if let Some(dir) = &raw_dir
        && dir.exists()
    {
        return Err(BackupError::Refused(format!(
            "{} already exists (left by an earlier uncompressed backup): move it away first",
            dir.display()
        )));
    }
    let xml_path = destination.join(format::XML_NAME);
    let xml_file = File::create(&xml_path).map_err(|e| BackupError::io(&xml_path, e))?;
    let xml =
        XmlWriter::new(BufWriter::with_capacity(256 * 1024, xml_file)).map_err(|e| BackupError::io(&xml_path, e))?;
    let zip = archive::Writer::create(&archive_path, options.compress)?;
    let snap = Snapshot::begin(&store.db).await?;
    let raw_copy = raw_dir.clone();
    let mut job = Job {
        store,
        snap,
        xml,
        zip,
        raw_dir,
        options,
        summary: Summary { archive: archive_path.clone(), ..Summary::default() },
    };
    let result = job.write_all(reporter, &xml_path).await;
    let Job { snap, xml, zip, summary, .. } = job;
    let finished = async {
        result?;
        snap.end().await?;
        reporter.step("Writing XML file...");
        let out = xml.finish().map_err(|e| BackupError::io(&xml_path, e))?;
        out.into_inner().map_err(|e| BackupError::io(&xml_path, e.into_error()))?.sync_all().ok();
        let mut zip = zip;
        let xml_file = File::open(&xml_path).map_err(|e| BackupError::io(&xml_path, e))?;
        zip.add(format::XML_NAME, xml_file, None)?;
        zip.finish()
    }
    .await;
    let _ = fs::remove_file(&xml_path);
    if let Err(e) = finished {
        let _ = fs::remove_file(&archive_path);
        if let Some(dir) = raw_copy {
            let _ = fs::remove_dir_all(dir);
        }
        return Err(e);
    }
    Ok(summary)
}

/// The text of attribute `col` of `row`.
fn attr_text(row: &Row, col: Col) -> Result<String, BackupError> {
    Ok(match col {
        Col::Plain(c) | Col::WriteOnly(c) => row.text(c)?,
        Col::Ip(c1, c2) => {
            altimail_core::ip::from_columns(row.int(c1)?, row.opt_int(c2)?).map(|ip| ip.to_string()).unwrap_or_default()
        }
        Col::NameOf(c, _, _) => row.int(c)?.to_string(),
    })
}

impl Job<'_> {
    async fn write_all(&mut self, reporter: &mut Reporter<'_>, xml_path: &Path) -> Result<(), BackupError> {
        let io = |e| BackupError::io(xml_path, e);
        self.xml.open::<&str, &str>("Backup", &[]).map_err(io)?;
        let info = vec![("Mode", self.options.bits().to_string()), ("Version", crate::version())];
        self.xml.open("BackupInformation", &info).map_err(io)?;
        if self.options.messages {
            if self.options.compress {
                self.xml.empty("DataFiles", &[("Format", "7z"), ("Size", "0")]).map_err(io)?;
            } else {
                self.xml.empty("DataFiles", &[("Format", "Raw"), ("FolderName", format::DATA_DIR_NAME)]).map_err(io)?;
            }
        }
        self.xml.close().map_err(io)?;
        if self.options.domains {
            reporter.step("Backing up domains...");
            self.write_domains(reporter).await?;
        }
        if self.options.settings {
            reporter.step("Backing up settings...");
            self.write_settings(reporter).await?;
        }
        self.xml.close().map_err(io)
    }

    fn xml_err(&self, e: std::io::Error) -> BackupError {
        BackupError::Io { path: format::XML_NAME.into(), source: e }
    }

    /// The attributes of one object, with names looked up for references.
    async fn attrs(&mut self, kind: &Kind, row: &Row) -> Result<Vec<(&'static str, String)>, BackupError> {
        let mut attrs = Vec::with_capacity(kind.attrs.len());
        for (name, col) in kind.attrs {
            let value = match *col {
                Col::NameOf(c, table, name_col) => {
                    let id = row.int(c)?;
                    if id <= 0 {
                        continue;
                    }
                    let key = altimail_store::schema::table(table)
                        .and_then(|t| t.columns.first())
                        .map(|c| c.name)
                        .unwrap_or_default();
                    match self.snap.rows(table, Some((key, id))).await?.first() {
                        Some(r) => r.text(name_col)?,
                        None => continue,
                    }
                }
                other => attr_text(row, other)?,
            };
            attrs.push((*name, value));
        }
        Ok(attrs)
    }

    /// A collection of objects without children; nothing when there are none.
    async fn write_flat(&mut self, kind: &Kind, filter: Option<(&str, i64)>) -> Result<(), BackupError> {
        let rows = self.snap.rows(kind.table, filter).await?;
        if rows.is_empty() {
            return Ok(());
        }
        self.xml.open::<&str, &str>(kind.collection, &[]).map_err(|e| self.xml_err(e))?;
        for row in &rows {
            let attrs = self.attrs(kind, row).await?;
            self.xml.empty(kind.element, &attrs).map_err(|e| self.xml_err(e))?;
        }
        self.xml.close().map_err(|e| self.xml_err(e))
    }

    async fn open_object(&mut self, kind: &Kind, row: &Row) -> Result<(), BackupError> {
        let attrs = self.attrs(kind, row).await?;
        self.xml.open(kind.element, &attrs).map_err(|e| self.xml_err(e))
    }

    fn open_collection(&mut self, name: &str) -> Result<(), BackupError> {
        self.xml.open::<&str, &str>(name, &[]).map_err(|e| self.xml_err(e))
    }

    fn close(&mut self) -> Result<(), BackupError> {
        self.xml.close().map_err(|e| self.xml_err(e))
    }

    async fn write_domains(&mut self, reporter: &mut Reporter<'_>) -> Result<(), BackupError> {
        let domains = self.snap.rows(format::DOMAIN.table, None).await?;
        if domains.is_empty() {
            return Ok(());
        }
        self.open_collection(format::DOMAIN.collection)?;
        for domain in &domains {
            let domain_id = domain.int(format::DOMAIN.key)?;
            self.open_object(&format::DOMAIN, domain).await?;
            self.summary.domains += 1;
            self.write_flat(&format::DOMAIN_ALIAS, Some(("dadomainid", domain_id))).await?;
            let accounts = self.snap.rows(format::ACCOUNT.table, Some(("accountdomainid", domain_id))).await?;
            if !accounts.is_empty() {
                self.open_collection(format::ACCOUNT.collection)?;
                for account in &accounts {
                    self.write_account(account, reporter).await?;
                }
                self.close()?;
            }
            self.write_flat(&format::ALIAS, Some(("aliasdomainid", domain_id))).await?;
            let lists = self.snap.rows(format::LIST.table, Some(("distributionlistdomainid", domain_id))).await?;
            if !lists.is_empty() {
                self.open_collection(format::LIST.collection)?;
                for list in &lists {
                    self.open_object(&format::LIST, list).await?;
                    let id = list.int(format::LIST.key)?;
                    self.write_flat(&format::LIST_RECIPIENT, Some(("distributionlistrecipientlistid", id))).await?;
                    self.close()?;
                }
                self.close()?;
            }
            self.close()?;
        }
        self.close()
    }

    async fn write_account(&mut self, account: &Row, reporter: &mut Reporter<'_>) -> Result<(), BackupError> {
        let id = account.int(format::ACCOUNT.key)?;
        let address = account.text("accountaddress")?;
        reporter.step(&format!("Backing up account {address}..."));
        self.summary.accounts += 1;
        self.open_object(&format::ACCOUNT, account).await?;
        let fetch = self.snap.rows(format::FETCH_ACCOUNT.table, Some(("faaccountid", id))).await?;
        if !fetch.is_empty() {
            self.open_collection(format::FETCH_ACCOUNT.collection)?;
            for fa in &fetch {
                self.open_object(&format::FETCH_ACCOUNT, fa).await?;
                self.write_flat(&format::FETCH_UID, Some(("uidfaid", fa.int("faid")?))).await?;
                self.close()?;
            }
            self.close()?;
        }
        self.write_rules(id).await?;
        if self.options.messages {
            self.write_folders(id, Location::Account(&address), format::FOLDER.collection, reporter).await?;
        }
        self.close()
    }

    async fn write_rules(&mut self, account_id: i64) -> Result<(), BackupError> {
        let rules = self.snap.rows(format::RULE.table, Some(("ruleaccountid", account_id))).await?;
        if rules.is_empty() {
            return Ok(());
        }
        self.open_collection(format::RULE.collection)?;
        for rule in &rules {
            let id = rule.int(format::RULE.key)?;
            self.open_object(&format::RULE, rule).await?;
            self.write_flat(&format::CRITERIA, Some(("criteriaruleid", id))).await?;
            self.write_flat(&format::ACTION, Some(("actionruleid", id))).await?;
            self.close()?;
        }
        self.close()
    }

    /// The folder tree of one account (or the public folders, account 0), walked with an
    /// explicit stack: nesting depth comes from the database, not from the call stack.
    async fn write_folders(
        &mut self,
        account_id: i64,
        location: Location<'_>,
        collection: &str,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), BackupError> {
        let folders = self.snap.rows(format::FOLDER.table, Some(("folderaccountid", account_id))).await?;
        if folders.is_empty() {
            return Ok(());
        }
        let ids: HashMap<i64, usize> =
            folders.iter().enumerate().filter_map(|(i, f)| f.int("folderid").ok().map(|id| (id, i))).collect();
        let mut children: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (i, f) in folders.iter().enumerate() {
            let parent = f.int("folderparentid")?;
            if ids.contains_key(&parent) {
                children.entry(parent).or_default().push(i);
            } else {
                roots.push(i);
            }
        }
        enum Task {
            Folder(usize),
            Close,
        }
        self.open_collection(collection)?;
        let mut stack = vec![Task::Close];
        stack.extend(roots.into_iter().rev().map(Task::Folder));
        while let Some(task) = stack.pop() {
            match task {
                Task::Close => self.close()?,
                Task::Folder(i) => {
                    let folder = &folders[i];
                    let folder_id = folder.int("folderid")?;
                    self.open_object(&format::FOLDER, folder).await?;
                    if self.options.messages {
                        self.write_messages(account_id, folder_id, location, reporter).await?;
                    }
                    stack.push(Task::Close);
                    if let Some(kids) = children.get(&folder_id) {
                        self.open_collection(collection)?;
                        stack.push(Task::Close);
                        stack.extend(kids.iter().rev().map(|&k| Task::Folder(k)));
                    }
                }
            }
        }
        Ok(())
    }

    async fn write_messages(
        &mut self,
        account_id: i64,
        folder_id: i64,
        location: Location<'_>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), BackupError> {
        const PAGE: i64 = 1000;
        let mut after = 0;
        let mut opened = false;
        loop {
            let rows = self
                .snap
                .page(
                    format::MESSAGE.table,
                    &[("messageaccountid", account_id), ("messagefolderid", folder_id)],
                    after,
                    PAGE,
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.int("messageid")?;
            for row in &rows {
                let Some(bytes) = self.copy_message_file(row, location, reporter)? else { continue };
                if !opened {
                    self.open_collection(format::MESSAGE.collection)?;
                    opened = true;
                }
                let mut attrs = self.attrs(&format::MESSAGE, row).await?;
                // The file name only, as hMailServer writes it (older rows may hold a path).
                for (name, value) in attrs.iter_mut() {
                    if *name == "Filename" {
                        *value = base_name(value).to_string();
                    }
                }
                self.xml.empty(format::MESSAGE.element, &attrs).map_err(|e| self.xml_err(e))?;
                self.summary.messages += 1;
                self.summary.bytes += bytes;
                if self.summary.messages.is_multiple_of(500) {
                    (reporter.progress)(Progress::Messages { done: self.summary.messages, bytes: self.summary.bytes });
                }
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        if opened {
            self.close()?;
        }
        Ok(())
    }

    /// Copies one message's file into the archive (or the raw folder); `None` when it is gone.
    fn copy_message_file(
        &mut self,
        row: &Row,
        location: Location<'_>,
        reporter: &mut Reporter<'_>,
    ) -> Result<Option<u64>, BackupError> {
        let stored = row.text("messagefilename")?;
        let name = base_name(&stored);
        let source = self.store.files.resolve(location, &stored);
        let canonical = self.store.files.path_for(location, name);
        let relative = relative_name(self.store.files.data_dir(), &canonical);
        let file = match File::open(&source) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.summary.missing_files += 1;
                reporter.step(&format!("Message file {} is gone; message left out.", source.display()));
                return Ok(None);
            }
            Err(e) => return Err(BackupError::io(&source, e)),
        };
        let modified = file.metadata().ok().and_then(|m| m.modified().ok());
        match &self.raw_dir {
            None => {
                let entry = format!("{}/{relative}", format::DATA_DIR_NAME);
                let size = file.metadata().map_err(|e| BackupError::io(&source, e))?.len();
                self.zip.add_file(&entry, file, size, modified)?;
                Ok(Some(size))
            }
            Some(dir) => {
                let target = dir.join(&relative);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(|e| BackupError::io(parent, e))?;
                }
                let mut out = File::create(&target).map_err(|e| BackupError::io(&target, e))?;
                let mut input = file;
                let n = std::io::copy(&mut input, &mut out).map_err(|e| BackupError::io(&target, e))?;
                out.flush().map_err(|e| BackupError::io(&target, e))?;
                Ok(Some(n))
            }
        }
    }

    async fn write_settings(&mut self, reporter: &mut Reporter<'_>) -> Result<(), BackupError> {
        let settings = self.snap.rows("hm_settings", None).await?;
        self.open_collection("Properties")?;
        for s in &settings {
            let name = s.text("settingname")?;
            if !is_xml_name(&name) {
                continue;
            }
            let attrs =
                [("LongValue", s.int("settinginteger")?.to_string()), ("StringValue", s.text("settingstring")?)];
            self.xml.empty(&name, &attrs).map_err(|e| self.xml_err(e))?;
        }
        self.close()?;
        self.write_flat(&format::SECURITY_RANGE, None).await?;
        self.write_rules(0).await?;
        for kind in format::FLAT_SETTINGS {
            self.write_flat(kind, None).await?;
        }
        let routes = self.snap.rows(format::ROUTE.table, None).await?;
        if !routes.is_empty() {
            self.open_collection(format::ROUTE.collection)?;
            for route in &routes {
                self.open_object(&format::ROUTE, route).await?;
                let id = route.int(format::ROUTE.key)?;
                self.write_flat(&format::ROUTE_ADDRESS, Some(("routeaddressrouteid", id))).await?;
                self.close()?;
            }
            self.close()?;
        }
        self.write_flat(&format::INCOMING_RELAY, None).await?;
        self.write_folders(0, Location::Public, format::PUBLIC_FOLDERS, reporter).await?;
        let groups = self.snap.rows(format::GROUP.table, None).await?;
        if !groups.is_empty() {
            self.open_collection(format::GROUP.collection)?;
            for group in &groups {
                self.open_object(&format::GROUP, group).await?;
                let id = group.int(format::GROUP.key)?;
                self.write_flat(&format::GROUP_MEMBER, Some(("membergroupid", id))).await?;
                self.close()?;
            }
            self.close()?;
        }
        for kind in format::FLAT_ANTISPAM {
            self.write_flat(kind, None).await?;
        }
        Ok(())
    }
}

/// The last component of a stored file name (`/` or `\` separated).
pub(crate) fn base_name(stored: &str) -> &str {
    stored.rsplit(['/', '\\']).next().unwrap_or(stored)
}

/// `path` relative to `base`, with `/` separators.
fn relative_name(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Setting names become element names: only plain names are written.
fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(base_name("C:\\Data\\a.com\\b\\AB\\{AB}.eml"), "{AB}.eml");
        assert_eq!(base_name("{AB}.eml"), "{AB}.eml");
        assert!(is_xml_name("maxpop3connections"));
        assert!(!is_xml_name("1abc"));
        assert!(!is_xml_name("a b"));
        assert_eq!(relative_name(Path::new("/d"), Path::new("/d/a.com/u/AB/x.eml")), "a.com/u/AB/x.eml");
    }
}
