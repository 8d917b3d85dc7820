//! What `CreateObject` makes besides the interpreter's own objects: a minimal
//! `hMailServer.Utilities`, and clear "not supported" errors for the COM objects scripts
//! often use but Altimail Server does not provide.

use std::sync::Arc;

use altimail_vbscript::{Engine, HostError, HostObject, Value};
use md5::Digest as _;

use super::to_string;

/// Objects that exist on Windows but not here; `CreateObject` of one fails with error 429
/// naming it.
const NOT_SUPPORTED: &[&str] = &[
    "hMailServer.Application",
    "ADODB.Connection",
    "ADODB.Recordset",
    "ADODB.Command",
    "ADODB.Stream",
    "MSXML2.XMLHTTP",
    "MSXML2.ServerXMLHTTP",
    "MSXML2.ServerXMLHTTP.6.0",
    "Microsoft.XMLHTTP",
    "WinHttp.WinHttpRequest.5.1",
    "Scripting.FileSystemObject",
    "WScript.Shell",
];

/// Registers the factories on a new engine.
pub fn register(engine: &mut Engine) {
    engine.register_factory("hMailServer.Utilities", Arc::new(|| Ok(Arc::new(Utilities) as Arc<dyn HostObject>)));
    for &name in NOT_SUPPORTED {
        engine.register_factory(
            name,
            Arc::new(move || {
                Err(HostError::Failed(
                    429,
                    format!("ActiveX component can't create object: '{name}' (not supported by Altimail Server)"),
                ))
            }),
        );
    }
}

/// `hMailServer.Utilities`, the members that need no server state.
struct Utilities;

impl HostObject for Utilities {
    fn type_name(&self) -> &str {
        "Utilities"
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        let text = || args.first().map(to_string).transpose().map(Option::unwrap_or_default);
        match name {
            "generateguid" => Ok(Value::from(format!("{{{}}}", uuid::Uuid::new_v4().to_string().to_uppercase()))),
            "md5" => Ok(Value::from(hex::encode(md5::Md5::digest(text()?.as_bytes())))),
            "sha256" => Ok(Value::from(hex::encode(sha2::Sha256::digest(text()?.as_bytes())))),
            _ => Err(HostError::Failed(438, format!("Utilities.{name} is not supported by Altimail Server"))),
        }
    }
}
