//! RegExp, Scripting.Dictionary and CreateObject.

mod common;
use common::{global, run, run_err};

#[test]
fn regexp_test_execute_submatches() {
    let src = "Set re = New RegExp\nre.Pattern = \"(\\w+)@(\\w+)\\.com\"\nre.IgnoreCase = True\nre.Global = True\nt = re.Test(\"mail ME@EXAMPLE.com\")\nSet ms = re.Execute(\"a@b.com, c@d.com\")\nn = ms.Count\nfirst = ms(0).Value & \"|\" & ms(0).SubMatches(1) & \"|\" & ms.Item(1).FirstIndex\nFor Each m In ms : all = all & m & \";\" : Next\n";
    let engine = run(src);
    assert_eq!(engine.global("t").unwrap().display(), "True");
    assert_eq!(engine.global("n").unwrap().display(), "2");
    assert_eq!(engine.global("first").unwrap().display(), "a@b.com|b|9");
    assert_eq!(engine.global("all").unwrap().display(), "a@b.com;c@d.com;");
}

#[test]
fn regexp_replace_and_lookahead() {
    let src = "Set re = New RegExp\nre.Pattern = \"(\\d+)(?= EUR)\"\nre.Global = True\nr = re.Replace(\"5 EUR and 7 USD and 9 EUR\", \"[$1]\")\n";
    assert_eq!(global(src, "r"), "[5] EUR and 7 USD and [9] EUR");
    let src = "Set re = New RegExp\nre.Pattern = \"a\"\nr = re.Replace(\"aaa\", \"b\")\n";
    assert_eq!(global(src, "r"), "baa");
    let e = run_err("Set re = New RegExp\nre.Pattern = \"(\"\nx = re.Test(\"a\")\n");
    assert_eq!((e.number, e.line), (5017, 3));
}

#[test]
fn regexp_from_create_object() {
    let src = "Set re = CreateObject(\"VBScript.RegExp\")\nre.Pattern = \"^spam\"\nr = re.Test(\"spam here\")\n";
    assert_eq!(global(src, "r"), "True");
}

#[test]
fn dictionary() {
    let src = "Set d = CreateObject(\"Scripting.Dictionary\")\nd.Add \"a\", 1\nd.Add \"b\", 2\nd(\"c\") = 3\nd.Item(\"a\") = 10\nr1 = d.Count & d.Exists(\"b\") & d.Exists(\"z\") & d(\"a\") & d.Item(\"c\")\nd.Remove \"b\"\nk = d.Keys\ni = d.Items\nr2 = Join(k, \",\") & \"/\" & Join(i, \",\")\nOn Error Resume Next\nd.Add \"a\", 5\nr3 = Err.Number\n";
    let engine = run(src);
    assert_eq!(engine.global("r1").unwrap().display(), "3TrueFalse103");
    assert_eq!(engine.global("r2").unwrap().display(), "a,c/10,3");
    assert_eq!(engine.global("r3").unwrap().display(), "457");
}

#[test]
fn unknown_create_object_names_the_object() {
    let e = run_err("Set fso = CreateObject(\"Scripting.FileSystemObject\")\n");
    assert_eq!(e.number, 429);
    assert!(e.description.contains("Scripting.FileSystemObject"), "{e}");
    assert_eq!(e.line, 1);
}
