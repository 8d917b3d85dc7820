//! Built-in functions and Variant semantics.

mod common;
use altimail_vbscript::Value;
use common::{eval, eval_value, run_err};

#[test]
fn string_functions() {
    assert_eq!(eval("Mid(\"hello world\", 7)"), "world");
    assert_eq!(eval("Mid(\"hello\", 2, 3)"), "ell");
    assert_eq!(eval("Left(\"hello\", 2) & Right(\"hello\", 3)"), "hello");
    assert_eq!(eval("\"[\" & Trim(\"  a b  \") & \"]\" & LTrim(\" x\") & RTrim(\"y \")"), "[a b]xy");
    assert_eq!(eval("LCase(\"AbC\") & UCase(\"dE\")"), "abcDE");
    assert_eq!(eval("Len(\"héllo\")"), "5");
    assert_eq!(eval("Mid(\"héllo\", 2, 2)"), "él");
    assert_eq!(eval("Len(Null)"), "");
    assert_eq!(eval("Space(3) & \"|\" & String(3, \"ab\")"), "   |aaa");
    assert_eq!(eval("StrReverse(\"abc\") & StrComp(\"a\", \"A\", 1) & StrComp(\"a\", \"b\")"), "cba0-1");
    assert_eq!(eval("Asc(\"A\") & Chr(66) & Hex(255)"), "65BFF");
}

#[test]
fn instr_and_instrrev() {
    assert_eq!(eval("InStr(\"abcabc\", \"c\")"), "3");
    assert_eq!(eval("InStr(4, \"abcabc\", \"c\")"), "6");
    assert_eq!(eval("InStr(\"abc\", \"z\")"), "0");
    assert_eq!(eval("InStr(1, \"ABC\", \"b\", 1)"), "2");
    assert_eq!(eval("InStr(1, \"ABC\", \"b\", vbTextCompare)"), "2");
    assert_eq!(eval("InStrRev(\"a.b.c\", \".\")"), "4");
    assert_eq!(eval("InStrRev(\"a.b.c\", \".\", 3)"), "2");
    assert_eq!(eval("Mid(\"user@example.com\", InStr(\"user@example.com\", \"@\") + 1)"), "example.com");
}

#[test]
fn split_join_replace() {
    assert_eq!(eval("UBound(Split(\"a,b,c\", \",\"))"), "2");
    assert_eq!(eval("Split(\"a,b,c\", \",\")(1)"), "b");
    assert_eq!(eval("Join(Split(\"a b c\"), \"-\")"), "a-b-c");
    assert_eq!(eval("UBound(Split(\"\", \",\"))"), "-1");
    assert_eq!(eval("Join(Split(\"a,b,c,d\", \",\", 2), \"|\")"), "a|b,c,d");
    assert_eq!(eval("Replace(\"aXbXc\", \"X\", \"-\")"), "a-b-c");
    assert_eq!(eval("Replace(\"aXbxc\", \"x\", \"-\", 1, -1, 1)"), "a-b-c");
    assert_eq!(eval("Replace(\"aaaa\", \"a\", \"b\", 1, 2)"), "bbaa");
}

#[test]
fn conversions_and_bankers_rounding() {
    assert_eq!(eval("CInt(2.5) & CInt(3.5) & CInt(-2.5)"), "24-2");
    assert_eq!(eval("CLng(\"42\") + 1"), "43");
    assert_eq!(eval("CDbl(\"1.5\") * 2"), "3");
    assert_eq!(eval("CBool(\"true\") & CBool(0) & CBool(5)"), "TrueFalseTrue");
    assert_eq!(eval("CStr(12) & CStr(True)"), "12True");
    assert_eq!(eval("Round(2.5) & Round(3.14159, 2)"), "23.14");
    assert_eq!(run_err("x = CInt(40000)\n").number, 6);
    assert_eq!(run_err("x = CInt(\"abc\")\n").number, 13);
    assert_eq!(
        eval("TypeName(CInt(1)) & TypeName(CLng(1)) & TypeName(1.5) & TypeName(\"\")"),
        "IntegerLongDoubleString"
    );
}

#[test]
fn type_tests() {
    assert_eq!(eval("IsNumeric(\"12.5\") & IsNumeric(\"12a\") & IsNumeric(\"\")"), "TrueFalseFalse");
    assert_eq!(eval("IsEmpty(undefinedthing) & IsNull(Null) & IsArray(Array(1))"), "TrueTrueTrue");
    assert_eq!(eval("IsObject(Nothing) & VarType(\"s\")"), "True8");
}

#[test]
fn variant_arithmetic_and_comparison() {
    assert_eq!(eval("7 \\ 2 & \" \" & 7 Mod 3 & \" \" & -7 Mod 3"), "3 1 -1");
    assert_eq!(eval("7.5 \\ 2"), "4");
    assert_eq!(eval("5.5 Mod 2"), "0");
    assert_eq!(eval("\"1\" + \"2\""), "12");
    assert_eq!(eval("\"1\" + 2"), "3");
    assert_eq!(eval("1 & 2"), "12");
    assert_eq!(eval("\"10\" = 10"), "True");
    assert_eq!(eval("\"abc\" < \"abd\""), "True");
    assert_eq!(eval("Empty = 0"), "True");
    assert_eq!(eval("Empty = \"\""), "True");
    assert_eq!(eval("IsNull(Null = 1)"), "True");
    assert_eq!(eval("True = -1"), "True");
    assert_eq!(eval("0.1 + 0.2"), "0.3");
    assert_eq!(eval("32767 + 1"), "32768");
    assert_eq!(eval("TypeName(32767 + 1)"), "Long");
    assert_eq!(eval("6 And 3"), "2");
    assert_eq!(eval("Not 0"), "-1");
    assert_eq!(run_err("x = 1 / 0\n").number, 11);
    assert_eq!(run_err("x = \"a\" * 2\n").number, 13);
    assert!(matches!(eval_value("1.5 * 2"), Value::Double(_)));
}

#[test]
fn is_and_nothing() {
    assert_eq!(eval("Nothing Is Nothing"), "True");
    assert_eq!(
        common::global(
            "Set d = CreateObject(\"Scripting.Dictionary\")\nSet e = d\nr = (d Is e) & (d Is Nothing)\n",
            "r"
        ),
        "TrueFalse"
    );
}

#[test]
fn date_functions() {
    assert_eq!(
        eval("Year(#2024-03-15 10:20:30#) & \"-\" & Month(#3/15/2024#) & \"-\" & Day(#3/15/2024#)"),
        "2024-3-15"
    );
    assert_eq!(
        eval("Hour(#2024-03-15 10:20:30#) & Minute(#2024-03-15 10:20:30#) & Second(#2024-03-15 10:20:30#)"),
        "102030"
    );
    assert_eq!(eval("DateAdd(\"d\", 20, #3/15/2024#)"), "4/4/2024");
    assert_eq!(eval("DateAdd(\"m\", 1, #1/31/2024#)"), "2/29/2024");
    assert_eq!(eval("DateAdd(\"h\", 5, #3/15/2024 10:00:00 PM#)"), "3/16/2024 3:00:00 AM");
    assert_eq!(eval("DateDiff(\"d\", #3/1/2024#, #3/15/2024#)"), "14");
    assert_eq!(eval("DateDiff(\"n\", #3/1/2024 10:00#, #3/1/2024 11:30#)"), "90");
    assert_eq!(eval("DateDiff(\"yyyy\", #12/31/2023#, #1/1/2024#)"), "1");
    assert_eq!(eval("FormatDateTime(#2024-03-05 14:07:00#, 2)"), "3/5/2024");
    assert_eq!(eval("FormatDateTime(#2024-03-05 14:07:00#, 4)"), "14:07");
    assert_eq!(eval("FormatDateTime(#2024-03-05 14:07:00#, vbLongTime)"), "2:07:00 PM");
    assert_eq!(eval("DateSerial(2024, 13, 1)"), "1/1/2025");
    assert_eq!(eval("Year(Now) > 2000 And Len(Date) > 0 And IsDate(Time)"), "True");
    assert_eq!(eval("CDate(\"2024-01-02\") + 1"), "1/3/2024");
}

#[test]
fn array_function_and_bounds() {
    assert_eq!(eval("UBound(Array(1, 2, 3)) & LBound(Array(1))"), "20");
    assert_eq!(run_err("x = UBound(5)\n").number, 13);
}
