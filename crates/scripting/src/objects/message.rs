//! hMailServer's `Message` object (`oMessage`): the message of the event, its headers,
//! bodies, envelope recipients and attachments.
//!
//! A script changes a copy: header writes and recipient changes take effect when the script
//! calls `Save`, as in hMailServer, where an unsaved change is lost. The host reads the saved
//! state with [`MessageObject::saved`] after the call and stores it durably before the
//! message goes on.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use altimail_vbscript::{HostError, HostObject, Value, object};
use mail_parser::MimeHeaders as _;

use super::{headers, to_string};

/// One envelope recipient as scripts see it (`oMessage.Recipients(i)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRecipient {
    pub address: String,
    /// The address the sender wrote (before alias or list expansion).
    pub original_address: String,
    pub is_local_user: bool,
}

/// What the host knows about the message when it raises the event.
#[derive(Debug, Clone, Default)]
pub struct MessageInfo {
    /// The queue id (0 before the message is queued).
    pub id: i64,
    /// The message file, when there is one.
    pub filename: String,
    /// The envelope sender (`FromAddress`).
    pub from_address: String,
    pub recipients: Vec<ScriptRecipient>,
    /// Delivery attempts made so far.
    pub delivery_attempt: i64,
    /// The message itself (may be empty when the event comes before the body, as OnSMTPData).
    pub raw: Vec<u8>,
}

/// What a script saved: the message and recipients to go on with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMessage {
    pub raw: Vec<u8>,
    /// `Some` when the script added or cleared recipients.
    pub recipients: Option<Vec<ScriptRecipient>>,
}

#[derive(Debug)]
struct State {
    info: MessageInfo,
    recipients_changed: bool,
    saved: Option<SavedMessage>,
}

/// The `Message` object of one event call. Clone the `Arc` to keep it after the call.
#[derive(Debug)]
pub struct MessageObject {
    state: Mutex<State>,
}

impl MessageObject {
    pub fn new(info: MessageInfo) -> Arc<MessageObject> {
        Arc::new(MessageObject { state: Mutex::new(State { info, recipients_changed: false, saved: None }) })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The message as the script last saved it, `None` when it did not call `Save`.
    pub fn saved(&self) -> Option<SavedMessage> {
        self.state().saved.clone()
    }

    fn parsed<T>(&self, read: impl FnOnce(&mail_parser::Message<'_>) -> T, default: T) -> T {
        let state = self.state();
        match mail_parser::MessageParser::default().parse(&state.info.raw) {
            Some(message) => read(&message),
            None => default,
        }
    }

    fn header(&self, name: &str) -> String {
        headers::get(&self.state().info.raw, name).unwrap_or_default()
    }

    fn set_header(&self, name: &str, value: &str) {
        headers::set(&mut self.state().info.raw, name, value);
    }
}

impl HostObject for MessageObject {
    fn type_name(&self) -> &str {
        "Message"
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        Ok(match name {
            "id" => Value::Double(self.state().info.id as f64),
            "filename" => Value::from(self.state().info.filename.clone()),
            "fromaddress" => Value::from(self.state().info.from_address.clone()),
            "size" => Value::Long(i32::try_from(self.state().info.raw.len()).unwrap_or(i32::MAX)),
            "deliveryattempt" => Value::Long(i32::try_from(self.state().info.delivery_attempt).unwrap_or(0)),
            "headervalue" => {
                let field = args.first().ok_or_else(|| HostError::failed("HeaderValue needs a field name"))?;
                Value::from(self.header(&to_string(field)?))
            }
            "subject" => {
                let raw = self.header("Subject");
                Value::from(self.parsed(|m| m.subject().map(str::to_owned), None).unwrap_or(raw))
            }
            "from" => Value::from(self.header("From")),
            "to" => Value::from(self.header("To")),
            "cc" => Value::from(self.header("CC")),
            "date" => Value::from(self.header("Date")),
            "charset" => Value::from("utf-8"),
            "body" => Value::from(self.parsed(|m| m.body_text(0).map(|b| b.into_owned()), None).unwrap_or_default()),
            "htmlbody" => {
                let html =
                    self.parsed(|m| (m.html_body_count() > 0).then(|| m.body_html(0).map(|b| b.into_owned())), None);
                Value::from(html.flatten().unwrap_or_default())
            }
            "recipients" => {
                let list = Collection::new("Recipients", self.state().info.recipients.clone(), |r| {
                    object(RecipientObject(r.clone()))
                });
                if args.is_empty() { object(list) } else { list.item(args)? }
            }
            "attachments" => {
                let names = self.parsed(
                    |m| {
                        m.attachments()
                            .map(|a| Attachment {
                                filename: a.attachment_name().unwrap_or_default().to_owned(),
                                size: a.len(),
                            })
                            .collect::<Vec<_>>()
                    },
                    Vec::new(),
                );
                let list = Collection::new("Attachments", names, |a| object(AttachmentObject(a.clone())));
                if args.is_empty() { object(list) } else { list.item(args)? }
            }
            _ => return Err(HostError::NoSuchMember(name.to_owned())),
        })
    }

    fn set_property(&self, name: &str, args: &[Value], value: Value) -> Result<(), HostError> {
        let text = to_string(&value)?;
        match name {
            "headervalue" => {
                let field = args.first().ok_or_else(|| HostError::failed("HeaderValue needs a field name"))?;
                self.set_header(&to_string(field)?, &text);
            }
            "subject" => self.set_header("Subject", &text),
            "from" => self.set_header("From", &text),
            "to" => self.set_header("To", &text),
            "cc" => self.set_header("CC", &text),
            "date" => self.set_header("Date", &text),
            "fromaddress" => self.state().info.from_address = text,
            "body" | "htmlbody" => {
                return Err(HostError::failed(format!(
                    "Message.{name} cannot be changed by scripts in Altimail Server"
                )));
            }
            _ => return Err(HostError::NoSuchMember(name.to_owned())),
        }
        Ok(())
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        match name {
            "save" => {
                let mut state = self.state();
                let recipients = state.recipients_changed.then(|| state.info.recipients.clone());
                state.saved = Some(SavedMessage { raw: state.info.raw.clone(), recipients });
                Ok(Value::Bool(true))
            }
            "addrecipient" => {
                // AddRecipient(Name, Address)
                let address = args.get(1).or(args.first()).map(to_string).transpose()?.unwrap_or_default();
                let address = address.trim().trim_start_matches('<').trim_end_matches('>').to_owned();
                if !address.contains('@') || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(HostError::failed(format!("AddRecipient: '{address}' is not an email address")));
                }
                let mut state = self.state();
                if !state.info.recipients.iter().any(|r| r.address.eq_ignore_ascii_case(&address)) {
                    state.info.recipients.push(ScriptRecipient {
                        original_address: address.clone(),
                        address,
                        is_local_user: false,
                    });
                }
                state.recipients_changed = true;
                Ok(Value::Empty)
            }
            "clearrecipients" => {
                let mut state = self.state();
                state.info.recipients.clear();
                state.recipients_changed = true;
                Ok(Value::Empty)
            }
            "refreshcontent" => Ok(Value::Empty),
            "hasbodytype" => {
                let kind = args.first().map(to_string).transpose()?.unwrap_or_default().to_ascii_lowercase();
                let has = match kind.as_str() {
                    "text/html" => self.parsed(|m| m.html_body_count() > 0, false),
                    "text/plain" => self.parsed(|m| m.text_body_count() > 0, false),
                    _ => false,
                };
                Ok(Value::Bool(has))
            }
            _ => Err(HostError::NoSuchMember(name.to_owned())),
        }
    }
}

/// A read-only collection of hMailServer's objects (`oMessage.Recipients`, `oMessage.Attachments`):
/// Count, Item(i) (zero-based, as in hMailServer) and For Each.
struct Collection<T> {
    type_name: &'static str,
    items: Vec<T>,
    wrap: fn(&T) -> Value,
}

impl<T> Collection<T> {
    fn new(type_name: &'static str, items: Vec<T>, wrap: fn(&T) -> Value) -> Self {
        Collection { type_name, items, wrap }
    }

    fn item(&self, args: &[Value]) -> Result<Value, HostError> {
        let item = self.items.get(index(args)?).ok_or_else(|| HostError::Failed(9, "Subscript out of range".into()))?;
        Ok((self.wrap)(item))
    }
}

fn index(args: &[Value]) -> Result<usize, HostError> {
    let i = args.first().map(|v| v.to_i64()).transpose().map_err(HostError::from)?.unwrap_or(0);
    usize::try_from(i).map_err(|_| HostError::Failed(9, "Subscript out of range".into()))
}

impl<T: Send + Sync> HostObject for Collection<T> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        match name {
            "count" => Ok(Value::Long(i32::try_from(self.items.len()).unwrap_or(i32::MAX))),
            "item" | "" => self.item(args),
            _ => Err(HostError::NoSuchMember(name.to_owned())),
        }
    }

    fn enumerate(&self) -> Result<Vec<Value>, HostError> {
        Ok(self.items.iter().map(self.wrap).collect())
    }
}

struct RecipientObject(ScriptRecipient);

impl HostObject for RecipientObject {
    fn type_name(&self) -> &str {
        "Recipient"
    }

    fn get_property(&self, name: &str, _args: &[Value]) -> Result<Value, HostError> {
        match name {
            "address" | "" => Ok(Value::from(self.0.address.clone())),
            "originaladdress" => Ok(Value::from(self.0.original_address.clone())),
            "islocaluser" => Ok(Value::Bool(self.0.is_local_user)),
            _ => Err(HostError::NoSuchMember(name.to_owned())),
        }
    }
}

#[derive(Clone)]
struct Attachment {
    filename: String,
    size: usize,
}

struct AttachmentObject(Attachment);

impl HostObject for AttachmentObject {
    fn type_name(&self) -> &str {
        "Attachment"
    }

    fn get_property(&self, name: &str, _args: &[Value]) -> Result<Value, HostError> {
        match name {
            "filename" | "" => Ok(Value::from(self.0.filename.clone())),
            "size" => Ok(Value::Long(i32::try_from(self.0.size).unwrap_or(i32::MAX))),
            _ => Err(HostError::NoSuchMember(name.to_owned())),
        }
    }
}
