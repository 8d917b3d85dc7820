//! hMailServer's `Client` object (ClientInfo, `oClient`): who is connected. Read-only.

use altimail_vbscript::{HostError, HostObject, Value};

/// What the session knows about its client when it raises an event.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip_address: String,
    /// Our port the client connected to.
    pub port: u16,
    pub username: String,
    pub helo: String,
    pub authenticated: bool,
    pub encrypted: bool,
    pub cipher_version: String,
    pub cipher_name: String,
    pub cipher_bits: i32,
    pub session_id: u64,
}

/// The `Client` object of one call.
#[derive(Debug)]
pub struct ClientObject(pub ClientInfo);

impl HostObject for ClientObject {
    fn type_name(&self) -> &str {
        "ClientInfo"
    }

    fn get_property(&self, name: &str, _args: &[Value]) -> Result<Value, HostError> {
        let c = &self.0;
        Ok(match name {
            "ipaddress" => Value::from(c.ip_address.clone()),
            "port" => Value::Long(i32::from(c.port)),
            "username" => Value::from(c.username.clone()),
            "helo" => Value::from(c.helo.clone()),
            "authenticated" => Value::Bool(c.authenticated),
            "encryptedconnection" => Value::Bool(c.encrypted),
            "cipherversion" => Value::from(c.cipher_version.clone()),
            "ciphername" => Value::from(c.cipher_name.clone()),
            "cipherbits" => Value::Long(c.cipher_bits),
            "sessionid" => Value::Double(c.session_id as f64),
            _ => return Err(HostError::NoSuchMember(name.to_owned())),
        })
    }
}
