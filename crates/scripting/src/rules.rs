//! The rule action "run function" (hMailServer's `<FunctionName>(oMessage)`): the named
//! function of the script is called with the message; what it saved is the message the rules
//! go on with.

use altimail_rules::ScriptEngine;

use crate::event::Arg;
use crate::objects::{MessageInfo, MessageObject};
use crate::scripts::Scripts;

impl ScriptEngine for Scripts {
    fn run_function(&self, function: &str, raw: &[u8]) -> Option<Vec<u8>> {
        let message = MessageObject::new(MessageInfo { raw: raw.to_vec(), ..MessageInfo::default() });
        // What the script saved counts even when it failed afterwards, as the saved file
        // would in hMailServer.
        let _ = self.call_function(function, &[Arg::Message(message.clone())]);
        message.saved().map(|saved| saved.raw).filter(|changed| changed != raw)
    }
}
