use super::*;

fn mailbox(local: &str, domain: Option<&str>) -> Mailbox {
    Mailbox::new(local, domain.map(|d| Domain::parse(d).unwrap()))
}

#[test]
fn reverse_paths() {
    let ok =
        |local: &str, domain: &str, rest: &'static str| Ok((ReversePath::Mailbox(mailbox(local, Some(domain))), rest));
    type Case = (&'static str, Result<(ReversePath, &'static str), PathError>);
    let cases: Vec<Case> = vec![
        ("<>", Ok((ReversePath::Null, ""))),
        ("<> SIZE=10", Ok((ReversePath::Null, " SIZE=10"))),
        ("<a@example.com>", ok("a", "example.com", "")),
        (" <a@example.com>", ok("a", "example.com", "")),
        ("<a@example.com> SIZE=1", ok("a", "example.com", " SIZE=1")),
        ("a@example.com SIZE=1", ok("a", "example.com", " SIZE=1")),
        ("<\"a b\"@example.com>", ok("a b", "example.com", "")),
        ("<\"a@b>c\"@example.com>", ok("a@b>c", "example.com", "")),
        ("<\"a\\\"b\\\\c\"@example.com>", ok("a\"b\\c", "example.com", "")),
        ("\"a b\"@example.com BODY=7BIT", ok("a b", "example.com", " BODY=7BIT")),
        ("<@a.example,@b.example:user@d.example>", ok("user", "d.example", "")),
        ("<@a.example:user@d.example>", ok("user", "d.example", "")),
        (
            "<user@[192.0.2.1]>",
            Ok((ReversePath::Mailbox(Mailbox::new("user", Some(Domain::Ipv4([192, 0, 2, 1].into())))), "")),
        ),
        (
            "<user@[IPv6:2001:db8::1]>",
            Ok((ReversePath::Mailbox(Mailbox::new("user", Some(Domain::Ipv6("2001:db8::1".parse().unwrap())))), "")),
        ),
        (
            "<user@[ipv6:::1]>",
            Ok((ReversePath::Mailbox(Mailbox::new("user", Some(Domain::Ipv6("::1".parse().unwrap())))), "")),
        ),
        ("<postmaster>", Ok((ReversePath::Mailbox(mailbox("postmaster", None)), ""))),
        ("<first.last+tag@sub-domain.example.co>", ok("first.last+tag", "sub-domain.example.co", "")),
        ("<a..b@example.com>", ok("a..b", "example.com", "")),
        ("<jöe@bücher.example>", ok("jöe", "bücher.example", "")),
        ("<a@1.2.3.4>", ok("a", "1.2.3.4", "")),
        ("", Err(PathError::Missing)),
        ("   ", Err(PathError::Missing)),
        ("<a@example.com", Err(PathError::Unterminated)),
        ("<\"a@example.com>", Err(PathError::Unterminated)),
        ("<a@example.com>SIZE=1", Err(PathError::TrailingGarbage)),
        ("a@example.com>", Err(PathError::TrailingGarbage)),
        ("<a@example.com.>", Err(PathError::BadDomain)),
        ("<a@.example.com>", Err(PathError::BadDomain)),
        ("<a@example..com>", Err(PathError::BadDomain)),
        ("<a@>", Err(PathError::BadDomain)),
        ("<a@-x.com>", Err(PathError::BadDomain)),
        ("<a@x-.com>", Err(PathError::BadDomain)),
        ("<a@x_y.com>", Err(PathError::BadDomain)),
        ("<a@b@c.com>", Err(PathError::BadDomain)),
        ("<@example.com>", Err(PathError::BadSourceRoute)),
        ("<@a,b:user@d>", Err(PathError::BadSourceRoute)),
        ("<@a.:user@d>", Err(PathError::BadSourceRoute)),
        ("<a b@example.com>", Err(PathError::BadLocalPart)),
        ("<a(b)@example.com>", Err(PathError::BadLocalPart)),
        ("<\"a\"b@example.com>", Err(PathError::BadLocalPart)),
        ("<\"a\u{1}\"@example.com>", Err(PathError::BadLocalPart)),
        ("<a@[1.2.3]>", Err(PathError::BadAddressLiteral)),
        ("<a@[IPv6:1.2.3.4]>", Err(PathError::BadAddressLiteral)),
        ("<a@[x:1]>", Err(PathError::BadAddressLiteral)),
        ("<a@[1.2.3.4>", Err(PathError::BadAddressLiteral)),
    ];
    for (input, expected) in cases {
        assert_eq!(parse_reverse_path(input), expected, "{input:?}");
    }
}

#[test]
fn forward_paths() {
    assert_eq!(parse_forward_path("<>"), Err(PathError::NullNotAllowed));
    assert_eq!(parse_forward_path("<Postmaster>"), Ok((mailbox("Postmaster", None), "")));
    assert_eq!(
        parse_forward_path("<b@example.com> NOTIFY=NEVER"),
        Ok((mailbox("b", Some("example.com")), " NOTIFY=NEVER"))
    );
}

#[test]
fn length_limits() {
    let local = "a".repeat(MAX_LOCAL_PART_LENGTH);
    assert!(parse_forward_path(&format!("<{local}@example.com>")).is_ok());
    assert_eq!(parse_forward_path(&format!("<{local}a@example.com>")), Err(PathError::LocalPartTooLong));
    assert_eq!(parse_forward_path(&format!("<\"{}\"@example.com>", "a".repeat(63))), Err(PathError::LocalPartTooLong));
    let label = "b".repeat(MAX_LABEL_LENGTH);
    assert!(parse_forward_path(&format!("<a@{label}.example>")).is_ok());
    assert_eq!(parse_forward_path(&format!("<a@{label}b.example>")), Err(PathError::BadDomain));
    // 1 + 1 + 4 × 63 labels with dots = 256 with the brackets... then one more octet.
    let domain = [label.as_str(); 4].join(".");
    assert_eq!(domain.len(), 255);
    assert_eq!(parse_forward_path(&format!("<a@{domain}>")), Err(PathError::TooLong));
    let domain = format!("{}.{}", [label.as_str(); 3].join("."), "c".repeat(60));
    assert_eq!(format!("<a@{domain}>").len(), MAX_PATH_LENGTH);
    assert!(parse_forward_path(&format!("<a@{domain}>")).is_ok());
    assert_eq!(parse_forward_path(&format!("<ab@{domain}>")), Err(PathError::TooLong));
    assert_eq!(parse_forward_path(&format!("ab@{domain}")), Err(PathError::TooLong), "brackets count even when absent");
}

#[test]
fn displays_with_quotes_when_needed() {
    let cases = [
        ("<a@example.com>", "a@example.com"),
        ("<\"a b\"@example.com>", "\"a b\"@example.com"),
        ("<\"ab\"@example.com>", "ab@example.com"),
        ("<\"a\\\"b\"@example.com>", "\"a\\\"b\"@example.com"),
        ("<a@[192.0.2.1]>", "a@[192.0.2.1]"),
        ("<a@[IPv6:2001:DB8::1]>", "a@[IPv6:2001:db8::1]"),
        ("<postmaster>", "postmaster"),
    ];
    for (input, shown) in cases {
        let (path, _) = parse_reverse_path(input).unwrap();
        assert_eq!(path.to_string(), shown);
        let (again, _) = parse_reverse_path(&format!("<{path}>")).unwrap();
        assert_eq!(again, path);
    }
}

#[test]
fn ascii_and_qualification() {
    let (path, _) = parse_forward_path("<jöe@example.com>").unwrap();
    assert!(!path.is_ascii());
    let (path, _) = parse_forward_path("<joe@bücher.example>").unwrap();
    assert!(!path.is_ascii());
    let (path, _) = parse_forward_path("<postmaster>").unwrap();
    assert!(path.is_ascii() && !path.is_qualified());
    let qualified = path.qualified_with(Domain::Name("example.com".into()));
    assert_eq!(qualified.to_string(), "postmaster@example.com");
}
