//! Account password schemes (`hm_accounts.accountpwencryption`): hMailServer's plain,
//! Blowfish, MD5 and salted SHA-256 forms, plus Altimail's Argon2id.
//!
//! Also the CRAM-MD5 (RFC 2195) computation, which needs the clear text and so only works for
//! passwords stored plain or with Blowfish ([`plaintext_available`]).

use hmac::{Hmac, KeyInit as _, Mac as _};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::blowfish::{hm_decrypt, hm_encrypt};

mod argon2id;

pub use argon2id::Argon2Memory;

/// Length of the hex salt prefix in hMailServer's salted SHA-256 form.
const SHA256_SALT_LEN: usize = 6;

/// How an account password is stored; the discriminant is the database code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordScheme {
    /// Clear text (code 0).
    Plain = 0,
    /// hMailServer's reversible Blowfish, see [`crate::blowfish`] (code 1).
    Blowfish = 1,
    /// Unsalted MD5, 32 lowercase hex chars (code 2).
    Md5 = 2,
    /// 6 hex salt chars + hex `sha256(salt + password)`, 70 chars (code 3).
    Sha256 = 3,
    /// Argon2id PHC string `$argon2id$v=19$...` (code 10, Altimail only).
    Argon2id = 10,
}

impl PasswordScheme {
    /// Maps a database code to a scheme; `None` for unknown codes.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Plain),
            1 => Some(Self::Blowfish),
            2 => Some(Self::Md5),
            3 => Some(Self::Sha256),
            10 => Some(Self::Argon2id),
            _ => None,
        }
    }

    /// The database code of this scheme.
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// Constant-time (for equal lengths) byte comparison.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Case-insensitive comparison of clear texts, as hMailServer does for plain and
/// Blowfish passwords.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    ct_eq(a.to_lowercase().as_bytes(), b.to_lowercase().as_bytes())
}

/// The Latin-1 bytes of `s`, when it has non-ASCII chars that are all representable.
fn latin1_alternative(s: &str) -> Option<Vec<u8>> {
    if s.is_ascii() {
        return None;
    }
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// The byte forms of `password` to try for hash schemes: UTF-8, then Latin-1 if different.
fn password_encodings(password: &str) -> Vec<Vec<u8>> {
    let mut out = vec![password.as_bytes().to_vec()];
    out.extend(latin1_alternative(password));
    out
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn sha256_hex(salt: &str, password: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(password);
    hex::encode(hasher.finalize())
}

/// Checks `password` against a `stored` value of the scheme with database code
/// `scheme_code`. Empty passwords, empty stored values and unknown codes never match.
///
/// An Argon2id check allocates its 19 MiB of working memory anew; servers checking many
/// passwords use [`verify_with`] and keep the memory.
pub fn verify(scheme_code: i64, stored: &str, password: &str) -> bool {
    verify_with(&mut Argon2Memory::new(), scheme_code, stored, password)
}

/// [`verify`] with Argon2id's working memory taken from (and left in) `memory`.
pub fn verify_with(memory: &mut Argon2Memory, scheme_code: i64, stored: &str, password: &str) -> bool {
    if password.is_empty() || stored.is_empty() {
        return false;
    }
    let Some(scheme) = PasswordScheme::from_code(scheme_code) else {
        return false;
    };
    match scheme {
        PasswordScheme::Plain => eq_ignore_case(stored, password),
        PasswordScheme::Blowfish => match hm_decrypt(stored) {
            Ok(clear) if !clear.is_empty() => eq_ignore_case(&clear, password),
            _ => false,
        },
        PasswordScheme::Md5 => {
            let expected = stored.trim().to_ascii_lowercase();
            password_encodings(password).iter().any(|pw| ct_eq(md5_hex(pw).as_bytes(), expected.as_bytes()))
        }
        PasswordScheme::Sha256 => {
            let stored = stored.trim();
            let (Some(salt), Some(digest)) = (stored.get(..SHA256_SALT_LEN), stored.get(SHA256_SALT_LEN..)) else {
                return false;
            };
            let expected = digest.to_ascii_lowercase();
            password_encodings(password).iter().any(|pw| ct_eq(sha256_hex(salt, pw).as_bytes(), expected.as_bytes()))
        }
        PasswordScheme::Argon2id => argon2id::verify(memory, stored.trim(), password.as_bytes()),
    }
}

/// Produces the stored form of `password` under `scheme` (random salt where the
/// scheme has one).
pub fn hash(scheme: PasswordScheme, password: &str) -> String {
    hash_with(&mut Argon2Memory::new(), scheme, password)
}

/// [`hash`] with Argon2id's working memory taken from (and left in) `memory`.
pub fn hash_with(memory: &mut Argon2Memory, scheme: PasswordScheme, password: &str) -> String {
    match scheme {
        PasswordScheme::Plain => password.to_owned(),
        PasswordScheme::Blowfish => hm_encrypt(password),
        PasswordScheme::Md5 => md5_hex(password.as_bytes()),
        PasswordScheme::Sha256 => {
            let salt = hex::encode(rand::random::<[u8; SHA256_SALT_LEN / 2]>());
            let digest = sha256_hex(&salt, password.as_bytes());
            format!("{salt}{digest}")
        }
        PasswordScheme::Argon2id => argon2id::hash(memory, password.as_bytes()),
    }
}

/// Whether a password stored with `scheme_code` should be re-hashed to `preferred`
/// (true whenever the schemes differ, including unknown codes).
pub fn needs_rehash(scheme_code: i64, preferred: PasswordScheme) -> bool {
    PasswordScheme::from_code(scheme_code) != Some(preferred)
}

/// The clear text of a stored password, for schemes that keep it recoverable (Plain
/// and Blowfish; needed for CRAM-MD5/APOP). `None` for hashes, undecodable or empty values.
pub fn plaintext_available(scheme_code: i64, stored: &str) -> Option<String> {
    let clear = match PasswordScheme::from_code(scheme_code)? {
        PasswordScheme::Plain => stored.to_owned(),
        PasswordScheme::Blowfish => hm_decrypt(stored).ok()?,
        PasswordScheme::Md5 | PasswordScheme::Sha256 | PasswordScheme::Argon2id => return None,
    };
    (!clear.is_empty()).then_some(clear)
}

/// The CRAM-MD5 digest (RFC 2195): lowercase hex of HMAC-MD5 with the clear-text password
/// `secret` as the key and the server's `challenge` (with its angle brackets) as the message.
pub fn cram_md5_digest(secret: &str, challenge: &str) -> String {
    let mut mac = Hmac::<Md5>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(challenge.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a client's CRAM-MD5 `digest` (hex, either case) against the clear-text password
/// `secret` and the `challenge` it answers, in constant time for a well-formed digest. An empty
/// secret never matches.
pub fn cram_md5_verify(secret: &str, challenge: &str, digest: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let expected = cram_md5_digest(secret, challenge);
    ct_eq(expected.as_bytes(), digest.to_ascii_lowercase().as_bytes())
}

/// A fresh CRAM-MD5 challenge in the RFC 2195 form `<random.timestamp@host>`: 64 random bits
/// and the Unix time in seconds, so no two connections get the same one.
pub fn cram_md5_challenge(host: &str) -> String {
    let random = rand::random::<u64>();
    let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("<{random}.{time}@{host}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [PasswordScheme; 5] = [
        PasswordScheme::Plain,
        PasswordScheme::Blowfish,
        PasswordScheme::Md5,
        PasswordScheme::Sha256,
        PasswordScheme::Argon2id,
    ];

    #[test]
    fn codes_round_trip() {
        for s in ALL {
            assert_eq!(PasswordScheme::from_code(s.code()), Some(s));
        }
        assert_eq!(PasswordScheme::Argon2id.code(), 10);
        assert_eq!(PasswordScheme::from_code(4), None);
        assert_eq!(PasswordScheme::from_code(-1), None);
    }

    #[test]
    fn sha256_worked_example() {
        let stored = "1a2b3ce1cc24b353fe8387de5778f6a89d87c18e7e9a16563d5d49bac4739f34578700";
        assert_eq!(format!("1a2b3c{}", sha256_hex("1a2b3c", b"secret")), stored);
        assert!(verify(3, stored, "secret"));
        // The digest compares case-insensitively; the salt is used exactly as stored.
        let upper_digest = format!("1a2b3c{}", stored[6..].to_ascii_uppercase());
        assert!(verify(3, &upper_digest, "secret"));
        assert!(!verify(3, stored, "Secret"));
        assert!(!verify(3, stored, "wrong"));
    }

    #[test]
    fn sha256_latin1_fallback() {
        let pw = "pässwörd";
        let latin1: Vec<u8> = pw.chars().map(|c| c as u8).collect();
        let stored = format!("abcdef{}", sha256_hex("abcdef", &latin1));
        assert!(verify(3, &stored, pw));
        let utf8 = format!("abcdef{}", sha256_hex("abcdef", pw.as_bytes()));
        assert!(verify(3, &utf8, pw));
    }

    #[test]
    fn sha256_malformed_stored() {
        assert!(!verify(3, "1a2b", "secret"));
        assert!(!verify(3, "1a2b3c", "secret"));
        assert!(!verify(3, "ééééé", "secret")); // no char boundary panic
    }

    #[test]
    fn md5_known_value() {
        assert_eq!(md5_hex(b"secret"), "5ebe2294ecd0e0f08eab7690d2a6ee69");
        assert_eq!(hash(PasswordScheme::Md5, "secret"), "5ebe2294ecd0e0f08eab7690d2a6ee69");
        assert!(verify(2, "5ebe2294ecd0e0f08eab7690d2a6ee69", "secret"));
        assert!(verify(2, "5EBE2294ECD0E0F08EAB7690D2A6EE69", "secret"));
        assert!(!verify(2, "5ebe2294ecd0e0f08eab7690d2a6ee69", "Secret"));
    }

    #[test]
    fn plain_is_case_insensitive() {
        assert!(verify(0, "Secret", "secret"));
        assert!(verify(0, "secret", "SECRET"));
        assert!(!verify(0, "secret", "secret2"));
    }

    #[test]
    fn blowfish_is_case_insensitive() {
        assert!(verify(1, "a62b3c438efae3db", "secret"));
        assert!(verify(1, "a62b3c438efae3db", "SeCrEt"));
        assert!(!verify(1, "a62b3c438efae3db", "secret2"));
        assert!(!verify(1, "not hex", "secret"));
    }

    #[test]
    fn empty_password_never_matches() {
        for s in ALL {
            let stored = hash(s, "");
            assert!(!verify(s.code(), &stored, ""), "{s:?}");
            assert!(!verify(s.code(), "", ""), "{s:?}");
            assert!(!verify(s.code(), "", "secret"), "{s:?}");
        }
        // A hash of the empty string stored as MD5/SHA-256 still doesn't accept "".
        assert!(!verify(2, "d41d8cd98f00b204e9800998ecf8427e", ""));
    }

    #[test]
    fn hash_output_verifies() {
        for s in ALL {
            for pw in ["secret", "p@ss w0rd!", "ünïcödé"] {
                let stored = hash(s, pw);
                assert!(verify(s.code(), &stored, pw), "{s:?} {pw}");
                assert!(!verify(s.code(), &stored, "wrong"), "{s:?} {pw}");
            }
        }
    }

    #[test]
    fn hash_formats() {
        let sha = hash(PasswordScheme::Sha256, "secret");
        assert_eq!(sha.len(), 70);
        assert!(sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(sha, hash(PasswordScheme::Sha256, "secret")); // random salt

        let a = hash(PasswordScheme::Argon2id, "secret");
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_eq!(hash(PasswordScheme::Plain, "secret"), "secret");
        assert_eq!(hash(PasswordScheme::Blowfish, "secret"), "a62b3c438efae3db");
    }

    #[test]
    fn argon2_round_trip() {
        let stored = hash(PasswordScheme::Argon2id, "correct horse");
        assert!(verify(10, &stored, "correct horse"));
        assert!(!verify(10, &stored, "Correct horse"));
        assert!(!verify(10, "$argon2id$garbage", "correct horse"));
    }

    #[test]
    fn unknown_code_rejected() {
        assert!(!verify(4, "secret", "secret"));
        assert!(!verify(99, "secret", "secret"));
    }

    #[test]
    fn rehash_decision() {
        assert!(!needs_rehash(10, PasswordScheme::Argon2id));
        assert!(needs_rehash(3, PasswordScheme::Argon2id));
        assert!(needs_rehash(42, PasswordScheme::Argon2id));
        assert!(!needs_rehash(3, PasswordScheme::Sha256));
    }

    #[test]
    fn plaintext_recovery() {
        assert_eq!(plaintext_available(0, "secret").as_deref(), Some("secret"));
        assert_eq!(plaintext_available(1, "a62b3c438efae3db").as_deref(), Some("secret"));
        assert_eq!(plaintext_available(1, "zz"), None);
        assert_eq!(plaintext_available(0, ""), None);
        assert_eq!(plaintext_available(2, "5ebe2294ecd0e0f08eab7690d2a6ee69"), None);
        assert_eq!(plaintext_available(3, &hash(PasswordScheme::Sha256, "x")), None);
        assert_eq!(plaintext_available(10, &hash(PasswordScheme::Argon2id, "x")), None);
        assert_eq!(plaintext_available(7, "secret"), None);
    }

    #[test]
    fn cram_md5_rfc2195_example() {
        // RFC 2195 §2: user tim, password tanstaaftanstaaf.
        let challenge = "<1896.697170952@postoffice.reston.mci.net>";
        let digest = cram_md5_digest("tanstaaftanstaaf", challenge);
        assert_eq!(digest, "b913a602c7eda7a495b4e6e7334d3890");
        assert!(cram_md5_verify("tanstaaftanstaaf", challenge, &digest));
        assert!(cram_md5_verify("tanstaaftanstaaf", challenge, &digest.to_ascii_uppercase()));
        assert!(!cram_md5_verify("tanstaaf", challenge, &digest));
        assert!(!cram_md5_verify("tanstaaftanstaaf", "<1897.697170952@postoffice.reston.mci.net>", &digest));
        assert!(!cram_md5_verify("tanstaaftanstaaf", challenge, &digest[..31]));
        assert!(!cram_md5_verify("", challenge, &cram_md5_digest("", challenge)));
        // Keys longer than the MD5 block are hashed first (RFC 2104).
        assert_eq!(cram_md5_digest(&"k".repeat(100), challenge).len(), 32);
    }

    #[test]
    fn cram_md5_challenges_are_fresh() {
        let a = cram_md5_challenge("mx.example.com");
        let b = cram_md5_challenge("mx.example.com");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@mx.example.com>"), "{a}");
        let inner = &a[1..a.find('@').unwrap()];
        let (random, time) = inner.split_once('.').unwrap();
        assert!(random.parse::<u64>().is_ok() && time.parse::<u64>().unwrap() > 1_600_000_000, "{a}");
    }
}
