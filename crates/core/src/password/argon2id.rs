//! Argon2id hashes and checks in working memory the caller keeps.
//!
//! Argon2id with the default parameters fills 19 MiB for every hash or check. Allocated anew each
//! time on whichever thread runs the check, that memory ends up kept by the allocator per thread
//! (glibc keeps one arena per thread), so a burst of logons left the server hundreds of MiB
//! larger for good. [`Argon2Memory`] is that working memory, owned by the caller and reused: a
//! fixed set of threads each holding one keeps the total at a known size.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The most working memory a stored hash may ask for, in KiB (256 MiB). A stored value asking
/// for more is treated as not matching rather than risking the process's memory.
const MAX_M_COST_KIB: u32 = 256 * 1024;

/// Reusable working memory for Argon2id: grown to the default parameters' 19 MiB at the first
/// use and kept until [`Argon2Memory::release`].
#[derive(Debug, Default)]
pub struct Argon2Memory {
    blocks: Vec<Block>,
}

impl Argon2Memory {
    /// Empty working memory; nothing is allocated before the first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the memory back to the allocator (the next use allocates it again).
    pub fn release(&mut self) {
        self.blocks = Vec::new();
    }

    /// The bytes currently held.
    pub fn held_bytes(&self) -> usize {
        self.blocks.capacity() * Block::SIZE
    }

    /// Runs `f` on at least `count` blocks. Up to the default size they are the kept ones; a hash
    /// stored with larger parameters gets memory of its own, freed afterwards, so one odd hash
    /// does not make every later check hold more.
    fn with_blocks<T>(&mut self, count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > Params::DEFAULT.block_count() {
            return f(&mut vec![Block::new(); count]);
        }
        if self.blocks.len() < count {
            self.blocks = vec![Block::new(); Params::DEFAULT.block_count()];
        }
        f(&mut self.blocks[..count])
    }
}

/// Checks `password` against an Argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, any
/// of the three Argon2 variants), in `memory`. Malformed values never match.
pub(super) fn verify(memory: &mut Argon2Memory, stored: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    if params.m_cost() > MAX_M_COST_KIB {
        return false;
    }
    let argon2 = Argon2::new(algorithm, version, params);
    let mut computed = vec![0u8; expected.len()];
    let hashed = memory.with_blocks(argon2.params().block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut computed, blocks)
    });
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&computed).is_ok_and(|computed| &computed == expected)
}

/// Hashes `password` with the default parameters and a random salt, in `memory`.
pub(super) fn hash(memory: &mut Argon2Memory, password: &[u8]) -> String {
    let params = Params::DEFAULT;
    let salt: [u8; argon2::RECOMMENDED_SALT_LEN] = rand::random();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::default(), params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    // The inputs are within every limit (salt length, output length, default parameters): a
    // failure here is a bug, not bad input.
    memory
        .with_blocks(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, &salt, &mut out, blocks)
        })
        .expect("Argon2id with default parameters");
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::default().into()),
        params: ParamsString::try_from(&params).expect("default parameters encode"),
        salt: Some(Salt::new(&salt).expect("16-byte salt")),
        hash: Some(Output::new(&out).expect("32-byte output")),
    };
    phc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_functions() {
        let mut memory = Argon2Memory::new();
        let ours = hash(&mut memory, b"correct horse");
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());

        let theirs: PasswordHash = Argon2::default().hash_password(b"battery staple").unwrap();
        assert!(verify(&mut memory, &theirs.to_string(), b"battery staple"));
        assert!(!verify(&mut memory, &theirs.to_string(), b"battery stapler"));
    }

    #[test]
    fn memory_is_reused_and_released() {
        let mut memory = Argon2Memory::new();
        assert_eq!(memory.held_bytes(), 0);
        let stored = hash(&mut memory, b"pw");
        let held = memory.held_bytes();
        assert_eq!(held, 19 * 1024 * 1024);
        let ptr = memory.blocks.as_ptr();
        assert!(verify(&mut memory, &stored, b"pw"));
        assert_eq!((memory.held_bytes(), memory.blocks.as_ptr()), (held, ptr), "the same memory, not a new one");
        memory.release();
        assert_eq!(memory.held_bytes(), 0);
        assert!(verify(&mut memory, &stored, b"pw"));
    }

    #[test]
    fn other_parameters_and_variants_verify() {
        let mut memory = Argon2Memory::new();
        for (algorithm, m_cost) in [(Algorithm::Argon2id, 8), (Algorithm::Argon2i, 64), (Algorithm::Argon2d, 32 * 1024)]
        {
            let params = Params::new(m_cost, 1, 1, None).unwrap();
            let stored = Argon2::new(algorithm, Version::V0x13, params).hash_password(b"pw").unwrap().to_string();
            assert!(verify(&mut memory, &stored, b"pw"), "{stored}");
            assert!(!verify(&mut memory, &stored, b"pW"), "{stored}");
        }
        assert!(memory.held_bytes() <= 19 * 1024 * 1024, "a larger hash does not grow the kept memory");
    }

    #[test]
    fn malformed_and_oversized_values_never_match() {
        let mut memory = Argon2Memory::new();
        let stored = hash(&mut memory, b"pw");
        let huge = stored.replace("m=19456", "m=4194304");
        for bad in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            "$argon2x$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            &stored[..stored.len() - 4],
            &huge,
        ] {
            assert!(!verify(&mut memory, bad, b"pw"), "{bad}");
        }
    }
}
