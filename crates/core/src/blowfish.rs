//! hMailServer-compatible reversible Blowfish "encryption" (route, fetch-account and
//! smart-host passwords, and account passwords with `accountpwencryption = 1`).
//!
//! This is obfuscation, not security: the key is the public constant
//! `THIS_KEY_IS_NOT_SECRET`. Blocks are Blowfish-ECB with each 32-bit half read and
//! written little-endian, the plaintext zero-padded to a multiple of 8 bytes and the
//! result written as lowercase hex.

use blowfish::BlowfishLE;
use blowfish::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

/// The fixed key hMailServer uses.
const KEY: &[u8] = b"THIS_KEY_IS_NOT_SECRET";

/// Longest plaintext (in bytes) hMailServer accepts; longer input is truncated.
const MAX_PLAIN_LEN: usize = 254;

const BLOCK_LEN: usize = 8;

/// Why a stored Blowfish value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlowfishError {
    /// The input is not valid hexadecimal.
    #[error("invalid hex in Blowfish value")]
    InvalidHex,
    /// The decoded length (in bytes) is not a multiple of the 8-byte block size.
    #[error("Blowfish value length {0} bytes is not a multiple of 8")]
    InvalidLength(usize),
}

fn cipher() -> BlowfishLE {
    // The key length (22) is always within Blowfish's 4..=56 range.
    match BlowfishLE::new_from_slice(KEY) {
        Ok(c) => c,
        Err(_) => unreachable!("constant Blowfish key has a valid length"),
    }
}

/// Narrows `plain` to bytes the way hMailServer does: Latin-1 when every char fits,
/// otherwise UTF-8. Truncated to [`MAX_PLAIN_LEN`] bytes (on a char boundary for UTF-8).
fn plain_bytes(plain: &str) -> Vec<u8> {
    if plain.chars().all(|c| u32::from(c) <= 0xFF) {
        plain.chars().take(MAX_PLAIN_LEN).map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect()
    } else {
        let mut end = plain.len().min(MAX_PLAIN_LEN);
        while !plain.is_char_boundary(end) {
            end -= 1;
        }
        plain.as_bytes()[..end].to_vec()
    }
}

/// Encrypts `plain` into hMailServer's stored form (lowercase hex). Empty input gives "".
pub fn hm_encrypt(plain: &str) -> String {
    let mut bytes = plain_bytes(plain);
    if bytes.is_empty() {
        return String::new();
    }
    let padded = bytes.len().div_ceil(BLOCK_LEN) * BLOCK_LEN;
    bytes.resize(padded, 0);
    let cipher = cipher();
    for chunk in bytes.chunks_exact_mut(BLOCK_LEN) {
        let mut block = Block::<BlowfishLE>::default();
        block.copy_from_slice(chunk);
        cipher.encrypt_block(&mut block);
        chunk.copy_from_slice(&block);
    }
    hex::encode(bytes)
}

/// Decrypts an hMailServer Blowfish hex value back to its clear text. Empty input gives "".
///
/// The result stops at the first NUL byte and is decoded as UTF-8 when it is valid
/// UTF-8 containing non-ASCII bytes, otherwise as Latin-1.
pub fn hm_decrypt(hex_value: &str) -> Result<String, BlowfishError> {
    let hex_value = hex_value.trim();
    if hex_value.is_empty() {
        return Ok(String::new());
    }
    let mut bytes = hex::decode(hex_value).map_err(|_| BlowfishError::InvalidHex)?;
    if bytes.len() % BLOCK_LEN != 0 {
        return Err(BlowfishError::InvalidLength(bytes.len()));
    }
    let cipher = cipher();
    for chunk in bytes.chunks_exact_mut(BLOCK_LEN) {
        let mut block = Block::<BlowfishLE>::default();
        block.copy_from_slice(chunk);
        cipher.decrypt_block(&mut block);
        chunk.copy_from_slice(&block);
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = &bytes[..end];
    if !text.is_ascii()
        && let Ok(s) = std::str::from_utf8(text)
    {
        return Ok(s.to_owned());
    }
    Ok(text.iter().map(|&b| char::from(b)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(hm_encrypt("Test"), "08d04d2ef52d64ce");
        assert_eq!(hm_encrypt("secret"), "a62b3c438efae3db");
        assert_eq!(hm_encrypt("password123"), "46c3176d8652ed26fcf858615f72cef1");
        assert_eq!(hm_encrypt("abcdefgh"), "05d60375d8255b25");
    }

    #[test]
    fn known_vectors_decrypt() {
        assert_eq!(hm_decrypt("08d04d2ef52d64ce").as_deref(), Ok("Test"));
        assert_eq!(hm_decrypt("a62b3c438efae3db").as_deref(), Ok("secret"));
        assert_eq!(hm_decrypt("46c3176d8652ed26fcf858615f72cef1").as_deref(), Ok("password123"));
        assert_eq!(hm_decrypt("05d60375d8255b25").as_deref(), Ok("abcdefgh"));
        // Uppercase hex is accepted too.
        assert_eq!(hm_decrypt("08D04D2EF52D64CE").as_deref(), Ok("Test"));
    }

    #[test]
    fn empty() {
        assert_eq!(hm_encrypt(""), "");
        assert_eq!(hm_decrypt("").as_deref(), Ok(""));
    }

    #[test]
    fn round_trips() {
        for s in [
            "a",
            "1234567",
            "12345678",
            "123456789",
            "with spaces and symbols !@#$%^&*()",
            "Lätin-1 çhårs ÿ",
            "ünïcödé → 日本語",
            "emoji 🦀 mixed",
        ] {
            let enc = hm_encrypt(s);
            assert_eq!(enc.len() % 16, 0, "{s}");
            assert!(enc.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
            assert_eq!(hm_decrypt(&enc).as_deref(), Ok(s), "{s}");
        }
    }

    #[test]
    fn latin1_is_narrowed() {
        // "é" alone fits Latin-1, so it's one byte and one block.
        assert_eq!(hm_encrypt("é").len(), 16);
        // 8 Latin-1 chars stay in one block (UTF-8 would need two).
        assert_eq!(hm_encrypt("éééééééé").len(), 16);
    }

    #[test]
    fn long_input_truncated() {
        let long = "x".repeat(300);
        let enc = hm_encrypt(&long);
        assert_eq!(enc.len(), 256 * 2);
        assert_eq!(hm_decrypt(&enc), Ok("x".repeat(MAX_PLAIN_LEN)));

        let long_utf8 = "日".repeat(100); // 300 bytes, 3 per char
        let dec = hm_decrypt(&hm_encrypt(&long_utf8)).unwrap_or_default();
        assert_eq!(dec, "日".repeat(84)); // 252 bytes, cut on a char boundary
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(hm_decrypt("zz"), Err(BlowfishError::InvalidHex));
        assert_eq!(hm_decrypt("abc"), Err(BlowfishError::InvalidHex));
        assert_eq!(hm_decrypt("abcd"), Err(BlowfishError::InvalidLength(2)));
        assert_eq!(hm_decrypt("08d04d2ef52d64ce00"), Err(BlowfishError::InvalidLength(9)));
    }
}
