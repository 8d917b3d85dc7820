//! Which XML element of hMailServer's backup holds which table, and which attribute which
//! column (learnt from hMailServer 5.7's backup code; described in `docs/backup.md`).
//!
//! Every object is one element whose attributes are its fields; the objects it owns sit in a
//! child element named after their collection (`<Domain>` → `<Accounts>` → `<Account>`). Numbers
//! and booleans are decimal text (`1`/`0`), dates `yyyy-mm-dd hh:mm:ss`.

/// How one attribute is stored.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    /// One column, written and read as text.
    Plain(&'static str),
    /// An IP address kept in two integer columns (hMailServer's `ip1`/`ip2`), written as text.
    Ip(&'static str, &'static str),
    /// Another object's key, written as that object's name: `(column, table, name column)`.
    NameOf(&'static str, &'static str, &'static str),
    /// Written but not restored (the database gives it a new value).
    WriteOnly(&'static str),
}

/// One kind of object.
#[derive(Debug)]
pub struct Kind {
    pub element: &'static str,
    pub collection: &'static str,
    pub table: &'static str,
    pub key: &'static str,
    /// The column holding the owning object's key (none for top-level objects).
    pub parent: Option<&'static str>,
    pub attrs: &'static [(&'static str, Col)],
}

use Col::*;

pub const DOMAIN: Kind = Kind {
    element: "Domain",
    collection: "Domains",
    table: "hm_domains",
    key: "domainid",
    parent: None,
    attrs: &[
        ("Name", Plain("domainname")),
        ("Postmaster", Plain("domainpostmaster")),
        ("ADDomainName", Plain("domainaddomain")),
        ("Active", Plain("domainactive")),
        ("MaxMessageSize", Plain("domainmaxmessagesize")),
        ("MaxSize", Plain("domainmaxsize")),
        ("MaxAccountSize", Plain("domainmaxaccountsize")),
        ("UsePlusAddressing", Plain("domainuseplusaddressing")),
        ("PlusAddressingChar", Plain("domainplusaddressingchar")),
        ("AntiSpamOptions", Plain("domainantispamoptions")),
        ("EnableSignature", Plain("domainenablesignature")),
        ("SignatureMethod", Plain("domainsignaturemethod")),
        ("SignaturePlainText", Plain("domainsignatureplaintext")),
        ("SignatureHTML", Plain("domainsignaturehtml")),
        ("AddSignaturesToLocalMail", Plain("domainaddsignaturestolocalemail")),
        ("AddSignaturesToReplies", Plain("domainaddsignaturestoreplies")),
        ("MaxNoOfAccounts", Plain("domainmaxnoofaccounts")),
        ("MaxNoOfAliases", Plain("domainmaxnoofaliases")),
        ("MaxNoOfLists", Plain("domainmaxnoofdistributionlists")),
        ("LimitationsEnabled", Plain("domainlimitationsenabled")),
        ("DKIMSelector", Plain("domaindkimselector")),
        ("DKIMPrivateKeyFile", Plain("domaindkimprivatekeyfile")),
    ],
};

pub const DOMAIN_ALIAS: Kind = Kind {
    element: "DomainAlias",
    collection: "DomainAliases",
    table: "hm_domain_aliases",
    key: "daid",
    parent: Some("dadomainid"),
    attrs: &[("Name", Plain("daalias"))],
};

pub const ACCOUNT: Kind = Kind {
    element: "Account",
    collection: "Accounts",
    table: "hm_accounts",
    key: "accountid",
    parent: Some("accountdomainid"),
    attrs: &[
        ("Name", Plain("accountaddress")),
        ("PersonFirstName", Plain("accountpersonfirstname")),
        ("PersonLastName", Plain("accountpersonlastname")),
        ("Active", Plain("accountactive")),
        ("Password", Plain("accountpassword")),
        ("PasswordEncryption", Plain("accountpwencryption")),
        ("MaxAccountSize", Plain("accountmaxsize")),
        ("ADUsername", Plain("accountadusername")),
        ("ADDomain", Plain("accountaddomain")),
        ("ADActive", Plain("accountisad")),
        ("VacationMessageOn", Plain("accountvacationmessageon")),
        ("VacationMessage", Plain("accountvacationmessage")),
        ("VacationSubject", Plain("accountvacationsubject")),
        ("VacationExpires", Plain("accountvacationexpires")),
        ("VacationExpireDate", Plain("accountvacationexpiredate")),
        ("AdminLevel", Plain("accountadminlevel")),
        ("ForwardEnabled", Plain("accountforwardenabled")),
        ("ForwardAddress", Plain("accountforwardaddress")),
        ("ForwardKeepOriginal", Plain("accountforwardkeeporiginal")),
        ("EnableSignature", Plain("accountenablesignature")),
        ("SignaturePlainText", Plain("accountsignatureplaintext")),
        ("SignatureHTML", Plain("accountsignaturehtml")),
        ("LastLogonTime", Plain("accountlastlogontime")),
    ],
};

/// Passwords of external accounts and routes are in the archive exactly as in the database
/// (hMailServer's Blowfish hex), so they are copied, not re-encrypted.
pub const FETCH_ACCOUNT: Kind = Kind {
    element: "FetchAccount",
    collection: "FetchAccounts",
    table: "hm_fetchaccounts",
    key: "faid",
    parent: Some("faaccountid"),
    attrs: &[
        ("Name", Plain("faaccountname")),
        ("ServerAddress", Plain("faserveraddress")),
        ("ServerType", Plain("faservertype")),
        ("Port", Plain("faserverport")),
        ("Username", Plain("fausername")),
        ("Password", Plain("fapassword")),
        ("Minutes", Plain("faminutes")),
        ("DaysToKeep", Plain("fadaystokeep")),
        ("Active", Plain("faactive")),
        ("MIMERecipientHeaders", Plain("famimerecipientheaders")),
        ("ProcessMIMERecipients", Plain("faprocessmimerecipients")),
        ("ProcessMIMEDate", Plain("faprocessmimedate")),
        ("UseAntiSpam", Plain("fauseantispam")),
        ("UseAntiVirus", Plain("fauseantivirus")),
        ("EnableRouteRecipients", Plain("faenablerouterecipients")),
        ("ConnectionSecurity", Plain("faconnectionsecurity")),
    ],
};

pub const FETCH_UID: Kind = Kind {
    element: "UID",
    collection: "FetchAccountUIDs",
    table: "hm_fetchaccounts_uids",
    key: "uidid",
    parent: Some("uidfaid"),
    attrs: &[("UID", Plain("uidvalue")), ("Date", Plain("uidtime"))],
};

pub const RULE: Kind = Kind {
    element: "Rule",
    collection: "Rules",
    table: "hm_rules",
    key: "ruleid",
    parent: Some("ruleaccountid"),
    attrs: &[
        ("Name", Plain("rulename")),
        ("Active", Plain("ruleactive")),
        ("UseAND", Plain("ruleuseand")),
        ("SortOrder", Plain("rulesortorder")),
    ],
};

pub const CRITERIA: Kind = Kind {
    element: "Criteria",
    collection: "RuleCriterias",
    table: "hm_rule_criterias",
    key: "criteriaid",
    parent: Some("criteriaruleid"),
    attrs: &[
        ("MatchString", Plain("criteriamatchvalue")),
        ("FieldType", Plain("criteriapredefinedfield")),
        ("MatchType", Plain("criteriamatchtype")),
        ("HeaderField", Plain("criteriaheadername")),
        ("UsePredefinedField", Plain("criteriausepredefined")),
    ],
};

/// `RouteID` is the route's key in the database the backup was made from, as hMailServer
/// writes it; it is restored as is.
pub const ACTION: Kind = Kind {
    element: "Action",
    collection: "RuleActions",
    table: "hm_rule_actions",
    key: "actionid",
    parent: Some("actionruleid"),
    attrs: &[
        ("Type", Plain("actiontype")),
        ("Subject", Plain("actionsubject")),
        ("Body", Plain("actionbody")),
        ("FromAddress", Plain("actionfromaddress")),
        ("FromName", Plain("actionfromname")),
        ("IMAPFolder", Plain("actionimapfolder")),
        ("FileName", Plain("actionfilename")),
        ("To", Plain("actionto")),
        ("ScriptFunction", Plain("actionscriptfunction")),
        ("SortOrder", Plain("actionsortorder")),
        ("Header", Plain("actionheader")),
        ("Value", Plain("actionvalue")),
        ("RouteID", Plain("actionrouteid")),
    ],
};

/// Folders nest: a folder's sub-folders are in its own `<Folders>`; the public folders of the
/// settings part are in `<PublicFolders>` (account 0).
pub const FOLDER: Kind = Kind {
    element: "Folder",
    collection: "Folders",
    table: "hm_imapfolders",
    key: "folderid",
    parent: Some("folderaccountid"),
    attrs: &[
        ("Name", Plain("foldername")),
        ("Subscribed", Plain("folderissubscribed")),
        ("CreateTime", Plain("foldercreationtime")),
        ("CurrentUID", Plain("foldercurrentuid")),
    ],
};

pub const PUBLIC_FOLDERS: &str = "PublicFolders";

/// `Filename` is the file's name only; the file is `DataBackup\<domain>\<mailbox>\<XX>\<name>`
/// (or `DataBackup\#Public\<XX>\<name>`) in the archive.
pub const MESSAGE: Kind = Kind {
    element: "Message",
    collection: "Messages",
    table: "hm_messages",
    key: "messageid",
    parent: Some("messagefolderid"),
    attrs: &[
        ("CreateTime", Plain("messagecreatetime")),
        ("Filename", Plain("messagefilename")),
        ("FromAddress", Plain("messagefrom")),
        ("State", Plain("messagetype")),
        ("Size", Plain("messagesize")),
        ("NoOfRetries", Plain("messagecurnooftries")),
        ("Flags", Plain("messageflags")),
        ("ID", WriteOnly("messageid")),
        ("UID", Plain("messageuid")),
    ],
};

pub const ALIAS: Kind = Kind {
    element: "Alias",
    collection: "Aliases",
    table: "hm_aliases",
    key: "aliasid",
    parent: Some("aliasdomainid"),
    attrs: &[("Name", Plain("aliasname")), ("Value", Plain("aliasvalue")), ("Active", Plain("aliasactive"))],
};

pub const LIST: Kind = Kind {
    element: "DistributionList",
    collection: "DistributionLists",
    table: "hm_distributionlists",
    key: "distributionlistid",
    parent: Some("distributionlistdomainid"),
    attrs: &[
        ("Name", Plain("distributionlistaddress")),
        ("Active", Plain("distributionlistenabled")),
        ("RequiresAuth", Plain("distributionlistrequireauth")),
        ("RequiresAuthAddress", Plain("distributionlistrequireaddress")),
        ("ListMode", Plain("distributionlistmode")),
    ],
};

/// hMailServer names the collection of list members `DistributionList` (the same name as the
/// list element); inside a `<DistributionList>` it holds `<Recipient>`s.
pub const LIST_RECIPIENT: Kind = Kind {
    element: "Recipient",
    collection: "DistributionList",
    table: "hm_distributionlistsrecipients",
    key: "distributionlistrecipientid",
    parent: Some("distributionlistrecipientlistid"),
    attrs: &[("Name", Plain("distributionlistrecipientaddress"))],
};

pub const SECURITY_RANGE: Kind = Kind {
    element: "SecurityRange",
    collection: "SecurityRanges",
    table: "hm_securityranges",
    key: "rangeid",
    parent: None,
    attrs: &[
        ("Name", Plain("rangename")),
        ("LowerIP", Ip("rangelowerip1", "rangelowerip2")),
        ("UpperIP", Ip("rangeupperip1", "rangeupperip2")),
        ("Priority", Plain("rangepriorityid")),
        ("Options", Plain("rangeoptions")),
        ("ExpiresTime", Plain("rangeexpirestime")),
        ("Expires", Plain("rangeexpires")),
    ],
};

pub const SSL_CERTIFICATE: Kind = Kind {
    element: "SSLCertificate",
    collection: "SSLCertificates",
    table: "hm_sslcertificates",
    key: "sslcertificateid",
    parent: None,
    attrs: &[
        ("Name", Plain("sslcertificatename")),
        ("CertificateFile", Plain("sslcertificatefile")),
        ("PrivateKeyFile", Plain("sslprivatekeyfile")),
    ],
};

/// hMailServer also writes a display name (`Name`) for a port; it is not a column.
pub const TCPIP_PORT: Kind = Kind {
    element: "TCPIPPort",
    collection: "TCPIPPorts",
    table: "hm_tcpipports",
    key: "portid",
    parent: None,
    attrs: &[
        ("PortProtocol", Plain("portprotocol")),
        ("PortNumber", Plain("portnumber")),
        ("ConnectionSecurity", Plain("portconnectionsecurity")),
        ("Address", Ip("portaddress1", "portaddress2")),
        ("SSLCertificateName", NameOf("portsslcertificateid", "hm_sslcertificates", "sslcertificatename")),
    ],
};

pub const BLOCKED_ATTACHMENT: Kind = Kind {
    element: "BlockedAttachment",
    collection: "BlockedAttachments",
    table: "hm_blocked_attachments",
    key: "baid",
    parent: None,
    attrs: &[("Name", Plain("bawildcard")), ("Description", Plain("badescription"))],
};

pub const ROUTE: Kind = Kind {
    element: "Route",
    collection: "Routes",
    table: "hm_routes",
    key: "routeid",
    parent: None,
    attrs: &[
        ("Name", Plain("routedomainname")),
        ("Description", Plain("routedescription")),
        ("TargetHost", Plain("routetargetsmthost")),
        ("TargetPort", Plain("routetargetsmtport")),
        ("NumberOfTries", Plain("routenooftries")),
        ("MinutesBetweenTry", Plain("routeminutesbetweentry")),
        ("ToAllAddresses", Plain("routealladdresses")),
        ("RequiresAuthentication", Plain("routeuseauthentication")),
        ("Username", Plain("routeauthenticationusername")),
        ("Password", Plain("routeauthenticationpassword")),
        ("TreatRecipientAsLocalDomain", Plain("routetreatsecurityaslocal")),
        ("TreatSenderAsLocalDomain", Plain("routetreatsenderaslocaldomain")),
        ("ConnectionSecurity", Plain("routeconnectionsecurity")),
    ],
};

pub const ROUTE_ADDRESS: Kind = Kind {
    element: "RouteAddress",
    collection: "RouteAddresses",
    table: "hm_routeaddresses",
    key: "routeaddressid",
    parent: Some("routeaddressrouteid"),
    attrs: &[("Name", Plain("routeaddressaddress"))],
};

pub const INCOMING_RELAY: Kind = Kind {
    element: "IncomingRelay",
    collection: "IncomingRelays",
    table: "hm_incoming_relays",
    key: "relayid",
    parent: None,
    attrs: &[
        ("Name", Plain("relayname")),
        ("LowerIP", Ip("relaylowerip1", "relaylowerip2")),
        ("UpperIP", Ip("relayupperip1", "relayupperip2")),
    ],
};

pub const GROUP: Kind = Kind {
    element: "Group",
    collection: "Groups",
    table: "hm_groups",
    key: "groupid",
    parent: None,
    attrs: &[("Name", Plain("groupname"))],
};

/// A member is written as the account's address.
pub const GROUP_MEMBER: Kind = Kind {
    element: "Member",
    collection: "GroupMembers",
    table: "hm_group_members",
    key: "memberid",
    parent: Some("membergroupid"),
    attrs: &[("Name", NameOf("memberaccountid", "hm_accounts", "accountaddress"))],
};

pub const SURBL_SERVER: Kind = Kind {
    element: "SURBLServer",
    collection: "SURBLServers",
    table: "hm_surblservers",
    key: "surblid",
    parent: None,
    attrs: &[
        ("Name", Plain("surblhost")),
        ("Active", Plain("surblactive")),
        ("RejectMessage", Plain("surblrejectmessage")),
        ("Score", Plain("surblscore")),
    ],
};

pub const GREYLIST_WHITE: Kind = Kind {
    element: "WhiteAddress",
    collection: "GreyListingWhiteAddresses",
    table: "hm_greylisting_whiteaddresses",
    key: "whiteid",
    parent: None,
    attrs: &[("Name", Plain("whiteipaddress")), ("WhiteIPDescription", Plain("whiteipdescription"))],
};

/// hMailServer also writes a display name (`Name`) for a white-list entry; it is not a column.
pub const WHITELIST: Kind = Kind {
    element: "WhiteAddress",
    collection: "WhiteListAddresses",
    table: "hm_whitelist",
    key: "whiteid",
    parent: None,
    attrs: &[
        ("LowerIPAddress", Ip("whiteloweripaddress1", "whiteloweripaddress2")),
        ("UpperIPAddress", Ip("whiteupperipaddress1", "whiteupperipaddress2")),
        ("EMailAddress", Plain("whiteemailaddress")),
        ("Description", Plain("whitedescription")),
    ],
};

pub const DNS_BLACKLIST: Kind = Kind {
    element: "DNSBlackList",
    collection: "DNSBlackLists",
    table: "hm_dnsbl",
    key: "sblid",
    parent: None,
    attrs: &[
        ("Name", Plain("sbldnshost")),
        ("Active", Plain("sblactive")),
        ("RejectMessage", Plain("sblrejectmessage")),
        ("ExpectedResult", Plain("sblresult")),
        ("Score", Plain("sblscore")),
    ],
};

/// Top-level setting collections with no children, in hMailServer's order of writing.
/// (SecurityRanges and global Rules come first, Routes, PublicFolders and Groups have
/// children and are handled on their own.)
pub const FLAT_SETTINGS: &[&Kind] = &[&TCPIP_PORT, &SSL_CERTIFICATE, &BLOCKED_ATTACHMENT];
pub const FLAT_ANTISPAM: &[&Kind] = &[&SURBL_SERVER, &GREYLIST_WHITE, &WHITELIST, &DNS_BLACKLIST];

/// `backupoptions` bits.
pub const OPT_SETTINGS: i64 = 1;
pub const OPT_DOMAINS: i64 = 2;
pub const OPT_MESSAGES: i64 = 4;
pub const OPT_COMPRESS: i64 = 8;

/// The names inside the archive.
pub const XML_NAME: &str = "hMailServerBackup.xml";
pub const DATA_DIR_NAME: &str = "DataBackup";
pub const PUBLIC_DIR: &str = "#Public";
