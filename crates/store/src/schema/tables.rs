//! The 34 `hm_*` tables of hMailServer schema version 5704, in the order hMailServer's MySQL
//! create script creates them.
//!
//! Column names, order, types, nullability, defaults, unique constraints and index names follow
//! the MySQL create script; [`super::model`] renders the PostgreSQL types. Where the PostgreSQL
//! script differs in a way the model cannot express, the MySQL form is kept and the difference is
//! noted next to the table.

use super::model::ColType::*;
use super::model::{Table, col, idx, unique_idx};

/// Every hMailServer table, in creation order.
pub const HM_TABLES: &[Table] = &[
    Table {
        name: "hm_accounts",
        columns: &[
            col("accountid", Serial),
            col("accountdomainid", Int),
            col("accountadminlevel", TinyInt),
            col("accountaddress", Varchar(255)).unique(),
            col("accountpassword", Varchar(255)),
            col("accountactive", TinyInt),
            col("accountisad", TinyInt),
            col("accountaddomain", Varchar(255)),
            col("accountadusername", Varchar(255)),
            col("accountmaxsize", Int),
            col("accountvacationmessageon", TinyInt),
            col("accountvacationmessage", Text),
            col("accountvacationsubject", Varchar(200)),
            col("accountpwencryption", TinyInt),
            col("accountforwardenabled", TinyInt),
            col("accountforwardaddress", Varchar(255)),
            col("accountforwardkeeporiginal", TinyInt),
            col("accountenablesignature", TinyInt),
            col("accountsignatureplaintext", Text),
            col("accountsignaturehtml", Text),
            col("accountlastlogontime", DateTime),
            col("accountvacationexpires", TinyIntUnsigned),
            col("accountvacationexpiredate", DateTime),
            col("accountpersonfirstname", Varchar(60)),
            col("accountpersonlastname", Varchar(60)),
        ],
        indexes: &[idx("idx_hm_accounts", &["accountaddress"])],
    },
    Table {
        name: "hm_aliases",
        columns: &[
            col("aliasid", Serial),
            col("aliasdomainid", Int),
            col("aliasname", Varchar(255)).unique(),
            col("aliasvalue", Varchar(255)),
            col("aliasactive", TinyInt),
        ],
        indexes: &[idx("idx_hm_aliases", &["aliasdomainid", "aliasname"])],
    },
    Table {
        name: "hm_domains",
        columns: &[
            col("domainid", Serial),
            col("domainname", Varchar(80)).unique(),
            col("domainactive", TinyInt),
            col("domainpostmaster", Varchar(80)),
            col("domainmaxsize", Int),
            col("domainaddomain", Varchar(255)),
            col("domainmaxmessagesize", Int),
            col("domainuseplusaddressing", TinyInt),
            col("domainplusaddressingchar", Varchar(1)),
            col("domainantispamoptions", Int),
            col("domainenablesignature", TinyInt),
            col("domainsignaturemethod", TinyInt),
            col("domainsignatureplaintext", Text),
            col("domainsignaturehtml", Text),
            col("domainaddsignaturestoreplies", TinyInt),
            col("domainaddsignaturestolocalemail", TinyInt),
            col("domainmaxnoofaccounts", Int),
            col("domainmaxnoofaliases", Int),
            col("domainmaxnoofdistributionlists", Int),
            col("domainlimitationsenabled", Int),
            col("domainmaxaccountsize", Int),
            col("domaindkimselector", Varchar(255)),
            col("domaindkimprivatekeyfile", Varchar(255)),
        ],
        indexes: &[idx("idx_hm_domains", &["domainname"])],
    },
    Table {
        name: "hm_domain_aliases",
        columns: &[col("daid", Serial), col("dadomainid", Int), col("daalias", Varchar(255))],
        indexes: &[],
    },
    Table {
        name: "hm_messages",
        columns: &[
            col("messageid", BigSerial),
            col("messageaccountid", Int),
            col("messagefolderid", Int).default("0"),
            col("messagefilename", Varchar(255)),
            col("messagetype", TinyInt),
            col("messagefrom", Varchar(255)),
            col("messagesize", BigInt),
            col("messagecurnooftries", Int),
            col("messagenexttrytime", DateTime),
            col("messageflags", TinyInt),
            col("messagecreatetime", DateTime),
            col("messagelocked", TinyInt),
            col("messageuid", BigInt),
        ],
        indexes: &[
            idx("idx_hm_messages", &["messageaccountid", "messagefolderid"]),
            idx("idx_hm_messages_type", &["messagetype"]),
        ],
    },
    // MySQL: this is the only surrogate key declared without an extra `unique(metadata_id)`;
    // the model renders one for every MySQL surrogate key, so ours has a redundant unique key
    // named `metadata_id`.
    Table {
        name: "hm_message_metadata",
        columns: &[
            col("metadata_id", BigSerial),
            col("metadata_accountid", Int),
            col("metadata_folderid", Int),
            col("metadata_messageid", BigInt),
            col("metadata_dateutc", DateTime).null(),
            col("metadata_from", Varchar(255)),
            col("metadata_subject", Varchar(255)),
            col("metadata_to", Varchar(255)),
            col("metadata_cc", Varchar(255)),
        ],
        indexes: &[
            unique_idx(
                "idx_message_metadata_unique",
                &["metadata_accountid", "metadata_folderid", "metadata_messageid"],
            ),
            idx("idx_message_metadata_id", &["metadata_messageid"]),
        ],
    },
    Table {
        name: "hm_settings",
        columns: &[
            col("settingid", Serial),
            col("settingname", Varchar(30)).unique(),
            col("settingstring", Varchar(4000)),
            col("settinginteger", Int),
        ],
        indexes: &[],
    },
    // No primary key: a single row holding the schema version.
    Table { name: "hm_dbversion", columns: &[col("value", Int)], indexes: &[] },
    Table {
        name: "hm_distributionlists",
        columns: &[
            col("distributionlistid", Serial),
            col("distributionlistdomainid", Int),
            col("distributionlistaddress", Varchar(255)).unique(),
            col("distributionlistenabled", TinyInt),
            col("distributionlistrequireauth", TinyInt),
            col("distributionlistrequireaddress", Varchar(255)),
            col("distributionlistmode", TinyInt),
        ],
        indexes: &[idx("idx_hm_distributionlists", &["distributionlistdomainid"])],
    },
    // MySQL: the only table created without `DEFAULT CHARSET=utf8` (it takes the database's
    // default character set).
    Table {
        name: "hm_distributionlistsrecipients",
        columns: &[
            col("distributionlistrecipientid", Serial),
            col("distributionlistrecipientlistid", Int),
            col("distributionlistrecipientaddress", Varchar(255)).null(),
        ],
        indexes: &[idx("idx_hm_distributionlistsrecipients", &["distributionlistrecipientlistid"])],
    },
    Table {
        name: "hm_messagerecipients",
        columns: &[
            col("recipientid", BigSerial),
            col("recipientmessageid", BigInt),
            col("recipientaddress", Varchar(255)),
            col("recipientlocalaccountid", Int),
            col("recipientoriginaladdress", Varchar(255)),
        ],
        indexes: &[idx("idx_hm_messagerecipients", &["recipientmessageid"])],
    },
    // PostgreSQL declares folderaccountid as plain `int` (it has no unsigned types anyway).
    Table {
        name: "hm_imapfolders",
        columns: &[
            col("folderid", Serial),
            col("folderaccountid", IntUnsigned),
            col("folderparentid", Int),
            col("foldername", Varchar(255)),
            col("folderissubscribed", TinyIntUnsigned),
            col("foldercreationtime", DateTime),
            col("foldercurrentuid", BigInt),
        ],
        indexes: &[
            idx("idx_hm_imapfolders", &["folderaccountid"]),
            unique_idx("idx_hm_imapfolders_unique", &["folderaccountid", "folderparentid", "foldername"]),
        ],
    },
    Table {
        name: "hm_routes",
        columns: &[
            col("routeid", Serial),
            col("routedomainname", Varchar(255)),
            col("routedescription", Varchar(255)),
            col("routetargetsmthost", Varchar(255)),
            col("routetargetsmtport", Int),
            col("routenooftries", Int),
            col("routeminutesbetweentry", Int),
            col("routealladdresses", TinyIntUnsigned),
            col("routeuseauthentication", TinyInt),
            col("routeauthenticationusername", Varchar(255)),
            col("routeauthenticationpassword", Varchar(255)),
            col("routetreatsecurityaslocal", TinyInt),
            col("routeconnectionsecurity", TinyInt),
            col("routetreatsenderaslocaldomain", TinyInt),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_routeaddresses",
        columns: &[
            col("routeaddressid", MediumSerial),
            col("routeaddressrouteid", Int),
            col("routeaddressaddress", Varchar(255)),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_securityranges",
        columns: &[
            col("rangeid", Serial),
            col("rangepriorityid", Int),
            col("rangelowerip1", BigInt),
            col("rangelowerip2", BigInt).null(),
            col("rangeupperip1", BigInt),
            col("rangeupperip2", BigInt).null(),
            col("rangeoptions", Int),
            col("rangename", Varchar(100)).unique(),
            col("rangeexpires", TinyInt),
            col("rangeexpirestime", DateTime),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_dnsbl",
        columns: &[
            col("sblid", Serial),
            col("sblactive", TinyInt),
            col("sbldnshost", Varchar(255)),
            col("sblresult", Varchar(255)),
            col("sblrejectmessage", Varchar(255)),
            col("sblscore", Int),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_fetchaccounts",
        columns: &[
            col("faid", Serial),
            col("faactive", TinyInt),
            col("faaccountid", Int),
            col("faaccountname", Varchar(255)),
            col("faserveraddress", Varchar(255)),
            col("faserverport", Int),
            col("faservertype", TinyInt),
            col("fausername", Varchar(255)),
            col("fapassword", Varchar(255)),
            col("faminutes", Int),
            col("fanexttry", DateTime),
            col("fadaystokeep", Int),
            col("falocked", TinyInt),
            col("faprocessmimerecipients", TinyInt),
            col("faprocessmimedate", TinyInt),
            col("faconnectionsecurity", TinyInt),
            col("fauseantispam", TinyInt),
            col("fauseantivirus", TinyInt),
            col("faenablerouterecipients", TinyInt),
            // Added by the 5703 -> 5704 upgrade.
            col("famimerecipientheaders", Varchar(255)).default("'To,CC,X-RCPT-TO,X-Envelope-To'"),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_fetchaccounts_uids",
        columns: &[col("uidid", Serial), col("uidfaid", Int), col("uidvalue", Varchar(255)), col("uidtime", DateTime)],
        indexes: &[idx("idx_hm_fetchaccounts_uids", &["uidfaid"])],
    },
    Table {
        name: "hm_rules",
        columns: &[
            col("ruleid", Serial),
            col("ruleaccountid", Int),
            col("rulename", Varchar(100)),
            col("ruleactive", TinyInt),
            col("ruleuseand", TinyInt),
            col("rulesortorder", Int),
        ],
        indexes: &[idx("idx_rules", &["ruleaccountid"])],
    },
    Table {
        name: "hm_rule_criterias",
        columns: &[
            col("criteriaid", Serial),
            col("criteriaruleid", Int),
            col("criteriausepredefined", TinyInt),
            col("criteriapredefinedfield", TinyInt),
            col("criteriaheadername", Varchar(255)),
            col("criteriamatchtype", TinyInt),
            col("criteriamatchvalue", Varchar(255)),
        ],
        indexes: &[idx("idx_rules_criterias", &["criteriaruleid"])],
    },
    Table {
        name: "hm_rule_actions",
        columns: &[
            col("actionid", Serial),
            col("actionruleid", Int),
            col("actiontype", TinyInt),
            col("actionimapfolder", Varchar(255)),
            col("actionsubject", Varchar(255)),
            col("actionfromname", Varchar(255)),
            col("actionfromaddress", Varchar(255)),
            col("actionto", Varchar(255)),
            col("actionbody", Text),
            col("actionfilename", Varchar(255)),
            col("actionsortorder", Int),
            col("actionscriptfunction", Varchar(255)),
            col("actionheader", Varchar(80)),
            col("actionvalue", Varchar(255)),
            col("actionrouteid", Int),
        ],
        indexes: &[idx("idx_rules_actions", &["actionruleid"])],
    },
    Table {
        name: "hm_surblservers",
        columns: &[
            col("surblid", Serial),
            col("surblactive", TinyInt),
            col("surblhost", Varchar(255)),
            col("surblrejectmessage", Varchar(255)),
            col("surblscore", Int),
        ],
        indexes: &[],
    },
    // MySQL indexes only the first 40 characters of the two addresses
    // (`glsenderaddress(40), glrecipientaddress(40)`); the model has no prefix lengths, so ours
    // indexes the whole columns (fits InnoDB's 3072-byte key limit with utf8mb4). PostgreSQL
    // declares both addresses as varchar(200) and indexes them whole.
    Table {
        name: "hm_greylisting_triplets",
        columns: &[
            col("glid", BigSerial),
            col("glcreatetime", DateTime),
            col("glblockendtime", DateTime),
            col("gldeletetime", DateTime),
            col("glipaddress1", BigInt),
            col("glipaddress2", BigInt).null(),
            col("glsenderaddress", Varchar(255)),
            col("glrecipientaddress", Varchar(255)),
            col("glblockedcount", Int),
            col("glpassedcount", Int),
        ],
        indexes: &[idx(
            "idx_greylisting_triplets",
            &["glipaddress1", "glipaddress2", "glsenderaddress", "glrecipientaddress"],
        )],
    },
    Table {
        name: "hm_greylisting_whiteaddresses",
        columns: &[
            col("whiteid", BigSerial),
            col("whiteipaddress", Varchar(255)),
            col("whiteipdescription", Varchar(255)),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_blocked_attachments",
        columns: &[col("baid", BigSerial), col("bawildcard", Varchar(255)), col("badescription", Varchar(255))],
        indexes: &[],
    },
    Table {
        name: "hm_servermessages",
        columns: &[col("smid", Serial), col("smname", Varchar(255)), col("smtext", Text)],
        indexes: &[],
    },
    Table {
        name: "hm_tcpipports",
        columns: &[
            col("portid", BigSerial),
            col("portprotocol", TinyInt),
            col("portnumber", Int),
            col("portaddress1", BigInt),
            col("portaddress2", BigInt).null(),
            col("portconnectionsecurity", TinyInt),
            col("portsslcertificateid", BigInt),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_whitelist",
        columns: &[
            col("whiteid", BigSerial),
            col("whiteloweripaddress1", BigInt),
            col("whiteloweripaddress2", BigInt).null(),
            col("whiteupperipaddress1", BigInt),
            col("whiteupperipaddress2", BigInt).null(),
            col("whiteemailaddress", Varchar(255)),
            col("whitedescription", Varchar(255)),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_sslcertificates",
        columns: &[
            col("sslcertificateid", BigSerial),
            col("sslcertificatename", Varchar(255)),
            col("sslcertificatefile", Varchar(255)),
            col("sslprivatekeyfile", Varchar(255)),
        ],
        indexes: &[],
    },
    Table {
        name: "hm_groups",
        columns: &[col("groupid", BigSerial), col("groupname", Varchar(255)).null()],
        indexes: &[],
    },
    Table {
        name: "hm_group_members",
        columns: &[col("memberid", BigSerial), col("membergroupid", BigInt), col("memberaccountid", BigInt)],
        indexes: &[],
    },
    // hMailServer declares an unnamed table constraint
    // `unique(aclsharefolderid, aclpermissiontype, aclpermissiongroupid, aclpermissionaccountid)`.
    // MySQL names such a key after its first column, which is the name used here; PostgreSQL
    // would name the constraint `hm_acl_aclsharefolderid_aclpermissiontype_aclpermissiongrou_key`.
    Table {
        name: "hm_acl",
        columns: &[
            col("aclid", BigSerial),
            col("aclsharefolderid", BigInt),
            col("aclpermissiontype", TinyInt),
            col("aclpermissiongroupid", BigInt),
            col("aclpermissionaccountid", BigInt),
            col("aclvalue", BigInt),
        ],
        indexes: &[unique_idx(
            "aclsharefolderid",
            &["aclsharefolderid", "aclpermissiontype", "aclpermissiongroupid", "aclpermissionaccountid"],
        )],
    },
    // PostgreSQL declares relayid as `serial` (int4), not `bigserial`; the model renders every
    // surrogate key as bigserial there.
    Table {
        name: "hm_incoming_relays",
        columns: &[
            col("relayid", Serial),
            col("relayname", Varchar(100)),
            col("relaylowerip1", BigInt),
            col("relaylowerip2", BigInt).null(),
            col("relayupperip1", BigInt),
            col("relayupperip2", BigInt).null(),
        ],
        indexes: &[],
    },
    // No primary key.
    Table {
        name: "hm_logon_failures",
        columns: &[col("ipaddress1", BigInt), col("ipaddress2", BigInt).null(), col("failuretime", DateTime)],
        indexes: &[
            idx("idx_hm_logon_failures_ipaddress", &["ipaddress1", "ipaddress2"]),
            idx("idx_hm_logon_failures_failuretime", &["failuretime"]),
        ],
    },
];

/// The description of table `name` (exact, lower-case hMailServer name).
pub fn table(name: &str) -> Option<&'static Table> {
    HM_TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Dialect;
    use std::collections::HashSet;

    #[test]
    fn has_all_34_tables_with_unique_names() {
        assert_eq!(HM_TABLES.len(), 34);
        let names: HashSet<_> = HM_TABLES.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), 34);
        assert!(HM_TABLES.iter().all(|t| t.name.starts_with("hm_")));
        assert_eq!(HM_TABLES.first().map(|t| t.name), Some("hm_accounts"));
        assert_eq!(HM_TABLES.last().map(|t| t.name), Some("hm_logon_failures"));
    }

    #[test]
    fn columns_are_unique_and_keys_are_single() {
        for t in HM_TABLES {
            let cols: HashSet<_> = t.columns.iter().map(|c| c.name).collect();
            assert_eq!(cols.len(), t.columns.len(), "duplicate column in {}", t.name);
            let serials = t.columns.iter().filter(|c| c.ty.is_serial()).count();
            let expected = usize::from(!matches!(t.name, "hm_dbversion" | "hm_logon_failures"));
            assert_eq!(serials, expected, "surrogate keys of {}", t.name);
            if let Some(pk) = t.primary_key() {
                assert_eq!(t.columns[0].name, pk, "key of {} is not the first column", t.name);
            }
        }
    }

    #[test]
    fn index_columns_exist_and_index_names_are_unique() {
        let mut names = HashSet::new();
        for t in HM_TABLES {
            for i in t.indexes {
                assert!(names.insert(i.name), "duplicate index name {}", i.name);
                assert!(!i.columns.is_empty(), "empty index {}", i.name);
                for c in i.columns {
                    assert!(t.columns.iter().any(|col| col.name == *c), "{}: no column {c} in {}", i.name, t.name);
                }
            }
        }
    }

    #[test]
    fn lookup_by_name() {
        let t = table("hm_fetchaccounts").expect("hm_fetchaccounts");
        assert_eq!(t.columns.last().map(|c| c.name), Some("famimerecipientheaders"));
        assert!(table("hm_nonexistent").is_none());
        assert_eq!(table("hm_messages").and_then(|t| t.primary_key()), Some("messageid"));
        assert_eq!(table("hm_dbversion").and_then(|t| t.primary_key()), None);
    }

    #[test]
    fn renders_for_every_dialect() {
        for d in [Dialect::MySql, Dialect::Postgres, Dialect::Sqlite] {
            for t in HM_TABLES {
                let ddl = t.ddl(d);
                assert_eq!(ddl.len(), 1 + t.indexes.len());
                assert!(ddl[0].starts_with(&format!("CREATE TABLE {} (", t.name)));
            }
        }
    }

    /// Prints the MySQL and PostgreSQL DDL, for comparison with databases made by hMailServer's
    /// own scripts: `cargo test -p altimail-store print_ddl -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn print_ddl() {
        for (label, d) in [("mysql", Dialect::MySql), ("postgres", Dialect::Postgres)] {
            println!("-- {label}");
            for t in HM_TABLES {
                for s in t.ddl(d) {
                    println!("{s};");
                }
            }
        }
    }
}
