//! THREAD (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES.
//!
//! Both algorithms build a forest in an arena of [`Node`]s and write it in the response syntax.
//! Every walk over the forest is iterative: a hostile mailbox can make reference chains as long
//! as it has messages, which must not exhaust the stack.

use std::collections::HashMap;

use mail_parser::Message;

use super::headers;
use super::{MessageFacts, base_subject, sent_timestamp, subject_text};
use crate::wire::number;

/// References kept per message; the last ones, nearest the message, matter most.
const MAX_REFERENCES: usize = 256;

/// What threading needs to know about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadItem {
    /// The sequence number or UID to answer with.
    pub id: u32,
    /// Base subject (RFC 5256 §2.1).
    pub subject: String,
    /// The subject marked a reply or forward.
    pub is_reply: bool,
    /// Sent date as a UTC timestamp: the `Date:` header, else the internal date.
    pub sent: i64,
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `References`, or when it has no valid id, the first id of `In-Reply-To`; oldest first.
    pub references: Vec<String>,
}

/// Builds the thread item of one message from its headers (`message` parsed at least to headers).
pub fn thread_item(id: u32, facts: &MessageFacts<'_>, message: Option<&Message<'_>>) -> ThreadItem {
    let (subject, is_reply) = base_subject(&subject_text(message));
    let ids = |name| message.and_then(|m| headers::first(m, name)).map(headers::ids).unwrap_or_default();
    let mut references = ids("References");
    if references.is_empty() {
        references = ids("In-Reply-To").into_iter().take(1).collect();
    }
    if references.len() > MAX_REFERENCES {
        references.drain(..references.len() - MAX_REFERENCES);
    }
    ThreadItem {
        id,
        subject,
        is_reply,
        sent: sent_timestamp(facts, message),
        message_id: ids("Message-ID").into_iter().next(),
        references,
    }
}

/// Threads `items` with `algorithm` (`ORDEREDSUBJECT` or `REFERENCES`, any case) and returns the
/// response text after `* THREAD `, such as `(1)(2 3 (4)(5))`; `None` for an unknown algorithm.
/// An empty mailbox gives an empty text.
pub fn thread(algorithm: &str, mut items: Vec<ThreadItem>) -> Option<Vec<u8>> {
    items.sort_by_key(|i| i.id);
    let forest = if algorithm.eq_ignore_ascii_case("ORDEREDSUBJECT") {
        ordered_subject(&items)
    } else if algorithm.eq_ignore_ascii_case("REFERENCES") {
        references(&items)
    } else {
        return None;
    };
    Some(forest.write(&items))
}

#[derive(Debug, Default, Clone)]
struct Node {
    /// Index into the items; `None` for a dummy (a message that is referenced but not here).
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

#[derive(Debug, Default)]
struct Forest {
    nodes: Vec<Node>,
    roots: Vec<usize>,
}

impl Forest {
    fn add(&mut self, msg: Option<usize>) -> usize {
        self.nodes.push(Node { msg, ..Node::default() });
        self.nodes.len() - 1
    }

    fn is_dummy(&self, n: usize) -> bool {
        self.nodes[n].msg.is_none()
    }

    /// Whether `c` is `p` or one of its ancestors, so `p → c` would close a loop.
    fn would_loop(&self, p: usize, c: usize) -> bool {
        // A node without children is nobody's ancestor: the common case costs nothing.
        if self.nodes[c].children.is_empty() {
            return p == c;
        }
        let mut at = Some(p);
        let mut steps = 0;
        while let Some(n) = at {
            if n == c || steps > self.nodes.len() {
                return true;
            }
            at = self.nodes[n].parent;
            steps += 1;
        }
        false
    }

    fn unlink(&mut self, c: usize) {
        if let Some(p) = self.nodes[c].parent.take() {
            self.nodes[p].children.retain(|&x| x != c);
        }
    }

    fn link(&mut self, p: usize, c: usize) {
        self.unlink(c);
        self.nodes[c].parent = Some(p);
        self.nodes[p].children.push(c);
    }

    /// Nodes under `roots`, children before their parents.
    fn post_order(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<(usize, bool)> = self.roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((n, expanded)) = stack.pop() {
            if expanded {
                out.push(n);
            } else {
                stack.push((n, true));
                stack.extend(self.nodes[n].children.iter().rev().map(|&c| (c, false)));
            }
        }
        out
    }

    /// Sorts siblings and roots by sent date, a dummy taking the date of its first child
    /// (RFC 5256 §3, REFERENCES step 6); ties keep mailbox order.
    fn sort_by_date(&mut self, items: &[ThreadItem]) {
        let mut key: Vec<(i64, u32)> = vec![(i64::MIN, 0); self.nodes.len()];
        for n in self.post_order() {
            let mut children = std::mem::take(&mut self.nodes[n].children);
            children.sort_by_key(|&c| key[c]);
            key[n] = match self.nodes[n].msg {
                Some(m) => (items[m].sent, items[m].id),
                None => children.first().map_or((i64::MIN, 0), |&c| key[c]),
            };
            self.nodes[n].children = children;
        }
        let mut roots = std::mem::take(&mut self.roots);
        roots.sort_by_key(|&r| key[r]);
        self.roots = roots;
    }

    /// The response text: `(root child (grandchild)(grandchild))…`.
    fn write(&self, items: &[ThreadItem]) -> Vec<u8> {
        enum Step {
            Node(usize),
            Text(&'static [u8]),
        }
        // A node in parentheses, pushed so that it pops in reading order.
        let parenthesised = |n| [Step::Text(b")"), Step::Node(n), Step::Text(b"(")];
        let mut out = Vec::new();
        let mut stack: Vec<Step> = Vec::new();
        for &r in self.roots.iter().rev() {
            stack.extend(parenthesised(r));
        }
        while let Some(step) = stack.pop() {
            let n = match step {
                Step::Text(t) => {
                    out.extend_from_slice(t);
                    continue;
                }
                Step::Node(n) => n,
            };
            let node = &self.nodes[n];
            if let Some(m) = node.msg {
                number(&mut out, u64::from(items[m].id));
            }
            match (node.msg, node.children.as_slice()) {
                (_, []) => {}
                (Some(_), [only]) => stack.extend([Step::Node(*only), Step::Text(b" ")]),
                (msg, children) => {
                    for &c in children.iter().rev() {
                        stack.extend(parenthesised(c));
                    }
                    if msg.is_some() {
                        stack.push(Step::Text(b" "));
                    }
                }
            }
        }
        out
    }
}

/// ORDEREDSUBJECT: messages grouped by base subject; in each group the first by sent date is the
/// parent of all others; threads ordered by the sent date of their first message.
fn ordered_subject(items: &[ThreadItem]) -> Forest {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&items[a], &items[b]);
        x.subject
            .as_bytes()
            .iter()
            .map(u8::to_ascii_uppercase)
            .cmp(y.subject.as_bytes().iter().map(u8::to_ascii_uppercase))
            .then(x.sent.cmp(&y.sent))
            .then(x.id.cmp(&y.id))
    });
    let mut f = Forest::default();
    let mut current: Option<(usize, &str)> = None;
    for i in order {
        let n = f.add(Some(i));
        match current {
            Some((root, subject)) if subject.eq_ignore_ascii_case(&items[i].subject) => f.link(root, n),
            _ => {
                f.roots.push(n);
                current = Some((n, &items[i].subject));
            }
        }
    }
    f.sort_by_date(items);
    f
}

/// REFERENCES: the JWZ algorithm as specified in RFC 5256 §3.
fn references(items: &[ThreadItem]) -> Forest {
    let mut f = Forest::default();
    let mut by_id: HashMap<&str, usize> = HashMap::new();

    // Step 1: containers and parent/child links.
    for (i, item) in items.iter().enumerate() {
        let own = match item.message_id.as_deref() {
            Some(mid) => match by_id.get(mid) {
                Some(&n) if f.is_dummy(n) => n,
                // A duplicate Message-ID: the later message gets a container of its own.
                Some(_) => f.add(None),
                None => {
                    let n = f.add(None);
                    by_id.insert(mid, n);
                    n
                }
            },
            None => f.add(None),
        };
        f.nodes[own].msg = Some(i);

        let mut prev: Option<usize> = None;
        for r in &item.references {
            let n = *by_id.entry(r.as_str()).or_insert_with(|| f.add(None));
            if let Some(p) = prev
                && f.nodes[n].parent.is_none()
                && !f.would_loop(p, n)
            {
                f.link(p, n);
            }
            prev = Some(n);
        }
        // The last reference is the parent, replacing a link made from a truncated References.
        f.unlink(own);
        if let Some(p) = prev
            && !f.would_loop(p, own)
        {
            f.link(p, own);
        }
    }

    // Step 2: the root set.
    f.roots = (0..f.nodes.len()).filter(|&n| f.nodes[n].parent.is_none()).collect();

    prune(&mut f);
    merge_subjects(&mut f, items);
    f.sort_by_date(items);
    f
}

/// Step 4: drop childless dummies; replace other dummies by their children, except at the root
/// where a dummy stays unless it has a single child.
fn prune(f: &mut Forest) {
    for n in f.post_order() {
        let children = std::mem::take(&mut f.nodes[n].children);
        let mut kept = Vec::with_capacity(children.len());
        for c in children {
            if f.is_dummy(c) {
                kept.append(&mut f.nodes[c].children);
            } else {
                kept.push(c);
            }
        }
        for &c in &kept {
            f.nodes[c].parent = Some(n);
        }
        f.nodes[n].children = kept;
    }
    let roots = std::mem::take(&mut f.roots);
    for r in roots {
        if f.is_dummy(r) && f.nodes[r].children.len() <= 1 {
            let children = std::mem::take(&mut f.nodes[r].children);
            for &c in &children {
                f.nodes[c].parent = None;
            }
            f.roots.extend(children);
        } else {
            f.roots.push(r);
        }
    }
}

/// Step 5: gather root threads that share a base subject.
fn merge_subjects(f: &mut Forest, items: &[ThreadItem]) {
    let subject_of = |f: &Forest, r: usize| -> Option<String> {
        let m = f.nodes[r].msg.or_else(|| f.nodes[r].children.first().and_then(|&c| f.nodes[c].msg))?;
        let s = &items[m].subject;
        (!s.is_empty()).then(|| s.to_ascii_uppercase())
    };
    let is_reply = |f: &Forest, n: usize| f.nodes[n].msg.is_some_and(|m| items[m].is_reply);

    let mut table: HashMap<String, usize> = HashMap::new();
    for &r in &f.roots {
        let Some(s) = subject_of(f, r) else { continue };
        let replace = match table.get(&s) {
            None => true,
            Some(&old) => {
                (f.is_dummy(r) && !f.is_dummy(old))
                    || (!f.is_dummy(old) && !f.is_dummy(r) && is_reply(f, old) && !is_reply(f, r))
            }
        };
        if replace {
            table.insert(s, r);
        }
    }

    let roots = f.roots.clone();
    let mut alive: HashMap<usize, bool> = roots.iter().map(|&r| (r, true)).collect();
    let mut replaced: HashMap<usize, usize> = HashMap::new();
    for r in roots {
        let Some(s) = subject_of(f, r) else { continue };
        let Some(&t) = table.get(&s) else { continue };
        if t == r || !alive.get(&r).copied().unwrap_or(false) {
            continue;
        }
        let (t_dummy, r_dummy) = (f.is_dummy(t), f.is_dummy(r));
        if t_dummy && r_dummy {
            let children = std::mem::take(&mut f.nodes[r].children);
            for c in children {
                f.nodes[c].parent = None;
                f.link(t, c);
            }
            alive.insert(r, false);
        } else if t_dummy || (!is_reply(f, t) && is_reply(f, r)) {
            f.link(t, r);
            alive.insert(r, false);
        } else if r_dummy || (is_reply(f, t) && !is_reply(f, r)) {
            f.link(r, t);
            alive.insert(t, false);
            table.insert(s, r);
        } else {
            let d = f.add(None);
            f.link(d, t);
            f.link(d, r);
            alive.insert(r, false);
            alive.insert(t, false);
            alive.insert(d, true);
            replaced.insert(t, d);
            table.insert(s, d);
        }
    }
    f.roots = f
        .roots
        .iter()
        .map(|&r| {
            let mut n = r;
            while let Some(&d) = replaced.get(&n) {
                n = d;
            }
            n
        })
        .filter(|n| alive.get(n).copied().unwrap_or(false))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u32, subject: &str, sent: i64, mid: &str, refs: &[&str]) -> ThreadItem {
        let (subject, is_reply) = base_subject(subject);
        ThreadItem {
            id,
            subject,
            is_reply,
            sent,
            message_id: (!mid.is_empty()).then(|| mid.to_owned()),
            references: refs.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    fn run(alg: &str, items: Vec<ThreadItem>) -> String {
        String::from_utf8(thread(alg, items).unwrap()).unwrap()
    }

    #[test]
    fn ordered_subject_groups() {
        let items = vec![
            item(1, "Hello", 100, "", &[]),
            item(2, "Other", 50, "", &[]),
            item(3, "Re: hello", 300, "", &[]),
            item(4, "Fwd: Hello", 200, "", &[]),
            item(5, "other (fwd)", 60, "", &[]),
            item(6, "Third", 10, "", &[]),
        ];
        assert_eq!(run("orderedsubject", items), "(6)(2 5)(1 (4)(3))");
        assert_eq!(run("ORDEREDSUBJECT", vec![]), "");
        assert!(thread("X-NOPE", vec![]).is_none());
    }

    #[test]
    fn references_tree() {
        let items = vec![
            item(1, "A", 1, "a@x", &[]),
            item(2, "Re: A", 2, "b@x", &["a@x"]),
            item(3, "Re: A", 3, "c@x", &["a@x", "b@x"]),
            item(4, "Re: A", 4, "d@x", &["a@x"]),
            item(5, "Re: A", 5, "e@x", &["a@x", "b@x"]),
            item(6, "B", 6, "f@x", &[]),
            // Siblings under a missing parent: a dummy root.
            item(7, "Re: C", 7, "g@x", &["gone@x"]),
            item(8, "Re: C", 8, "h@x", &["gone@x"]),
            // Replies to a missing message with a single child: promoted.
            item(9, "D", 9, "i@x", &["lost@x"]),
        ];
        assert_eq!(run("REFERENCES", items), "(1 (2 (3)(5))(4))(6)((7)(8))(9)");
    }

    #[test]
    fn references_subject_merge_and_loops() {
        let items = vec![
            item(1, "Topic", 10, "a@x", &[]),
            // No references but a reply subject: joined under the original.
            item(2, "Re: Topic", 20, "b@x", &[]),
            // Two non-replies with the same subject become siblings under a dummy.
            item(3, "Same", 30, "c@x", &[]),
            item(4, "Same", 40, "d@x", &[]),
            // A reference loop and a duplicate Message-ID do not break anything.
            item(5, "Loop", 50, "e@x", &["f@x"]),
            item(6, "Loop2", 60, "f@x", &["e@x"]),
            item(7, "Dup", 70, "a@x", &[]),
        ];
        assert_eq!(run("REFERENCES", items), "(1 2)((3)(4))(6 5)(7)");
    }

    #[test]
    fn deep_chain_does_not_overflow() {
        let n = 50_000;
        let items: Vec<_> = (1..=n)
            .map(|i| {
                let refs = if i > 1 { vec![format!("m{}", i - 1)] } else { vec![] };
                ThreadItem {
                    id: i,
                    subject: "s".into(),
                    is_reply: i > 1,
                    sent: i64::from(i),
                    message_id: Some(format!("m{i}")),
                    references: refs,
                }
            })
            .collect();
        let out = run("REFERENCES", items);
        assert!(out.starts_with("(1 2 3 "));
        assert!(out.ends_with(" 50000)"));
    }
}
