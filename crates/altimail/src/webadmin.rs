//! The web administration's first greeting: a new installation has no administrator password,
//! so the first `serve` with the administration listener (or `quickstart`) makes one, stores
//! its hash and shows it once with the administration's address, as other mail servers greet
//! a new administrator.

use std::net::SocketAddr;

use altimail_admin::{ADMINISTRATOR, Admin, Caller};

/// The address of the web administration on the listener `listen`.
pub(crate) fn admin_url(listen: SocketAddr) -> String {
    let host = if listen.ip().is_unspecified() {
        // Every address: the loopback one works on the server itself.
        if listen.is_ipv6() { "[::1]".to_owned() } else { "127.0.0.1".to_owned() }
    } else if listen.is_ipv6() {
        format!("[{}]", listen.ip())
    } else {
        listen.ip().to_string()
    };
    format!("http://{host}:{}/admin/", listen.port())
}

/// Sets a generated administrator password when none is set; returns it then, once.
pub(crate) async fn ensure_administrator_password(admin: &Admin, origin: &str) -> anyhow::Result<Option<String>> {
    if admin.administrator_password_set().await? {
        return Ok(None);
    }
    let password = crate::cli::quickstart::generate_password()?;
    admin.set_administrator_password(&Caller::administrator(origin), &password).await?;
    Ok(Some(password))
}

/// At `serve`: makes the administrator password when there is none and prints it, with the
/// address to log on at, on standard output (once: the next start finds it set).
pub(crate) async fn greet(admin: &Admin, listen: SocketAddr) {
    match ensure_administrator_password(admin, "first start").await {
        Ok(Some(password)) => {
            let url = admin_url(listen);
            println!();
            println!("Web administration: {url}");
            println!("  user      {ADMINISTRATOR}");
            println!("  password  {password}   <- shown this once; `altimail admin password` changes it");
            println!();
            tracing::info!(
                "no administrator password was set: one was generated and printed once on standard output; log on at {url} as {ADMINISTRATOR}"
            );
        }
        Ok(None) => tracing::info!("web administration on {}", admin_url(listen)),
        Err(e) => tracing::error!("cannot set the first administrator password: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_name_an_address_a_browser_can_reach() {
        assert_eq!(super::admin_url("127.0.0.1:8180".parse().unwrap()), "http://127.0.0.1:8180/admin/");
        assert_eq!(super::admin_url("0.0.0.0:8180".parse().unwrap()), "http://127.0.0.1:8180/admin/");
        assert_eq!(super::admin_url("[::]:8180".parse().unwrap()), "http://[::1]:8180/admin/");
        assert_eq!(super::admin_url("[2001:db8::1]:80".parse().unwrap()), "http://[2001:db8::1]:80/admin/");
    }
}
