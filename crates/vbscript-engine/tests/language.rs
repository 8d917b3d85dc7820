//! Statements and procedures.

mod common;
use common::{global, run, run_err};

#[test]
fn option_explicit_rejects_undeclared_variables() {
    let e = run_err("Option Explicit\nDim a\na = 1\nb = 2\n");
    assert_eq!(e.number, 500);
    assert_eq!(e.line, 4);
    assert!(e.description.contains("'b'"));
}

#[test]
fn const_and_module_level_code() {
    assert_eq!(global("Const LIMIT = 5, NAME = \"x\"\nr = LIMIT * 2 & NAME\n", "r"), "10x");
    assert_eq!(global("Private Const A = -3\nr = A\n", "r"), "-3");
}

#[test]
fn statement_separators_and_line_continuation() {
    assert_eq!(global("a = 1 : b = 2 : r = a + b\n", "r"), "3");
    assert_eq!(global("r = \"a\" & _\n    \"b\" & _\n  \"c\"\n", "r"), "abc");
}

#[test]
fn if_elseif_else_and_single_line_if() {
    let src = "x = 5\nIf x > 10 Then\n r = \"big\"\nElseIf x > 3 Then\n r = \"mid\"\nElse\n r = \"small\"\nEnd If\nIf x = 5 Then s = \"five\" Else s = \"other\"\n";
    let engine = run(src);
    assert_eq!(engine.global("r").unwrap().display(), "mid");
    assert_eq!(engine.global("s").unwrap().display(), "five");
}

#[test]
fn for_next_with_step_and_exit_for() {
    assert_eq!(global("For i = 1 To 10 : t = t + i : Next\nr = t\n", "r"), "55");
    assert_eq!(global("For i = 10 To 1 Step -2 : t = t & i & \",\" : Next\nr = t\n", "r"), "10,8,6,4,2,");
    assert_eq!(global("For i = 1 To 10\n If i = 4 Then Exit For\nNext\nr = i\n", "r"), "4");
    assert_eq!(global("For i = 1 To 0 : t = 1 : Next\nr = IsEmpty(t)\n", "r"), "True");
}

#[test]
fn for_each_over_arrays_and_collections() {
    assert_eq!(global("For Each x In Array(1, 2, 3) : t = t + x : Next\nr = t\n", "r"), "6");
    let src = "Set d = CreateObject(\"Scripting.Dictionary\")\nd.Add \"a\", 1\nd.Add \"b\", 2\nFor Each k In d : t = t & k & d(k) : Next\nr = t\n";
    assert_eq!(global(src, "r"), "a1b2");
}

#[test]
fn do_loops_pre_and_post_while_and_until() {
    assert_eq!(global("i = 0\nDo While i < 5 : i = i + 1 : Loop\nr = i\n", "r"), "5");
    assert_eq!(global("i = 0\nDo Until i >= 3 : i = i + 1 : Loop\nr = i\n", "r"), "3");
    assert_eq!(global("i = 10\nDo : i = i + 1 : Loop While i < 5\nr = i\n", "r"), "11");
    assert_eq!(global("i = 10\nDo : i = i + 1 : Loop Until True\nr = i\n", "r"), "11");
    assert_eq!(global("i = 0\nDo\n i = i + 1\n If i = 7 Then Exit Do\nLoop\nr = i\n", "r"), "7");
    assert_eq!(global("i = 0\nWhile i < 4 : i = i + 1 : Wend\nr = i\n", "r"), "4");
}

#[test]
fn arrays_dim_redim_preserve_bounds() {
    let src = "Dim a(2)\na(0) = \"x\" : a(2) = \"z\"\nr1 = UBound(a) & LBound(a)\nReDim Preserve a(4)\na(4) = \"w\"\nr2 = a(0) & a(2) & a(4) & UBound(a)\nDim m(1, 2)\nm(1, 2) = 7\nr3 = m(1, 2) & UBound(m, 2)\nb = a\nb(0) = \"changed\"\nr4 = a(0)\n";
    let engine = run(src);
    assert_eq!(engine.global("r1").unwrap().display(), "20");
    assert_eq!(engine.global("r2").unwrap().display(), "xzw4");
    assert_eq!(engine.global("r3").unwrap().display(), "72");
    // arrays are values: b is a copy
    assert_eq!(engine.global("r4").unwrap().display(), "x");
    let e = run_err("Dim a(2)\nx = a(3)\n");
    assert_eq!(e.number, 9);
    assert_eq!(e.line, 2);
}

#[test]
fn dynamic_arrays_and_redim() {
    assert_eq!(global("Dim a()\nReDim a(3)\nr = UBound(a)\n", "r"), "3");
    assert_eq!(global("r = UBound(Array())\n", "r"), "-1");
}

#[test]
fn select_case() {
    let src = "Function Kind(x)\n Select Case LCase(x)\n  Case \"a\", \"b\"\n   Kind = \"ab\"\n  Case \"c\"\n   Kind = \"c\"\n  Case Else\n   Kind = \"other\"\n End Select\nEnd Function\nr = Kind(\"B\") & Kind(\"c\") & Kind(\"z\")\n";
    assert_eq!(global(src, "r"), "abcother");
}

#[test]
fn sub_function_recursion_and_exit() {
    let src = "Function Fact(n)\n If n <= 1 Then\n  Fact = 1\n  Exit Function\n End If\n Fact = n * Fact(n - 1)\nEnd Function\nDim r\nSub Store(v)\n r = v\n Exit Sub\n r = 0\nEnd Sub\nStore Fact(10)\n";
    assert_eq!(global(src, "r"), "3628800");
}

#[test]
fn byval_and_byref() {
    let src = "Sub Inc(ByRef a, ByVal b)\n a = a + 1\n b = b + 1\nEnd Sub\nSub IncDefault(a)\n a = a + 1\nEnd Sub\nx = 1 : y = 1 : z = 1\nInc x, y\nIncDefault z\nCall IncDefault(z)\nr = x & y & z\n";
    assert_eq!(global(src, "r"), "213");
    // parentheses around a single argument pass it by value
    assert_eq!(global("Sub Inc(a)\n a = a + 1\nEnd Sub\nx = 1\nInc (x)\nr = x\n", "r"), "1");
}

#[test]
fn procedures_are_hoisted_and_locals_are_local() {
    let src = "r = Twice(4)\nFunction Twice(v)\n Dim tmp\n tmp = v * 2\n Twice = tmp\nEnd Function\n";
    let engine = run(src);
    assert_eq!(engine.global("r").unwrap().display(), "8");
    assert!(engine.global("tmp").is_none());
}

#[test]
fn implicit_locals_and_globals_in_procedures() {
    let src = "counter = 0\nSub Bump()\n counter = counter + 1\n temp = 5\nEnd Sub\nBump\nBump\nr = counter\n";
    let engine = run(src);
    assert_eq!(engine.global("r").unwrap().display(), "2");
    assert!(engine.global("temp").is_none());
}

#[test]
fn with_blocks() {
    let src = "Set re = New RegExp\nWith re\n .Pattern = \"b+\"\n .Global = True\nEnd With\nr = re.Replace(\"abbcb\", \"-\")\n";
    assert_eq!(global(src, "r"), "a-c-");
}

#[test]
fn on_error_resume_next_and_err_object() {
    let src = "On Error Resume Next\nx = 1 / 0\nn = Err.Number\nd = Err.Description\nErr.Clear\nafter = Err.Number\nErr.Raise 1234, \"me\", \"custom\"\nn2 = Err.Number & \":\" & Err.Description\nOn Error Goto 0\n";
    let engine = run(src);
    assert_eq!(engine.global("n").unwrap().display(), "11");
    assert_eq!(engine.global("d").unwrap().display(), "Division by zero");
    assert_eq!(engine.global("after").unwrap().display(), "0");
    assert_eq!(engine.global("n2").unwrap().display(), "1234:custom");
    let e = run_err("x = 1\n\nErr.Raise 5000, \"src\", \"boom\"\n");
    assert_eq!((e.number, e.line, e.description.as_str()), (5000, 3, "boom"));
}

#[test]
fn errors_in_called_procedures_reach_the_caller_handler() {
    let src =
        "Sub Fails()\n x = CInt(\"abc\")\n reached = True\nEnd Sub\nOn Error Resume Next\nFails\nn = Err.Number\n";
    let engine = run(src);
    assert_eq!(engine.global("n").unwrap().display(), "13");
    assert!(engine.global("reached").is_none());
}

#[test]
fn execute_global_and_eval() {
    let src = "ExecuteGlobal \"Function Added(a) : Added = a * 3 : End Function\"\nr = Added(2)\nx = 4\ne = Eval(\"x * 10 + 1\")\n";
    let engine = run(src);
    assert_eq!(engine.global("r").unwrap().display(), "6");
    assert_eq!(engine.global("e").unwrap().display(), "41");
}

#[test]
fn byte_order_mark_is_skipped() {
    assert_eq!(global("\u{feff}r = 1\n", "r"), "1");
}

#[test]
fn classes_are_refused_at_compile_time() {
    let e = altimail_vbscript::Script::compile("Class Foo\nEnd Class\n").unwrap_err();
    assert!(e.description.contains("Foo"), "{e}");
}

#[test]
fn syntax_errors_carry_the_line() {
    let e = altimail_vbscript::Script::compile("x = 1\ny = (2 +\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}
