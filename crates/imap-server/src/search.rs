//! SEARCH (with ESEARCH and SEARCHRES), SORT and THREAD over the selected mailbox.
//!
//! Flags, sizes and dates come from the view; the message file is read only when a key needs
//! it: header keys parse the cached header block, BODY and TEXT parse the whole message.

use tokio::io::AsyncReadExt;

use altimail_imap::command::SortKey;
use altimail_imap::query::{self, MessageFacts, Needs, SearchContext};
use altimail_imap::search::{SearchKey, SearchReturn};

use crate::session::{Done, Outcome, Session, bad, no};

/// One matching message: its sequence number, UID and modseq.
struct Hit {
    seq: u32,
    uid: u32,
    modseq: u64,
}

/// Largest message read whole for BODY/TEXT search; larger ones are searched in their first
/// part of this size.
const MAX_SEARCH_BYTES: u64 = 32 * 1024 * 1024;

fn uses_modseq(keys: &[SearchKey]) -> bool {
    keys.iter().any(|k| match k {
        SearchKey::ModSeq(..) => true,
        SearchKey::Not(k) => uses_modseq(std::slice::from_ref(k)),
        SearchKey::Or(a, b) => uses_modseq(std::slice::from_ref(a)) || uses_modseq(std::slice::from_ref(b)),
        SearchKey::And(keys) => uses_modseq(keys),
        _ => false,
    })
}

impl Session {
    /// The messages matching `keys`, in sequence order, handing each one's parsed message to
    /// `each` when `extra` asks for it (SORT and THREAD need headers).
    async fn matching(
        &mut self,
        keys: &[SearchKey],
        extra: Needs,
        mut each: impl FnMut(&MessageFacts<'_>, Option<&mail_parser::Message<'_>>),
    ) -> Result<Vec<Hit>, Done> {
        let needs = query::needs(keys);
        let headers = needs.headers || extra.headers;
        let Some(open) = self.selected.as_ref() else { return bad("No mailbox selected") };
        let exists = open.view.exists();
        let max_uid = open.view.entry(exists).map_or(0, |e| e.uid);
        let mut hits = Vec::new();
        let saved = self.saved.clone();
        for seq in 1..=exists {
            let Some(entry) = self.selected.as_ref().and_then(|o| o.message(seq)) else { continue };
            let (meta, recent) = (entry.meta.clone(), entry.recent);
            let facts = MessageFacts {
                seq,
                uid: entry.uid,
                flags: entry.flags,
                keywords: &entry.keywords,
                recent,
                size: meta.size,
                internal_date: meta.internal_date,
                modseq: meta.modseq,
            };
            let ctx = SearchContext { max_seq: exists, max_uid, saved: &saved };
            let raw = if needs.body {
                self.read_message(&meta.file_name).await
            } else if headers {
                match self.open_message(&meta.file_name).await {
                    Some(mut file) => self.structure_from(&meta.file_name, &mut file).await.header_block().to_vec(),
                    None => Vec::new(),
                }
            } else {
                Vec::new()
            };
            let parsed = if needs.body || headers { query::parse_message(&raw) } else { None };
            if query::matches(keys, &facts, parsed.as_deref(), &ctx) {
                each(&facts, parsed.as_deref());
                hits.push(Hit { seq, uid: entry.uid, modseq: facts.modseq });
            }
        }
        Ok(hits)
    }

    async fn read_message(&self, file: &str) -> Vec<u8> {
        let mut data = Vec::new();
        if let Some(f) = self.open_message(file).await {
            let _ = f.take(MAX_SEARCH_BYTES).read_to_end(&mut data).await;
        }
        data
    }

    fn prepare_keys(&mut self, charset: Option<&str>, criteria: Vec<SearchKey>) -> Result<Vec<SearchKey>, Done> {
        let keys = query::search_charset(charset, criteria)
            .map_err(|_| Done::No("[BADCHARSET (UTF-8 US-ASCII ISO-8859-1)] Unsupported charset".into()))?;
        if uses_modseq(&keys) {
            self.enabled.condstore = true;
        }
        Ok(keys)
    }

    pub(crate) async fn search(
        &mut self,
        tag: &str,
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        charset: Option<&str>,
        criteria: Vec<SearchKey>,
    ) -> Outcome {
        let keys = self.prepare_keys(charset, criteria)?;
        let hits = self.matching(&keys, Needs::default(), |_, _| {}).await?;
        let ids: Vec<u32> = hits.iter().map(|h| if uid { h.uid } else { h.seq }).collect();
        let mut modseq = uses_modseq(&keys).then(|| hits.iter().map(|h| h.modseq).max()).flatten();
        // RFC 7162 §3.1.5: the MODSEQ of what is returned; MIN/MAX alone return one message each.
        if let (Some(_), Some(r)) = (modseq, returns.as_ref())
            && !r.is_empty()
            && !r.iter().any(|x| matches!(x, SearchReturn::All | SearchReturn::Count))
        {
            let mut m = 0;
            if r.contains(&SearchReturn::Min) {
                m = m.max(hits.first().map_or(0, |h| h.modseq));
            }
            if r.contains(&SearchReturn::Max) {
                m = m.max(hits.last().map_or(0, |h| h.modseq));
            }
            modseq = Some(m);
        }
        match returns {
            None => {
                let mut line = b"* SEARCH".to_vec();
                for id in &ids {
                    line.push(b' ');
                    altimail_imap::wire::number(&mut line, u64::from(*id));
                }
                if let Some(m) = modseq {
                    line.extend_from_slice(format!(" (MODSEQ {m})").as_bytes());
                }
                line.extend_from_slice(b"\r\n");
                self.out.extend_from_slice(&line);
            }
            Some(returns) => {
                if returns.contains(&SearchReturn::Save) {
                    // RFC 5182: with MIN or MAX only (and no ALL/COUNT), only those are saved.
                    let only_min_max = !returns.iter().any(|r| matches!(r, SearchReturn::All | SearchReturn::Count))
                        && returns.iter().any(|r| matches!(r, SearchReturn::Min | SearchReturn::Max));
                    let uids: Vec<u32> = hits.iter().map(|h| h.uid).collect();
                    self.saved = if only_min_max {
                        let mut s = Vec::new();
                        if returns.contains(&SearchReturn::Min) {
                            s.extend(uids.first());
                        }
                        if returns.contains(&SearchReturn::Max) {
                            s.extend(uids.last());
                        }
                        s.dedup();
                        s
                    } else {
                        uids
                    };
                }
                query::esearch(&mut self.out, tag, uid, &returns, &ids, modseq);
            }
        }
        Ok(if uid { "UID SEARCH completed" } else { "SEARCH completed" }.into())
    }

    pub(crate) async fn sort(
        &mut self,
        uid: bool,
        keys: &[SortKey],
        charset: &str,
        criteria: Vec<SearchKey>,
    ) -> Outcome {
        if !self.cfg.sort {
            return bad("SORT is disabled");
        }
        let search = self.prepare_keys(Some(charset), criteria)?;
        let extra = Needs { headers: query::sort_needs_headers(keys), body: false };
        let mut items = Vec::new();
        self.matching(&search, extra, |facts, message| {
            let id = if uid { facts.uid } else { facts.seq };
            items.push(query::sort_item(id, keys, facts, message));
        })
        .await?;
        let sorted = query::sort(keys, items);
        let mut line = b"* SORT".to_vec();
        for id in sorted {
            line.push(b' ');
            altimail_imap::wire::number(&mut line, u64::from(id));
        }
        line.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(&line);
        Ok(if uid { "UID SORT completed" } else { "SORT completed" }.into())
    }

    pub(crate) async fn thread(
        &mut self,
        uid: bool,
        algorithm: &str,
        charset: &str,
        criteria: Vec<SearchKey>,
    ) -> Outcome {
        if !self.cfg.sort {
            return bad("THREAD is disabled");
        }
        if !matches!(algorithm.to_ascii_uppercase().as_str(), "ORDEREDSUBJECT" | "REFERENCES") {
            return bad("Unsupported threading algorithm");
        }
        let search = self.prepare_keys(Some(charset), criteria)?;
        let mut items = Vec::new();
        self.matching(&search, Needs { headers: true, body: false }, |facts, message| {
            let id = if uid { facts.uid } else { facts.seq };
            items.push(query::thread_item(id, facts, message));
        })
        .await?;
        let Some(tree) = query::thread(algorithm, items) else { return no("Threading failed") };
        self.out.extend_from_slice(b"* THREAD ");
        self.out.extend_from_slice(&tree);
        self.out.extend_from_slice(b"\r\n");
        Ok(if uid { "UID THREAD completed" } else { "THREAD completed" }.into())
    }
}
