//! A message parsed by mail-parser for SEARCH, SORT and THREAD, freed without recursion.
//!
//! mail-parser parses nested `message/rfc822` parts iteratively but nests the results, and its
//! drop recurses once per level: a message of a few thousand nested messages (a few dozen bytes
//! each) would overflow the stack when freed. [`ParsedMessage`] takes the nested messages apart
//! level by level before they are dropped.

use mail_parser::{Message, MessageParser, PartType};

/// A parsed message; derefs to mail-parser's [`Message`].
#[derive(Debug)]
pub struct ParsedMessage<'x>(Message<'x>);

/// Parses `raw` as SEARCH needs it (all of mail-parser's header parsers).
pub fn parse_message(raw: &[u8]) -> Option<ParsedMessage<'_>> {
    MessageParser::default().parse(raw).map(ParsedMessage)
}

impl<'x> std::ops::Deref for ParsedMessage<'x> {
    type Target = Message<'x>;

    fn deref(&self) -> &Message<'x> {
        &self.0
    }
}

impl Drop for ParsedMessage<'_> {
    fn drop(&mut self) {
        let mut nested: Vec<Message<'_>> = Vec::new();
        take_nested(&mut self.0, &mut nested);
        while let Some(mut message) = nested.pop() {
            take_nested(&mut message, &mut nested);
        }
    }
}

/// Moves the messages nested one level in `message` to `into`.
fn take_nested<'x>(message: &mut Message<'x>, into: &mut Vec<Message<'x>>) {
    for part in &mut message.parts {
        if matches!(part.body, PartType::Message(_))
            && let PartType::Message(inner) = std::mem::take(&mut part.body)
        {
            into.push(inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_messages_are_freed_without_recursion() {
        let mut raw = b"Subject: x\r\nContent-Type: message/rfc822\r\n\r\n".repeat(100_000);
        raw.extend_from_slice(b"Subject: innermost\r\n\r\nneedle\r\n");
        let parsed = parse_message(&raw).unwrap();
        assert!(matches!(parsed.parts.first().map(|p| &p.body), Some(PartType::Message(_))));
        drop(parsed);
    }
}
