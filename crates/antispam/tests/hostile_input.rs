//! Arbitrary and adversarial input never panics spamd's response parser, the SURBL link scan,
//! the Bayesian tokenizer, registered domains, DNSBL expected results or the white-list
//! matcher, and their bounds hold. The stable stand-ins of the targets in `fuzz/`.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use altimail_antispam::bayes::{MAX_TOKENS, message_key, tokenize};
use altimail_antispam::checks::dnsbl::expected_matches;
use altimail_antispam::checks::domain::registered;
use altimail_antispam::checks::surbl::{Limits, domains_in_message, domains_in_text};
use altimail_antispam::spamassassin::{parse_response, result_of, spam_status};
use altimail_store::repo::greylisting::{like_matches, like_to_wildcard, wildcard_to_like};
use proptest::prelude::*;

/// Pieces of messages and spamd responses, multibyte text and broken UTF-8 among them.
fn mailish() -> impl Strategy<Value = Vec<u8>> {
    let tokens = prop::sample::select(vec![
        "SPAMD/1.1 0 EX_OK\r\n",
        "Content-length: 3\r\n",
        "Content-length: 0\r\n",
        "Spam: True ; 15.0 / 5.0\r\n",
        "X-Spam-Status: Yes, score=9.1\r\n",
        "X-Spam",
        "X-Spam\u{e9}x: 1\r\n",
        "Return-Path: <a@b>\r\n",
        "Subject: =?utf-8?q?Gro=C3=9Fe?=\r\n",
        "From: \"N\u{e9}\" <a@b.example>\r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n",
        "Content-Type: text/html\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "--b\r\n",
        "--b--\r\n",
        "\r\n",
        "\n",
        " ",
        "\t",
        ":",
        "=\r\n",
        "http://",
        "HTTPS://",
        "user:pw@",
        "www.example.co.uk",
        "a.b.example.com:8080/x",
        "\u{fc}.example",
        ".",
        "..",
        "@",
        "%",
        "<style>",
        "</style>",
        "<script",
        "<a href=\"",
        "<",
        ">",
        "\u{e9}",
        "\u{130}",
        "word ",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ]);
    let piece = prop_oneof![
        4 => tokens.prop_map(|t| t.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn registered_and_distinct(found: &[String], max: usize) {
    assert!(found.len() <= max);
    let distinct: HashSet<&String> = found.iter().collect();
    assert_eq!(distinct.len(), found.len());
    for d in found {
        assert_eq!(registered(d).as_deref(), Some(d.as_str()), "{d:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn spamd_responses_never_panic(raw in prop_oneof![mailish(), prop::collection::vec(any::<u8>(), 0..256)]) {
        let _ = spam_status(&String::from_utf8_lossy(&raw));
        if let Ok(response) = parse_response(&raw) {
            prop_assert!(raw.ends_with(&response.body));
            let result = result_of(response);
            prop_assert!(result.headers.iter().all(|(n, _)| n.to_ascii_lowercase().starts_with("x-spam-")));
        }
    }

    #[test]
    fn well_framed_spamd_bodies_are_kept(body in mailish()) {
        let mut raw = format!("SPAMD/1.1 0 EX_OK\r\nContent-length: {}\r\n\r\n", body.len()).into_bytes();
        raw.extend_from_slice(&body);
        let response = parse_response(&raw).expect("a well-framed response parses");
        prop_assert_eq!(&response.body, &body);
        let _ = result_of(response);
    }

    #[test]
    fn surbl_scan_is_bounded(raw in prop_oneof![mailish(), prop::collection::vec(any::<u8>(), 0..256)]) {
        let mut out = Vec::new();
        domains_in_text(&raw, 5, &mut out);
        registered_and_distinct(&out, 5);
        let limits = Limits { max_message_bytes: 4096, max_bytes: 2048, max_domains: 5 };
        registered_and_distinct(&domains_in_message(&raw, limits), 5);
    }

    #[test]
    fn tokenizer_is_bounded(raw in prop_oneof![mailish(), prop::collection::vec(any::<u8>(), 0..256)]) {
        let tokens = tokenize(&raw);
        prop_assert!(tokens.len() <= MAX_TOKENS);
        prop_assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), tokens.len());
        prop_assert!(tokens.iter().all(|t| t.chars().count() <= 300));
        let _ = message_key(&raw);
    }

    #[test]
    fn registered_domains_end_their_host(host in "[a-zA-Z0-9.\u{e9}\u{130} _:-]{0,40}") {
        if let Some(domain) = registered(&host) {
            prop_assert!(host.to_ascii_lowercase().trim().trim_end_matches('.').ends_with(&domain));
            prop_assert!(domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty()));
        }
    }

    #[test]
    fn dnsbl_expected_results_never_panic(expected in "[0-9.|*?\\- \u{e9}x]{0,40}", octets in any::<[u8; 4]>()) {
        let answer = Ipv4Addr::from(octets);
        let _ = expected_matches(&expected, answer);
        prop_assert!(expected_matches(&answer.to_string(), answer));
    }

    #[test]
    fn white_list_wildcards_round_trip(pattern in "[a-z0-9.*?%_/\u{e9}\u{130}]{0,24}", text in "[a-z0-9.%_/\u{e9}\u{130}]{0,24}") {
        let like = wildcard_to_like(&pattern);
        let _ = like_matches(&like, &text);
        let _ = like_matches(&pattern, &text);
        prop_assert_eq!(like_to_wildcard(&like), pattern);
        prop_assert!(like_matches(&wildcard_to_like(&text), &text));
        prop_assert!(like_matches("%", &text));
    }
}
