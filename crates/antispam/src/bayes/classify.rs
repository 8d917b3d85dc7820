//! Robinson's chi-square combining of token probabilities, as SpamBayes and Bogofilter do it:
//! each token's spam probability is shrunk towards 0.5 by how rarely it was seen (the unknown
//! word strength), the most telling tokens are combined by Fisher's method once as evidence of
//! spam and once of ham, and the two are set against each other.

use altimail_store::repo::bayes::Counts;

/// The tuning of the classifier (SpamBayes' defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// How many sightings the prior is worth (Robinson's `s`).
    pub unknown_word_strength: f64,
    /// The probability of a token never seen (Robinson's `x`).
    pub unknown_word_prob: f64,
    /// Tokens closer than this to 0.5 are left out.
    pub minimum_deviation: f64,
    /// At most this many tokens, the most telling ones, are combined.
    pub max_discriminators: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { unknown_word_strength: 0.45, unknown_word_prob: 0.5, minimum_deviation: 0.1, max_discriminators: 150 }
    }
}

/// A token's spam probability given its counts and the messages learnt per class, shrunk
/// towards the unknown-word probability; `None` for a token never seen.
pub fn token_probability(token: Counts, learnt: Counts, tuning: &Tuning) -> Option<f64> {
    let (spam, ham) = (token.spam.max(0), token.ham.max(0));
    let seen = spam + ham;
    if seen == 0 {
        return None;
    }
    // Ratios within each class, so a class learnt more often does not weigh more.
    let spam_ratio = (spam as f64 / learnt.spam.max(1) as f64).min(1.0);
    let ham_ratio = (ham as f64 / learnt.ham.max(1) as f64).min(1.0);
    let p = spam_ratio / (spam_ratio + ham_ratio);
    let (s, x, n) = (tuning.unknown_word_strength, tuning.unknown_word_prob, seen as f64);
    Some((s * x + n * p) / (s + n))
}

/// The spam probability (0..=1) of a message whose known tokens have these counts, when at
/// least `min_learnt` messages of each class were learnt; `None` otherwise. A message with no
/// telling token scores 0.5.
pub fn spam_probability(
    tokens: impl IntoIterator<Item = Counts>,
    learnt: Counts,
    min_learnt: i64,
    tuning: &Tuning,
) -> Option<f64> {
    let min_learnt = min_learnt.max(1);
    if learnt.spam < min_learnt || learnt.ham < min_learnt {
        return None;
    }
    let mut clues: Vec<f64> = tokens
        .into_iter()
        .filter_map(|t| token_probability(t, learnt, tuning))
        .filter(|p| (p - 0.5).abs() >= tuning.minimum_deviation)
        .collect();
    clues.sort_by(|a, b| (b - 0.5).abs().total_cmp(&(a - 0.5).abs()));
    clues.truncate(tuning.max_discriminators);
    if clues.is_empty() {
        return Some(0.5);
    }
    // Kept away from 0 and 1 so the logarithms stay finite.
    let (mut ln_spam, mut ln_ham) = (0.0f64, 0.0f64);
    for p in &clues {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        ln_spam += (1.0 - p).ln();
        ln_ham += p.ln();
    }
    let n = clues.len();
    let spam = 1.0 - chi2_q(-2.0 * ln_spam, 2 * n);
    let ham = 1.0 - chi2_q(-2.0 * ln_ham, 2 * n);
    Some(((spam - ham + 1.0) / 2.0).clamp(0.0, 1.0))
}

/// The probability that a chi-square variable with `dof` (even) degrees of freedom is at least
/// `x2` (the series for even degrees of freedom, bounded by `dof`).
fn chi2_q(x2: f64, dof: usize) -> f64 {
    let m = x2 / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..dof / 2 {
        term *= m / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(spam: i64, ham: i64) -> Counts {
        Counts { spam, ham }
    }

    #[test]
    fn chi2_q_matches_known_values() {
        assert!((chi2_q(0.0, 2) - 1.0).abs() < 1e-12);
        // P(chi2 with 2 dof >= 2) = e^-1.
        assert!((chi2_q(2.0, 2) - (-1.0f64).exp()).abs() < 1e-12);
        // With 4 dof: e^-m (1 + m), m = 3.
        assert!((chi2_q(6.0, 4) - (-3.0f64).exp() * 4.0).abs() < 1e-12);
        assert_eq!(chi2_q(1e6, 300), 0.0);
    }

    #[test]
    fn rare_tokens_lean_towards_the_middle() {
        let t = Tuning::default();
        let once = token_probability(c(1, 0), c(10, 10), &t).unwrap();
        let often = token_probability(c(9, 0), c(10, 10), &t).unwrap();
        assert!(0.5 < once && once < often && often < 1.0, "{once} {often}");
        assert_eq!(token_probability(c(0, 0), c(10, 10), &t), None);
        // Normalised per class: 5 of 10 spams and 50 of 100 hams is neutral.
        assert!((token_probability(c(5, 50), c(10, 100), &t).unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn no_judgement_before_enough_messages_of_each_class() {
        let t = Tuning::default();
        assert_eq!(spam_probability([c(5, 0)], c(5, 4), 5, &t), None);
        assert!(spam_probability([c(5, 0)], c(5, 5), 5, &t).is_some());
        assert_eq!(spam_probability([], c(5, 5), 5, &t), Some(0.5));
    }

    #[test]
    fn spammy_and_hammy_tokens_decide() {
        let t = Tuning::default();
        let learnt = c(20, 20);
        let spammy = spam_probability(vec![c(18, 0), c(15, 1), c(20, 2), c(10, 10)], learnt, 5, &t).unwrap();
        let hammy = spam_probability(vec![c(0, 18), c(1, 15), c(2, 20), c(10, 10)], learnt, 5, &t).unwrap();
        let mixed = spam_probability(vec![c(18, 0), c(0, 18)], learnt, 5, &t).unwrap();
        assert!(spammy > 0.95, "{spammy}");
        assert!(hammy < 0.05, "{hammy}");
        assert!((mixed - 0.5).abs() < 0.1, "{mixed}");
    }
}
