//! hMailServer's events (REFERENCE.md §7) and the arguments they are called with.

use std::sync::Arc;

use crate::objects::{ClientInfo, MessageObject};

/// An event of `EventHandlers.vbs`, by hMailServer's function name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    OnClientConnect,
    OnHELO,
    OnClientLogon,
    OnClientValidatePassword,
    OnSMTPData,
    OnAcceptMessage,
    OnRecipientUnknown,
    OnTooManyInvalidCommands,
    OnDeliveryStart,
    OnDeliverMessage,
    OnDeliveryFailed,
    OnExternalAccountDownload,
    OnBackupCompleted,
    OnBackupFailed,
    OnError,
}

impl Event {
    pub const ALL: [Event; 15] = [
        Event::OnClientConnect,
        Event::OnHELO,
        Event::OnClientLogon,
        Event::OnClientValidatePassword,
        Event::OnSMTPData,
        Event::OnAcceptMessage,
        Event::OnRecipientUnknown,
        Event::OnTooManyInvalidCommands,
        Event::OnDeliveryStart,
        Event::OnDeliverMessage,
        Event::OnDeliveryFailed,
        Event::OnExternalAccountDownload,
        Event::OnBackupCompleted,
        Event::OnBackupFailed,
        Event::OnError,
    ];

    /// The function name in the script.
    pub fn name(self) -> &'static str {
        match self {
            Event::OnClientConnect => "OnClientConnect",
            Event::OnHELO => "OnHELO",
            Event::OnClientLogon => "OnClientLogon",
            Event::OnClientValidatePassword => "OnClientValidatePassword",
            Event::OnSMTPData => "OnSMTPData",
            Event::OnAcceptMessage => "OnAcceptMessage",
            Event::OnRecipientUnknown => "OnRecipientUnknown",
            Event::OnTooManyInvalidCommands => "OnTooManyInvalidCommands",
            Event::OnDeliveryStart => "OnDeliveryStart",
            Event::OnDeliverMessage => "OnDeliverMessage",
            Event::OnDeliveryFailed => "OnDeliveryFailed",
            Event::OnExternalAccountDownload => "OnExternalAccountDownload",
            Event::OnBackupCompleted => "OnBackupCompleted",
            Event::OnBackupFailed => "OnBackupFailed",
            Event::OnError => "OnError",
        }
    }

    /// The value `Result.Value` starts at (2, "continue normally", for password validation).
    pub fn initial_result(self) -> i64 {
        if self == Event::OnClientValidatePassword { 2 } else { 0 }
    }
}

/// One argument of a handler.
#[derive(Debug, Clone)]
pub enum Arg {
    Client(ClientInfo),
    /// Kept by the caller too, to read what the script saved.
    Message(Arc<MessageObject>),
    Text(String),
    Number(i64),
    /// `Nothing` (e.g. OnExternalAccountDownload's message for an already-downloaded UID).
    Nothing,
}
