//! Integration tests: real sockets on 127.0.0.1, real TLS, an SQLite store in a temporary
//! directory with hMailServer's default rows.

mod listeners;
mod tls_ports;
mod util;
