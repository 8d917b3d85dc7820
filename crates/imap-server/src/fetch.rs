//! FETCH: message data from the view (flags, UID, MODSEQ), the database (size, date) and the
//! message file, whose structure is scanned once and whose sections are streamed from disk.

use std::io::SeekFrom;
use std::sync::Arc;

use chrono::{Local, NaiveDateTime, TimeZone};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use altimail_core::codes::flags as hm_flags;
use altimail_imap::fetch::{FetchAttr, FetchModifier, Section, SectionText};
use altimail_imap::mailbox::write_flags;
use altimail_imap::message::{Decoder, MessageStructure, Scanner, SectionData, TransferEncoding};
use altimail_imap::sequence::SequenceSet;
use altimail_imap::wire;
use altimail_store::repo::acl::Rights;
use altimail_store::repo::mailbox::{self, FlagUpdate};

use crate::session::{Done, FLUSH_AT, Outcome, Session, bad, no};

/// File reads while streaming.
const READ_CHUNK: usize = 64 * 1024;
/// Message structures kept per session (clients fetch BODYSTRUCTURE, then parts).
const STRUCTURE_CACHE: usize = 16;

/// INTERNALDATE as `"25-Nov-2026 17:53:40 +0100"`: hMailServer stores server local time.
pub(crate) fn internal_date(date: NaiveDateTime) -> String {
    let local = Local.from_local_datetime(&date).earliest().map(|d| d.fixed_offset());
    match local {
        Some(d) => d.format("\"%d-%b-%Y %H:%M:%S %z\"").to_string(),
        None => date.and_utc().format("\"%d-%b-%Y %H:%M:%S +0000\"").to_string(),
    }
}

/// Whether an item needs the message file.
fn needs_file(attr: &FetchAttr) -> bool {
    !matches!(
        attr,
        FetchAttr::Flags | FetchAttr::InternalDate | FetchAttr::Rfc822Size | FetchAttr::Uid | FetchAttr::ModSeq
    )
}

/// Whether fetching the item sets `\Seen`.
fn sets_seen(attr: &FetchAttr) -> bool {
    matches!(
        attr,
        FetchAttr::Rfc822
            | FetchAttr::Rfc822Text
            | FetchAttr::BodySection { peek: false, .. }
            | FetchAttr::Binary { peek: false, .. }
    )
}

/// The section spec as echoed in the response, e.g. `1.2.HEADER.FIELDS (FROM TO)`.
fn section_spec(section: &Section) -> String {
    let mut s: Vec<String> = section.part.iter().map(u32::to_string).collect();
    if let Some(text) = &section.text {
        s.push(match text {
            SectionText::Header => "HEADER".into(),
            SectionText::HeaderFields(f) => format!("HEADER.FIELDS ({})", quote_fields(f)),
            SectionText::HeaderFieldsNot(f) => format!("HEADER.FIELDS.NOT ({})", quote_fields(f)),
            SectionText::Text => "TEXT".into(),
            SectionText::Mime => "MIME".into(),
        });
    }
    s.join(".")
}

fn quote_fields(fields: &[String]) -> String {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        wire::astring(&mut out, f.to_ascii_uppercase().as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parts_spec(part: &[u32]) -> String {
    part.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

/// Whether a BINARY item asks for a part whose transfer encoding is unknown (RFC 3516 §4.3).
fn unknown_encoding(attr: &FetchAttr, s: &MessageStructure) -> bool {
    let part = match attr {
        FetchAttr::Binary { part, .. } | FetchAttr::BinarySize(part) => part,
        _ => return false,
    };
    s.binary(part).is_some_and(|b| b.encoding == TransferEncoding::Unknown)
}

/// Cuts `<offset.length>` out of `start..end`; returns the new range and the origin echoed.
fn partial_range(start: u64, end: u64, partial: Option<(u32, u32)>) -> (u64, u64) {
    match partial {
        None => (start, end),
        Some((offset, len)) => {
            let s = start.saturating_add(u64::from(offset)).min(end);
            (s, s.saturating_add(u64::from(len)).min(end))
        }
    }
}

impl Session {
    pub(crate) async fn fetch(
        &mut self,
        uid: bool,
        set: &SequenceSet,
        mut attrs: Vec<FetchAttr>,
        modifiers: &[FetchModifier],
    ) -> Outcome {
        let mut changed_since = None;
        let mut vanished = false;
        for m in modifiers {
            match m {
                FetchModifier::ChangedSince(n) => {
                    changed_since = Some(*n);
                    self.enabled.condstore = true;
                }
                FetchModifier::Vanished if !uid => return bad("VANISHED needs UID FETCH"),
                FetchModifier::Vanished if !self.enabled.qresync => return bad("QRESYNC is not enabled"),
                FetchModifier::Vanished => vanished = true,
            }
        }
        if vanished && changed_since.is_none() {
            return bad("VANISHED needs CHANGEDSINCE");
        }
        if attrs.contains(&FetchAttr::ModSeq) {
            self.enabled.condstore = true;
        }
        if uid && !attrs.contains(&FetchAttr::Uid) {
            attrs.insert(0, FetchAttr::Uid);
        }
        if changed_since.is_some() && !attrs.contains(&FetchAttr::ModSeq) {
            attrs.push(FetchAttr::ModSeq);
        }
        let Some(open) = self.selected.as_ref() else { return bad("No mailbox selected") };
        let seqs = match open.view.resolve(set, uid, &self.saved) {
            Ok(seqs) => seqs,
            Err(_) => return bad("Invalid message sequence number"),
        };
        if let (true, Some(since)) = (vanished, changed_since) {
            let mut gone = mailbox::vanished_since(&self.store.db, open.folder.id, since).await?;
            gone.retain(|&u| set.covers(u));
            if !gone.is_empty() {
                gone.sort_unstable();
                gone.dedup();
                self.out.extend_from_slice(b"* VANISHED (EARLIER) ");
                self.out.extend_from_slice(&altimail_imap::query::compact_set(&gone));
                self.out.extend_from_slice(b"\r\n");
            }
        }
        // Messages to mark \Seen first, so the responses carry the new flags.
        let mut newly_seen = Vec::new();
        if attrs.iter().any(sets_seen) && !open.view.read_only() && open.rights.contains(Rights::SEEN) {
            let mut updates = Vec::new();
            for &seq in &seqs {
                if let Some(e) = open.view.entry(seq)
                    && e.flags & hm_flags::SEEN == 0
                    && !e.expunged
                {
                    updates.push(FlagUpdate {
                        id: e.id,
                        flags: e.flags | hm_flags::SEEN,
                        keywords: e.keywords.to_vec(),
                    });
                    newly_seen.push(e.uid);
                }
            }
            if !updates.is_empty() {
                let (folder_id, notices) = (open.folder.id, open.notices());
                let modseq = mailbox::update_flags(&self.store, folder_id, &updates).await?;
                if let Some(open) = self.selected.as_mut() {
                    open.absorb_own_change(notices, modseq);
                    for (u, &uid) in updates.iter().zip(&newly_seen) {
                        open.stored(uid, u.flags, u.keywords.clone(), modseq);
                    }
                }
            }
        }
        let with_file = attrs.iter().any(needs_file);
        // Messages whose file went (expunged by another session, not yet announced here).
        let mut gone = false;
        for seq in seqs {
            let Some(entry) = self.selected.as_ref().and_then(|o| o.message(seq)) else { continue };
            if changed_since.is_some_and(|since| entry.meta.modseq <= since) {
                continue;
            }
            let (meta, recent) = (entry.meta.clone(), entry.recent);
            // The file stays open for the whole response: an expunge elsewhere cannot cut it short.
            let mut file = None;
            let mut structure = None;
            if with_file {
                let Some(mut f) = self.open_message(&meta.file_name).await else {
                    gone = true;
                    continue;
                };
                structure = Some(self.structure_from(&meta.file_name, &mut f).await);
                file = Some(f);
            }
            if let Some(s) = &structure
                && attrs.iter().any(|a| unknown_encoding(a, s))
            {
                return no("[UNKNOWN-CTE] A part has a transfer encoding that cannot be decoded");
            }
            let mut items_written = 0;
            let mut head = format!("* {seq} FETCH (").into_bytes();
            let flags_requested = attrs.contains(&FetchAttr::Flags);
            for attr in &attrs {
                let mut item = Vec::new();
                match attr {
                    FetchAttr::Uid => item.extend_from_slice(format!("UID {}", entry.uid).as_bytes()),
                    FetchAttr::Flags => {
                        item.extend_from_slice(b"FLAGS ");
                        write_flags(&mut item, entry.flags, &entry.keywords, recent);
                    }
                    FetchAttr::ModSeq => item.extend_from_slice(format!("MODSEQ ({})", meta.modseq).as_bytes()),
                    FetchAttr::InternalDate => {
                        item.extend_from_slice(format!("INTERNALDATE {}", internal_date(meta.internal_date)).as_bytes())
                    }
                    FetchAttr::Rfc822Size => {
                        let size = structure.as_ref().map_or(meta.size, |s| s.size());
                        item.extend_from_slice(format!("RFC822.SIZE {size}").as_bytes())
                    }
                    FetchAttr::Envelope => {
                        item.extend_from_slice(b"ENVELOPE ");
                        if let Some(s) = &structure {
                            s.envelope(&mut item);
                        }
                    }
                    FetchAttr::Body | FetchAttr::BodyStructure => {
                        let extended = matches!(attr, FetchAttr::BodyStructure);
                        item.extend_from_slice(if extended { b"BODYSTRUCTURE " } else { b"BODY " });
                        if let Some(s) = &structure {
                            s.body_structure(&mut item, extended);
                        }
                    }
                    _ => {
                        // Sections are streamed: write what is gathered so far first.
                        if items_written > 0 {
                            head.push(b' ');
                        }
                        self.out.extend_from_slice(&head);
                        head.clear();
                        let (Some(s), Some(f)) = (&structure, file.as_mut()) else { continue };
                        if let Err(e) = self.write_section(attr, s, f).await {
                            tracing::debug!("imap: streaming a message: {e}");
                            self.closing = true;
                            return Err(Done::No("[SERVERBUG] Could not read the message".into()));
                        }
                        items_written += 1;
                        continue;
                    }
                }
                if items_written > 0 {
                    head.push(b' ');
                }
                head.extend_from_slice(&item);
                items_written += 1;
            }
            if !flags_requested && newly_seen.contains(&entry.uid) {
                if items_written > 0 {
                    head.push(b' ');
                }
                head.extend_from_slice(b"FLAGS ");
                write_flags(&mut head, entry.flags, &entry.keywords, recent);
            }
            self.out.extend_from_slice(&head);
            self.out.extend_from_slice(b")\r\n");
            if self.out.len() >= FLUSH_AT && self.flush().await.is_err() {
                self.closing = true;
                return Err(Done::No("Connection lost".into()));
            }
        }
        if gone {
            return no("[EXPUNGEISSUED] Some of the requested messages no longer exist");
        }
        Ok(if uid { "UID FETCH completed" } else { "FETCH completed" }.into())
    }

    /// A message file opened for reading; `None` when it is gone (an error other than a
    /// missing file is logged). Finding the file may take several file-system calls (legacy
    /// absolute paths, a case-insensitive walk for folders made on Windows), so the lookup and
    /// the open run together on a blocking thread: the one hop an open costs anyway.
    pub(crate) async fn open_message(&self, file_name: &str) -> Option<tokio::fs::File> {
        let open = self.selected.as_ref()?;
        let files = self.store.files.clone();
        let (owner, address, name) = (open.owner, open.owner_address.clone(), file_name.to_owned());
        let opened = tokio::task::spawn_blocking(move || {
            let path = files.resolve(owner.location(&address), &name);
            std::fs::File::open(&path).map_err(|e| (path, e))
        })
        .await;
        match opened {
            Ok(Ok(file)) => Some(tokio::fs::File::from_std(file)),
            Ok(Err((path, e))) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    self.log_error(&format!("IMAP: message file {}", path.display()), &e);
                }
                None
            }
            Err(e) => {
                self.log_error("IMAP: opening a message file", &e);
                None
            }
        }
    }

    /// The structure of a message, from the session's cache or by scanning `file`. Keyed by
    /// file name: a file never changes, while a row id may be given again (SQLite reuses the
    /// highest id after a delete).
    pub(crate) async fn structure_from(
        &mut self,
        file_name: &str,
        file: &mut tokio::fs::File,
    ) -> Arc<MessageStructure> {
        if let Some((_, s)) = self.structures.iter().find(|(name, _)| name == file_name) {
            return s.clone();
        }
        let mut scanner = Scanner::new();
        let mut buf = vec![0u8; READ_CHUNK];
        let scanned = async {
            file.seek(SeekFrom::Start(0)).await?;
            loop {
                match file.read(&mut buf).await? {
                    0 => return Ok::<(), std::io::Error>(()),
                    n => scanner.feed(buf.get(..n).unwrap_or_default()),
                }
            }
        };
        if let Err(e) = scanned.await {
            self.log_error("IMAP: reading a message file", &e);
        }
        let s = Arc::new(scanner.finish());
        if self.structures.len() >= STRUCTURE_CACHE {
            self.structures.remove(0);
        }
        self.structures.push((file_name.to_owned(), s.clone()));
        s
    }

    /// Writes one body-section item (`BODY[..]`, `RFC822*`, `BINARY*`), streaming file ranges.
    async fn write_section(
        &mut self,
        attr: &FetchAttr,
        s: &MessageStructure,
        file: &mut tokio::fs::File,
    ) -> std::io::Result<()> {
        let (label, data, partial) = match attr {
            FetchAttr::Rfc822 => ("RFC822".to_owned(), s.section(&[], None), None),
            FetchAttr::Rfc822Header => ("RFC822.HEADER".to_owned(), s.section(&[], Some(&SectionText::Header)), None),
            FetchAttr::Rfc822Text => ("RFC822.TEXT".to_owned(), s.section(&[], Some(&SectionText::Text)), None),
            FetchAttr::BodySection { section, partial, .. } => {
                let origin = partial.map(|(o, _)| format!("<{o}>")).unwrap_or_default();
                (
                    format!("BODY[{}]{origin}", section_spec(section)),
                    s.section(&section.part, section.text.as_ref()),
                    *partial,
                )
            }
            FetchAttr::Binary { part, partial, .. } => {
                let origin = partial.map(|(o, _)| format!("<{o}>")).unwrap_or_default();
                let label = format!("BINARY[{}]{origin}", parts_spec(part));
                return self.write_binary(&label, s, part, *partial, file, false).await;
            }
            FetchAttr::BinarySize(part) => {
                let label = format!("BINARY.SIZE[{}]", parts_spec(part));
                return self.write_binary(&label, s, part, None, file, true).await;
            }
            _ => return Ok(()),
        };
        self.out.extend_from_slice(label.as_bytes());
        self.out.push(b' ');
        match data {
            // A part that does not exist is an empty string, as Dovecot answers.
            None => wire::literal(&mut self.out, b""),
            Some(SectionData::Bytes(bytes)) => {
                let (a, b) = partial_range(0, bytes.len() as u64, partial);
                wire::literal(&mut self.out, bytes.get(a as usize..b as usize).unwrap_or_default());
            }
            Some(SectionData::Range { start, end }) => {
                let (a, b) = partial_range(start, end, partial);
                wire::literal_header(&mut self.out, b - a);
                self.stream_range(file, a, b).await?;
            }
        }
        Ok(())
    }

    /// Copies bytes `start..end` of a message file to the output, flushing as it goes. A file
    /// shorter than announced is padded with spaces so the literal stays well-formed.
    async fn stream_range(&mut self, f: &mut tokio::fs::File, start: u64, end: u64) -> std::io::Result<()> {
        let mut left = end - start;
        if left > 0 {
            f.seek(SeekFrom::Start(start)).await?;
            let mut buf = vec![0u8; READ_CHUNK.min(usize::try_from(left).unwrap_or(READ_CHUNK))];
            while left > 0 {
                let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                let n = f.read(&mut buf[..want]).await?;
                if n == 0 {
                    break;
                }
                self.out.extend_from_slice(&buf[..n]);
                left -= n as u64;
                if self.out.len() >= FLUSH_AT {
                    self.flush().await?;
                }
            }
        }
        self.out.extend(std::iter::repeat_n(b' ', usize::try_from(left).unwrap_or(0)));
        Ok(())
    }

    /// BINARY[part] (decoded content) or BINARY.SIZE[part] (RFC 3516).
    async fn write_binary(
        &mut self,
        label: &str,
        s: &MessageStructure,
        part: &[u32],
        partial: Option<(u32, u32)>,
        f: &mut tokio::fs::File,
        size_only: bool,
    ) -> std::io::Result<()> {
        self.out.extend_from_slice(label.as_bytes());
        self.out.push(b' ');
        let Some(section) = s.binary(part) else {
            if size_only {
                self.out.push(b'0');
            } else {
                wire::literal(&mut self.out, b"");
            }
            return Ok(());
        };
        // Decoded content is gathered in memory: its size must precede it.
        let mut raw = Vec::new();
        f.seek(SeekFrom::Start(section.start)).await?;
        f.take(section.end - section.start).read_to_end(&mut raw).await?;
        let mut decoded = Vec::with_capacity(raw.len());
        let mut decoder = Decoder::new(section.encoding);
        decoder.decode(&raw, &mut decoded);
        decoder.finish(&mut decoded);
        if size_only {
            self.out.extend_from_slice(decoded.len().to_string().as_bytes());
            return Ok(());
        }
        let (a, b) = partial_range(0, decoded.len() as u64, partial);
        let bytes = decoded.get(a as usize..b as usize).unwrap_or_default();
        if bytes.contains(&0) {
            wire::binary_literal_header(&mut self.out, bytes.len() as u64);
            self.out.extend_from_slice(bytes);
        } else {
            wire::literal(&mut self.out, bytes);
        }
        Ok(())
    }
}
