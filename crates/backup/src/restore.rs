//! Restoring a backup made by hMailServer 5.6/5.7 or by Altimail.
//!
//! The archive is streamed once into a staging folder inside the data directory (the XML and,
//! when messages are restored, the files under `DataBackup/`); the XML is then read as a stream
//! once per class of objects. Each class is one database transaction: domains (with their
//! accounts, aliases, lists, rules, external accounts, folders and messages), then settings.
//! Message files are moved into place before the domains' transaction commits and removed
//! again if it does not, so a failed class leaves neither rows nor files behind. A class that
//! fails stops the restore; the summary says which classes were restored before it.
//!
//! Unlike hMailServer, which deletes every existing domain first, a restore only adds domains
//! the server does not have: a domain that exists already stops the restore before anything is
//! written (delete it first to replace it).

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

use altimail_store::repo::backup::{Field, Loader};
use altimail_store::{Location, Store};

use crate::backup::{Reporter, base_name};
use crate::format::{self, Col, Kind};
use crate::xml_read::{Node, XmlReader};
use crate::{BackupError, BackupLog, Hook, Options, Outcome, Progress, archive};

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The classes restored ("domains", "settings"), in order.
    pub restored: Vec<&'static str>,
    pub domains: u64,
    pub accounts: u64,
    pub messages: u64,
    /// Messages whose file was not in the backup: their rows were not restored either.
    pub missing_files: u64,
    /// Objects the archive holds that this restore leaves out, with why.
    pub skipped: Vec<String>,
}

/// Restores the classes chosen in `options` from `archive_path` into `store`.
pub async fn run(
    store: &Store,
    archive_path: &Path,
    options: Options,
    log: &BackupLog,
    progress: &mut dyn FnMut(Progress),
    hook: Hook<'_>,
) -> Result<Summary, BackupError> {
    let mut reporter = Reporter { log, progress };
    let staging = store.files.data_dir().join(format!(".restore-{}", uuid::Uuid::new_v4().simple()));
    let mut summary = Summary::default();
    let result = restore(store, archive_path, options, &staging, &mut summary, &mut reporter).await;
    let _ = fs::remove_dir_all(&staging);
    match result {
        Ok(()) => {
            reporter.step(&format!(
                "Restore completed successfully ({}; {} domains, {} accounts, {} messages{}).",
                if summary.restored.is_empty() { "nothing chosen".to_string() } else { summary.restored.join(", ") },
                summary.domains,
                summary.accounts,
                summary.messages,
                if summary.missing_files > 0 {
                    format!(", {} messages without a file left out", summary.missing_files)
                } else {
                    String::new()
                }
            ));
            hook(&Outcome::Completed);
            Ok(summary)
        }
        Err(e) => {
            let done = if summary.restored.is_empty() {
                "nothing was restored".to_string()
            } else {
                format!("restored before the failure: {}", summary.restored.join(", "))
            };
            reporter.step(&format!("Restore failed: {e} ({done})."));
            hook(&Outcome::Failed(e.to_string()));
            Err(e)
        }
    }
}

/// What `BackupInformation` says.
#[derive(Debug, Default)]
struct Info {
    mode: i64,
    format: String,
    folder_name: String,
}

async fn restore(
    store: &Store,
    archive_path: &Path,
    options: Options,
    staging: &Path,
    summary: &mut Summary,
    reporter: &mut Reporter<'_>,
) -> Result<(), BackupError> {
    reporter.step("Reading XML file...");
    fs::create_dir_all(staging).map_err(|e| BackupError::io(staging, e))?;
    let xml_path = staging.join(format::XML_NAME);
    let data_dir = staging.join("data");
    // Nothing chosen means everything the archive holds, messages included.
    let want_files = (options.domains && options.messages) || (!options.settings && !options.domains);
    let mut found_xml = false;
    let mut extracted: u64 = 0;
    archive::for_each_file(archive_path, |name, data| {
        let parts = safe_parts(name)?;
        if parts.len() == 1 && parts[0].eq_ignore_ascii_case(format::XML_NAME) {
            found_xml = true;
            return copy_to(data, &xml_path);
        }
        if want_files && parts.len() > 1 && parts[0].eq_ignore_ascii_case(format::DATA_DIR_NAME) {
            let target = parts[1..].iter().fold(data_dir.clone(), |p, c| p.join(c));
            extracted += 1;
            if extracted.is_multiple_of(1000) {
                (reporter.progress)(Progress::Step(format!("{extracted} files read from the archive")));
            }
            return copy_to(data, &target);
        }
        Ok(())
    })?;
    if !found_xml {
        return Err(BackupError::Format(format!("{} holds no {}", archive_path.display(), format::XML_NAME)));
    }
    let info = read_info(&xml_path)?;
    let has = Options::from_bits(info.mode);
    // Nothing chosen: whatever the archive holds.
    let options = if options.settings || options.domains { options } else { has };
    let mut refusals = Vec::new();
    if options.domains && !has.domains {
        refusals.push("domains");
    }
    if options.settings && !has.settings {
        refusals.push("settings");
    }
    if options.domains && options.messages && !has.messages {
        refusals.push("messages");
    }
    if !refusals.is_empty() {
        return Err(BackupError::Refused(format!(
            "this backup does not hold {} (it was made with backup options {}); nothing was restored",
            refusals.join(", "),
            info.mode
        )));
    }
    let files_dir = if info.format.eq_ignore_ascii_case("raw") {
        let parts = safe_parts(&info.folder_name)?;
        let base = archive_path.parent().unwrap_or(Path::new("."));
        parts.iter().fold(base.to_path_buf(), |p, c| p.join(c))
    } else {
        data_dir
    };
    if options.domains {
        reporter.step("Restoring domains...");
        let journal = staging.join("placed.txt");
        let mut pass = Pass::new(store, options, &files_dir, &journal, summary, reporter).await?;
        match pass.run_domains(&xml_path).await {
            Ok(()) => {
                pass.finish().await?;
                summary.restored.push("domains");
            }
            Err(e) => {
                drop(pass);
                remove_placed(&journal);
                return Err(e);
            }
        }
    }
    if options.settings {
        reporter.step("Restoring settings...");
        let journal = staging.join("placed-settings.txt");
        let mut pass = Pass::new(store, options, &files_dir, &journal, summary, reporter).await?;
        match pass.run_settings(&xml_path).await {
            Ok(()) => {
                pass.finish().await?;
                summary.restored.push("settings");
            }
            Err(e) => {
                drop(pass);
                remove_placed(&journal);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The components of a name inside an archive, refusing anything that could leave the folder
/// it is extracted to.
fn safe_parts(name: &str) -> Result<Vec<&str>, BackupError> {
    let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    let bad = parts.is_empty()
        || parts.iter().any(|p| *p == ".." || p.contains(':') || p.contains('\0'))
        || parts.iter().any(|p| Path::new(p).components().any(|c| !matches!(c, Component::Normal(_))));
    if bad {
        return Err(BackupError::Format(format!("unsafe name {name:?} in the archive")));
    }
    Ok(parts)
}

fn copy_to(data: &mut dyn Read, target: &Path) -> Result<(), BackupError> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| BackupError::io(parent, e))?;
    }
    let mut out = BufWriter::new(File::create(target).map_err(|e| BackupError::io(target, e))?);
    std::io::copy(data, &mut out).map_err(|e| BackupError::io(target, e))?;
    out.flush().map_err(|e| BackupError::io(target, e))
}

fn read_info(xml_path: &Path) -> Result<Info, BackupError> {
    let file = File::open(xml_path).map_err(|e| BackupError::io(xml_path, e))?;
    let mut reader = XmlReader::new(file);
    let mut info = Info::default();
    let mut first = true;
    let mut in_info = false;
    while let Some(node) = reader.next_node()? {
        match &node {
            Node::Open { name, .. } if first => {
                if name != "Backup" {
                    return Err(BackupError::Format(
                        "the supplied XML file is not a valid hMailServer backup file".into(),
                    ));
                }
                first = false;
            }
            Node::Open { name, .. } if name == "BackupInformation" => {
                info.mode = node.attr("Mode").trim().parse().unwrap_or(0);
                in_info = true;
            }
            Node::Open { name, .. } if in_info && name == "DataFiles" => {
                info.format = node.attr("Format").to_string();
                info.folder_name = node.attr("FolderName").to_string();
            }
            Node::Close { name } if name == "BackupInformation" => return Ok(info),
            _ => {}
        }
    }
    Err(BackupError::Format("no BackupInformation element".into()))
}

fn remove_placed(journal: &Path) {
    let Ok(file) = File::open(journal) else { return };
    for line in BufReader::new(file).lines().map_while(Result::ok) {
        let _ = fs::remove_file(line);
    }
}

/// Where the reader is in the document, one frame per open element.
#[derive(Debug, Clone)]
enum Frame {
    Backup,
    /// An element whose content this pass ignores.
    Skip,
    Domains,
    Domain {
        id: i64,
    },
    Accounts {
        domain: i64,
    },
    Account {
        id: i64,
    },
    /// A collection of `kind` owned by `parent` (0 for top-level objects).
    Flat {
        kind: &'static Kind,
        parent: i64,
    },
    /// An object whose children are collections of `kids`.
    Parent {
        id: i64,
        kids: &'static [&'static Kind],
    },
    FetchAccounts {
        account: i64,
    },
    Rules {
        account: i64,
    },
    Lists {
        domain: i64,
    },
    Routes,
    Groups,
    Folders {
        account: i64,
        parent: i64,
        public: bool,
    },
    Folder {
        account: i64,
        id: i64,
        public: bool,
    },
    Messages {
        account: i64,
        folder: i64,
        public: bool,
    },
    Properties,
    Ports,
}

const RULE_KIDS: &[&Kind] = &[&format::CRITERIA, &format::ACTION];
const FETCH_KIDS: &[&Kind] = &[&format::FETCH_UID];
const LIST_KIDS: &[&Kind] = &[&format::LIST_RECIPIENT];
const ROUTE_KIDS: &[&Kind] = &[&format::ROUTE_ADDRESS];
const GROUP_KIDS: &[&Kind] = &[&format::GROUP_MEMBER];

struct Pass<'a, 'r> {
    store: &'a Store,
    loader: Loader,
    options: Options,
    files_dir: &'a Path,
    journal: BufWriter<File>,
    journal_path: PathBuf,
    /// Files placed since the last flush, made durable in groups.
    placed: Vec<altimail_store::group_sync::Written>,
    sync: altimail_store::group_sync::GroupSync,
    summary: &'a mut Summary,
    reporter: &'a mut Reporter<'r>,
    /// Addresses of accounts, by their key (messages are placed by address).
    address: std::collections::HashMap<i64, String>,
    deferred_ports: Vec<Node>,
    public_folders_exist: bool,
}

impl<'a, 'r> Pass<'a, 'r> {
    async fn new(
        store: &'a Store,
        options: Options,
        files_dir: &'a Path,
        journal_path: &Path,
        summary: &'a mut Summary,
        reporter: &'a mut Reporter<'r>,
    ) -> Result<Pass<'a, 'r>, BackupError> {
        let journal = BufWriter::new(File::create(journal_path).map_err(|e| BackupError::io(journal_path, e))?);
        let mut loader = Loader::begin(&store.db).await?;
        let public_folders_exist = loader.any("hm_imapfolders", "folderaccountid", 0).await?;
        Ok(Pass {
            store,
            loader,
            options,
            files_dir,
            journal,
            journal_path: journal_path.to_path_buf(),
            placed: Vec::new(),
            sync: altimail_store::group_sync::GroupSync::new(&store.files),
            summary,
            reporter,
            address: Default::default(),
            deferred_ports: Vec::new(),
            public_folders_exist,
        })
    }

    /// Makes the placed files durable, then commits the class.
    async fn finish(mut self) -> Result<(), BackupError> {
        self.journal.flush().map_err(|e| BackupError::io(&self.journal_path, e))?;
        self.flush_placed()?;
        if let Err(e) = self.loader.commit().await {
            remove_placed(&self.journal_path);
            return Err(e.into());
        }
        Ok(())
    }

    fn flush_placed(&mut self) -> Result<(), BackupError> {
        if !self.placed.is_empty() {
            self.sync.sync(&self.placed).map_err(|e| BackupError::io(self.store.files.data_dir(), e))?;
            self.placed.clear();
        }
        Ok(())
    }

    async fn run_domains(&mut self, xml_path: &Path) -> Result<(), BackupError> {
        self.walk(xml_path, true).await
    }

    async fn run_settings(&mut self, xml_path: &Path) -> Result<(), BackupError> {
        self.clear_settings().await?;
        self.walk(xml_path, false).await?;
        for node in std::mem::take(&mut self.deferred_ports) {
            self.insert(&format::TCPIP_PORT, &node, None, &[]).await?;
        }
        Ok(())
    }

    /// hMailServer replaces each settings collection as a whole, present in the backup or not
    /// (IP ranges excepted, see [`Pass::enter`]).
    async fn clear_settings(&mut self) -> Result<(), BackupError> {
        for rule in self.loader.keys("hm_rules", "ruleaccountid", 0).await? {
            self.loader.clear_where("hm_rule_criterias", "criteriaruleid", rule).await?;
            self.loader.clear_where("hm_rule_actions", "actionruleid", rule).await?;
        }
        self.loader.clear_where("hm_rules", "ruleaccountid", 0).await?;
        for table in [
            "hm_tcpipports",
            "hm_sslcertificates",
            "hm_blocked_attachments",
            "hm_routeaddresses",
            "hm_routes",
            "hm_incoming_relays",
            "hm_group_members",
            "hm_groups",
            "hm_surblservers",
            "hm_greylisting_whiteaddresses",
            "hm_whitelist",
            "hm_dnsbl",
        ] {
            self.loader.clear(table).await?;
        }
        Ok(())
    }

    /// Streams the XML, restoring the domains part or the settings part.
    async fn walk(&mut self, xml_path: &Path, domains: bool) -> Result<(), BackupError> {
        let file = File::open(xml_path).map_err(|e| BackupError::io(xml_path, e))?;
        let mut reader = XmlReader::new(file);
        let mut stack: Vec<Frame> = Vec::new();
        while let Some(node) = reader.next_node()? {
            let name = match &node {
                Node::Close { .. } => {
                    stack.pop();
                    continue;
                }
                Node::Open { name, .. } => name.clone(),
            };
            let frame = match stack.last() {
                None if name == "Backup" => Frame::Backup,
                None => return Err(BackupError::Format("the root element is not Backup".into())),
                Some(parent) => self.enter(parent.clone(), &name, &node, domains).await?,
            };
            stack.push(frame);
        }
        Ok(())
    }

    /// What an element opened inside `parent` is, restoring the object it stands for.
    async fn enter(&mut self, parent: Frame, name: &str, node: &Node, domains: bool) -> Result<Frame, BackupError> {
        use Frame::*;
        Ok(match (parent, name) {
            (Skip, _) => Skip,
            (Backup, "Domains") if domains => Domains,
            (Backup, _) if domains => Skip,
            (Backup, "BackupInformation" | "Domains") => Skip,
            (Backup, "Properties") => Properties,
            (Backup, "SecurityRanges") => {
                // Replaced only when the backup has some: a server without IP ranges lets no
                // client in, the administrator included.
                self.loader.clear("hm_securityranges").await?;
                Flat { kind: &format::SECURITY_RANGE, parent: 0 }
            }
            (Backup, "Rules") => Rules { account: 0 },
            (Backup, "TCPIPPorts") => Ports,
            (Backup, "Routes") => Routes,
            (Backup, "Groups") => Groups,
            (Backup, format::PUBLIC_FOLDERS) => {
                if !self.options.messages {
                    Skip
                } else if self.public_folders_exist {
                    self.summary.skipped.push("public folders: the server has public folders already".into());
                    Skip
                } else {
                    Folders { account: 0, parent: -1, public: true }
                }
            }
            (Backup, other) => {
                let kinds = format::FLAT_SETTINGS.iter().chain(format::FLAT_ANTISPAM.iter());
                match kinds.into_iter().find(|k| k.collection == other) {
                    Some(kind) => Flat { kind, parent: 0 },
                    None => Skip,
                }
            }
            (Properties, setting) => {
                let long = altimail_store_atoi(node.attr("LongValue"));
                self.loader.set_setting(setting, node.attr("StringValue"), long).await?;
                Skip
            }
            (Ports, "TCPIPPort") => {
                self.deferred_ports.push(node.clone());
                Skip
            }
            (Domains, "Domain") => {
                let domain_name = node.attr("Name");
                if self.loader.find("hm_domains", "domainname", domain_name).await?.is_some() {
                    return Err(BackupError::Refused(format!(
                        "domain {domain_name} exists on this server already: delete it first to restore it from the backup"
                    )));
                }
                let id = self.insert(&format::DOMAIN, node, None, &[]).await?;
                self.summary.domains += 1;
                Domain { id }
            }
            (Domain { id }, "DomainAliases") => Flat { kind: &format::DOMAIN_ALIAS, parent: id },
            (Domain { id }, "Accounts") => Accounts { domain: id },
            (Domain { id }, "Aliases") => Flat { kind: &format::ALIAS, parent: id },
            (Domain { id }, "DistributionLists") => Lists { domain: id },
            (Accounts { domain }, "Account") => {
                let address = node.attr("Name").to_string();
                self.reporter.step(&format!("Restoring account {address}..."));
                let id = self.insert(&format::ACCOUNT, node, Some(domain), &[]).await?;
                self.summary.accounts += 1;
                if !self.options.messages {
                    self.create_inbox(id).await?;
                }
                self.address.insert(id, address);
                Account { id }
            }
            (Account { id }, "FetchAccounts") => FetchAccounts { account: id },
            (Account { id }, "Rules") => Rules { account: id },
            (Account { id }, "Folders") if self.options.messages => Folders { account: id, parent: -1, public: false },
            (FetchAccounts { account }, "FetchAccount") => {
                let id = self.insert(&format::FETCH_ACCOUNT, node, Some(account), &[]).await?;
                Parent { id, kids: FETCH_KIDS }
            }
            (Rules { account }, "Rule") => {
                let id = self.insert(&format::RULE, node, Some(account), &[]).await?;
                Parent { id, kids: RULE_KIDS }
            }
            (Lists { domain }, "DistributionList") => {
                let id = self.insert(&format::LIST, node, Some(domain), &[]).await?;
                Parent { id, kids: LIST_KIDS }
            }
            (Routes, "Route") => {
                let id = self.insert(&format::ROUTE, node, None, &[]).await?;
                Parent { id, kids: ROUTE_KIDS }
            }
            (Groups, "Group") => {
                let id = self.insert(&format::GROUP, node, None, &[]).await?;
                Parent { id, kids: GROUP_KIDS }
            }
            (Parent { id, kids }, collection) => match kids.iter().find(|k| k.collection == collection) {
                Some(kind) => Flat { kind, parent: id },
                None => Skip,
            },
            (Flat { kind, parent }, element) if element == kind.element => {
                if std::ptr::eq(kind, &format::GROUP_MEMBER) && node.attr("Name").is_empty() {
                    return Ok(Skip);
                }
                let owner = kind.parent.map(|_| parent);
                self.insert(kind, node, owner, &[]).await?;
                Skip
            }
            (Folders { account, parent, public }, "Folder") => {
                let extra = [("folderparentid", Field::Int(parent))];
                let id = self.insert(&format::FOLDER, node, Some(account), &extra).await?;
                Folder { account, id, public }
            }
            (Folder { account, id, public }, "Messages") => Messages { account, folder: id, public },
            (Folder { account, id, public }, "Folders" | "PublicFolders") => Folders { account, parent: id, public },
            (Messages { account, folder, public }, "Message") => {
                self.restore_message(account, folder, public, node).await?;
                Skip
            }
            _ => Skip,
        })
    }

    /// Inserts one object: its attributes, its owner's key, and `extra` columns.
    async fn insert(
        &mut self,
        kind: &Kind,
        node: &Node,
        owner: Option<i64>,
        extra: &[(&'static str, Field)],
    ) -> Result<i64, BackupError> {
        let mut fields: Vec<(&str, Field)> = Vec::with_capacity(kind.attrs.len() + 2);
        for (xml, col) in kind.attrs {
            match *col {
                Col::Plain(c) => fields.push((c, Field::Text(node.attr(xml).to_string()))),
                Col::WriteOnly(_) => {}
                Col::Ip(c1, c2) => {
                    if let Ok(ip) = node.attr(xml).trim().parse::<IpAddr>() {
                        let (a, b) = altimail_core::ip::to_columns(ip);
                        fields.push((c1, Field::Int(a)));
                        if let Some(b) = b {
                            fields.push((c2, Field::Int(b)));
                        }
                    }
                }
                Col::NameOf(c, table, name_col) => {
                    let name = node.attr(xml);
                    if name.is_empty() {
                        continue;
                    }
                    match self.loader.find(table, name_col, name).await? {
                        Some(id) => fields.push((c, Field::Int(id))),
                        None => {
                            self.summary.skipped.push(format!("{}: {xml} {name} does not exist here", kind.element));
                            if std::ptr::eq(kind, &format::GROUP_MEMBER) {
                                return Ok(0);
                            }
                        }
                    }
                }
            }
        }
        if let (Some(col), Some(id)) = (kind.parent, owner) {
            fields.push((col, Field::Int(id)));
        }
        for (c, f) in extra {
            fields.push((c, f.clone()));
        }
        self.loader.insert(kind.table, &fields).await.map_err(|e| {
            BackupError::Refused(format!("{} {:?} could not be restored: {e}", kind.element, node.attr("Name")))
        })
    }

    async fn create_inbox(&mut self, account: i64) -> Result<(), BackupError> {
        let now = chrono::Local::now().naive_local().format("%Y-%m-%d %H:%M:%S").to_string();
        let fields = [
            ("folderaccountid", Field::Int(account)),
            ("folderparentid", Field::Int(-1)),
            ("foldername", Field::Text("INBOX".into())),
            ("folderissubscribed", Field::Int(1)),
            ("foldercreationtime", Field::Text(now)),
        ];
        self.loader.insert("hm_imapfolders", &fields).await?;
        Ok(())
    }

    /// Moves a message's file into place and inserts its row; a message whose file is not in
    /// the backup is left out and counted.
    async fn restore_message(
        &mut self,
        account: i64,
        folder: i64,
        public: bool,
        node: &Node,
    ) -> Result<(), BackupError> {
        let stored = node.attr("Filename");
        let name = base_name(stored);
        if safe_parts(name).map(|p| p.len() != 1).unwrap_or(true) {
            return Err(BackupError::Format(format!("message file name {stored:?} is not a plain file name")));
        }
        let address = if public { None } else { self.address.get(&account).cloned() };
        let location = match &address {
            Some(a) => Location::Account(a),
            None => Location::Public,
        };
        let target = self.store.files.path_for(location, name);
        let relative = target.strip_prefix(self.store.files.data_dir()).unwrap_or(&target).to_path_buf();
        let Some(source) = find_file(self.files_dir, &relative) else {
            self.summary.missing_files += 1;
            self.reporter.step(&format!("Message file {} is not in the backup; message left out.", relative.display()));
            return Ok(());
        };
        if target.exists() {
            return Err(BackupError::Refused(format!("{} exists already; it would be overwritten", target.display())));
        }
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(|e| BackupError::io(dir, e))?;
        }
        let written = altimail_store::group_sync::Written::starting(target.clone());
        writeln!(self.journal, "{}", target.display()).map_err(|e| BackupError::io(&self.journal_path, e))?;
        // Files extracted into the staging folder are moved; a "Raw" backup's folder is kept.
        let moved = source.starts_with(self.store.files.data_dir()) && fs::rename(&source, &target).is_ok();
        if !moved {
            fs::hard_link(&source, &target)
                .or_else(|_| fs::copy(&source, &target).map(|_| ()))
                .map_err(|e| BackupError::io(&target, e))?;
        }
        self.placed.push(written);
        if self.placed.len() >= 2000 {
            self.flush_placed()?;
        }
        let size = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        let extra = [("messageaccountid", Field::Int(account)), ("messagefilename", Field::Text(name.to_string()))];
        let mut node = node.clone();
        if let Node::Open { attrs, .. } = &mut node
            && let Some((_, v)) = attrs.iter_mut().find(|(k, _)| k == "Size")
            && v.trim().parse::<u64>().unwrap_or(0) == 0
        {
            *v = size.to_string();
        }
        self.insert(&format::MESSAGE, &node, Some(folder), &extra).await?;
        self.summary.messages += 1;
        if self.summary.messages.is_multiple_of(500) {
            (self.reporter.progress)(Progress::Messages { done: self.summary.messages, bytes: 0 });
        }
        Ok(())
    }
}

fn altimail_store_atoi(s: &str) -> i64 {
    let t = s.trim();
    let end =
        t.char_indices().find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+')))).map(|(i, _)| i);
    t[..end.unwrap_or(t.len())].parse().unwrap_or(0)
}

/// `relative` under `base`, matching each component case-insensitively when the exact name is
/// not there (a backup made on Windows keeps the folder names' case as the disk had it).
fn find_file(base: &Path, relative: &Path) -> Option<PathBuf> {
    let exact = base.join(relative);
    if exact.is_file() {
        return Some(exact);
    }
    let mut current = base.to_path_buf();
    for part in relative.components() {
        let want = part.as_os_str().to_string_lossy().to_lowercase();
        let found = fs::read_dir(&current)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().to_lowercase() == want)?;
        current = found.path();
    }
    current.is_file().then_some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_cannot_escape() {
        assert_eq!(safe_parts("DataBackup/a.com/u/AB/x.eml").unwrap(), vec!["DataBackup", "a.com", "u", "AB", "x.eml"]);
        assert_eq!(safe_parts("DataBackup\\a.com\\x.eml").unwrap().len(), 3);
        assert!(safe_parts("../etc/passwd").is_err());
        assert!(safe_parts("DataBackup/../../x").is_err());
        assert!(safe_parts("C:\\x").is_err());
        assert!(safe_parts("/").is_err());
    }

    #[test]
    fn atoi_like_hmailserver() {
        assert_eq!(altimail_store_atoi("12abc"), 12);
        assert_eq!(altimail_store_atoi("-3"), -3);
        assert_eq!(altimail_store_atoi("x"), 0);
    }

    #[test]
    fn finds_files_whatever_the_case() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("Example.COM/John/AB")).unwrap();
        fs::write(dir.path().join("Example.COM/John/AB/{AB}.eml"), b"x").unwrap();
        assert!(find_file(dir.path(), Path::new("example.com/john/AB/{AB}.eml")).is_some());
        assert!(find_file(dir.path(), Path::new("example.com/jane/AB/{AB}.eml")).is_none());
    }
}
