//! Hostile scripts: deep nesting, long chains, runaway loops and recursion, huge strings.
//! Each must end with a script error, never a stack overflow or a panic. The tests run on
//! threads with a small (256 KiB) stack to show the interpreter does not depend on a big one.

mod common;
use altimail_vbscript::{ErrorKind, Limits, Script};
use common::run_with_limits;
use std::time::Duration;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
}

#[test]
fn deeply_parenthesised_expression_is_refused_without_overflow() {
    on_small_stack(|| {
        let depth = 100_000;
        let source = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
        let e = Script::compile(&source).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Compile);
        // and a nesting the parser accepts runs
        let source = format!("x = {}1{}\n", "(".repeat(100), ")".repeat(100));
        let engine = run_with_limits(&source, Limits::default()).unwrap();
        assert_eq!(engine.global("x").unwrap().display(), "1");
    });
}

#[test]
fn long_operator_chain_is_refused_or_run_without_overflow() {
    on_small_stack(|| {
        // 100,000 terms: over the token limit, refused before parsing
        let source = format!("a = 1\nx = a{}\n", "+a".repeat(100_000));
        let e = Script::compile(&source).unwrap_err();
        assert_eq!((e.kind, e.line), (ErrorKind::Compile, 2));
        // 900 terms: accepted (under the depth limit of 1,000), evaluated
        let source = format!("a = 1\nx = a{}\n", "+a".repeat(899));
        let engine = run_with_limits(&source, Limits::default()).unwrap();
        assert_eq!(engine.global("x").unwrap().display(), "900");
        // a chain of concatenations with line continuations
        let source = format!("x = \"\"{}\n", " & \"ab\" _\n".repeat(900));
        let engine = run_with_limits(&source, Limits::default()).unwrap();
        assert_eq!(engine.global("x").unwrap().display().len(), 1_800);
    });
}

#[test]
fn long_chain_past_the_depth_limit_is_a_compile_error() {
    let limits = Limits { max_expression_depth: 100, ..Limits::default() };
    let source = format!("x = 1{}\n", "+1".repeat(200));
    let e = Script::compile_with(&source, &limits).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Compile);
    assert!(e.description.contains("deeper"), "{e}");
}

#[test]
fn member_chains_and_nested_calls_do_not_overflow() {
    on_small_stack(|| {
        let source = format!("x = a{}\n", ".b".repeat(100_000));
        assert!(Script::compile(&source).is_err());
        let source = format!("x = {}1{}\n", "Abs(".repeat(120), ")".repeat(120));
        let engine = run_with_limits(&source, Limits::default()).unwrap();
        assert_eq!(engine.global("x").unwrap().display(), "1");
    });
}

#[test]
fn unbounded_recursion_hits_the_call_depth_limit() {
    on_small_stack(|| {
        let source = "Function F(n)\n F = F(n + 1) + 1\nEnd Function\nOn Error Resume Next\nx = F(1)\n";
        let e = match run_with_limits(source, Limits::default()) {
            Ok(_) => panic!("must fail"),
            Err(e) => e,
        };
        // On Error Resume Next does not swallow a limit
        assert_eq!(e.kind, ErrorKind::Limit);
        assert_eq!(e.line, 2);
        assert!(e.description.contains("stack"), "{e}");
    });
}

#[test]
fn endless_loop_hits_the_step_budget() {
    let limits = Limits { max_steps: 100_000, ..Limits::default() };
    let e = match run_with_limits("On Error Resume Next\nDo\n x = x + 1\nLoop\n", limits) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Limit);
}

#[test]
fn slow_loop_hits_the_time_limit() {
    let limits = Limits { max_steps: u64::MAX, max_duration: Duration::from_millis(200), ..Limits::default() };
    let started = std::time::Instant::now();
    let e = match run_with_limits("Do While True\n s = Len(\"abc\")\nLoop\n", limits) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Limit);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn growing_strings_and_arrays_hit_the_memory_budget() {
    let e = match run_with_limits("s = \"x\"\nDo\n s = s & s\nLoop\n", Limits::default()) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!((e.kind, e.line), (ErrorKind::Limit, 3));
    let e = match run_with_limits("Dim a()\nReDim a(100000000)\n", Limits::default()) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Limit);
    let e = match run_with_limits("x = Space(2000000000)\n", Limits::default()) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Limit);
    let limits = Limits { max_allocated_bytes: 1_000_000, ..Limits::default() };
    let e = match run_with_limits("For i = 1 To 100000\n s = Space(100) & i\nNext\n", limits) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::Limit);
}

#[test]
fn budgets_start_anew_for_each_call() {
    let limits = Limits { max_steps: 1_000, ..Limits::default() };
    let script = Script::compile_with("Sub Work()\n For i = 1 To 100 : x = i : Next\nEnd Sub\n", &limits).unwrap();
    let mut engine = altimail_vbscript::Engine::with_limits(&script, limits);
    engine.run_main().unwrap();
    for _ in 0..50 {
        engine.call("Work", &[]).unwrap();
    }
}

#[test]
fn garbage_input_never_panics() {
    let samples = [
        "",
        "\u{feff}",
        "If",
        "x = (",
        "End Sub",
        "Sub\n",
        "For i = 1 To\nNext",
        "x = #99/99/9999#",
        "x = &HFFFFFFFFFF",
        "Dim a(99999999999)\n",
        "x = 1 +",
        "Set x = ",
        "x.y.z(1)(2) = 3",
        "Function F()\nF = F\nEnd Function\nx = F()\n",
        "Do : Loop Until",
        "x = \"unterminated",
        "ReDim a(-5)\n",
        "x = Mid(\"abc\", 0)\n",
        "x = Left(\"abc\", -1)\n",
        "x = Chr(-1)\n",
        "x = 1e308 * 10\n",
        "x = CInt(1e300)\n",
        "x = -2147483648 \\ -1\n",
        "x = 5 Mod 0\n",
        "Select Case\nEnd Select\n",
        "With Nothing\n.x = 1\nEnd With\n",
        "x = Array(1)(5)\n",
        "x = DateAdd(\"yyyy\", 999999999, Now)\n",
        "x = DateSerial(99999999, 1, 1)\n",
        "Execute \"Execute \"\"x = 1\"\"\"\n",
        "x = Eval(\"(\")\n",
        "x = Replace(\"a\", \"\", \"b\")\n",
        "x = InStrRev(\"héllo\", \"l\", 99)\n",
        "x = Split(\"a\", \"\", -5)\n",
        "x = Round(1.5, 400)\n",
    ];
    for source in samples {
        if let Ok(script) = Script::compile(source) {
            let mut engine = altimail_vbscript::Engine::new(&script);
            let _ = engine.run_main();
        }
    }
}

#[test]
fn deeply_nested_arrays_and_dictionaries_are_dropped_without_overflow() {
    on_small_stack(|| {
        let limits = Limits { max_steps: 2_000_000, ..Limits::default() };
        let engine =
            run_with_limits("a = Empty\nFor i = 1 To 50000\n a = Array(a, i)\nNext\nr = UBound(a)\n", limits.clone())
                .unwrap();
        assert_eq!(engine.global("r").unwrap().display(), "1");
        drop(engine);
        let source = "Set d = CreateObject(\"Scripting.Dictionary\")\nFor i = 1 To 30000\n Set n = CreateObject(\"Scripting.Dictionary\")\n n.Add \"next\", Array(d)\n Set d = n\nNext\nr = d.Count\n";
        let engine = run_with_limits(source, limits).unwrap();
        assert_eq!(engine.global("r").unwrap().display(), "1");
        drop(engine);
    });
}

#[test]
fn empty_and_huge_array_bounds() {
    let engine = run_with_limits(
        "Dim a()\nReDim a(-1)\nr = UBound(a)\nReDim Preserve a(2)\nr2 = UBound(a)\n",
        Limits::default(),
    )
    .unwrap();
    assert_eq!(engine.global("r").unwrap().display(), "-1");
    assert_eq!(engine.global("r2").unwrap().display(), "2");
    let e = match run_with_limits("Dim a(18446744073709551615)\n", Limits::default()) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_ne!(e.kind, ErrorKind::Compile);
}
