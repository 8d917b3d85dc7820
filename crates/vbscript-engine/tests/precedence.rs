//! VBScript's operator precedence, one test per level: ^, unary -, * /, \, Mod, + -, &,
//! comparisons, Not, And, Or, Xor, Eqv, Imp. The parser groups some of these differently;
//! the compiler regroups them.

mod common;
use common::eval;

#[test]
fn power_binds_tighter_than_negation_and_groups_left() {
    assert_eq!(eval("-2 ^ 2"), "-4");
    assert_eq!(eval("2 ^ 3 ^ 2"), "64");
    assert_eq!(eval("2 ^ -1"), "0.5");
}

#[test]
fn negation_binds_tighter_than_multiplication() {
    assert_eq!(eval("-2 * 3"), "-6");
    assert_eq!(eval("2 * -3 ^ 2"), "-18");
}

#[test]
fn multiplication_and_division_bind_tighter_than_integer_division() {
    // 8 \ (2 * 2) = 2, where a shared level would give (8 \ 2) * 2 = 8
    assert_eq!(eval("8 \\ 2 * 2"), "2");
    assert_eq!(eval("9 \\ 6 / 2"), "3");
}

#[test]
fn integer_division_binds_tighter_than_mod() {
    // 7 Mod (4 \ 2) = 1, where left to right would give (7 Mod 4) \ 2 = 1... use a telling case
    assert_eq!(eval("10 Mod 7 \\ 2"), "1");
    assert_eq!(eval("(10 Mod 7) \\ 2"), "1");
    assert_eq!(eval("9 Mod 8 \\ 2"), "1");
    assert_eq!(eval("(9 Mod 8) \\ 2"), "0");
}

#[test]
fn mod_binds_tighter_than_addition() {
    assert_eq!(eval("1 + 7 Mod 4"), "4");
}

#[test]
fn addition_binds_tighter_than_concatenation() {
    assert_eq!(eval("\"Recipient \" & 1 + 1"), "Recipient 2");
    assert_eq!(global("k = 2\nr = \"Recipient \" & k+1\n", "r"), "Recipient 3");
    assert_eq!(eval("1 + 2 & 3 + 4"), "37");
}

use common::global;

#[test]
fn concatenation_binds_tighter_than_comparison() {
    assert_eq!(eval("\"a\" & \"b\" = \"ab\""), "True");
}

#[test]
fn comparisons_share_one_level_left_to_right() {
    // (1 < 2) = True, where a higher level for < would give the same; (2 = 2) < 3: True(-1) < 3
    assert_eq!(eval("2 = 2 < 3"), "True");
    assert_eq!(eval("3 > 2 = True"), "True");
    assert_eq!(eval("1 < 2 <> False"), "True");
}

#[test]
fn not_binds_looser_than_comparison_and_tighter_than_and() {
    assert_eq!(eval("Not 1 = 2"), "True");
    // (Not False) And False = False; the parser's Not (False And False) would be True
    assert_eq!(eval("Not False And False"), "False");
    assert_eq!(global("x = False\ny = False\nr = Not x And y\n", "r"), "False");
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(eval("True Or True And False"), "True");
    assert_eq!(eval("False And True Or True"), "True");
}

#[test]
fn or_binds_tighter_than_xor() {
    // (True Or False) Xor True = False; True Or (False Xor True) = True
    assert_eq!(eval("True Or False Xor True"), "False");
}

#[test]
fn xor_binds_tighter_than_eqv() {
    // (True Xor True) Eqv False = True; True Xor (True Eqv False) = True... telling case:
    assert_eq!(eval("False Xor True Eqv False"), "False");
    assert_eq!(eval("False Xor (True Eqv False)"), "False");
    assert_eq!(eval("True Xor True Eqv True"), "False");
    assert_eq!(eval("True Xor (True Eqv True)"), "False");
    assert_eq!(eval("True Xor False Eqv False"), "False");
    assert_eq!(eval("True Xor (False Eqv False)"), "False");
    // the parser puts Eqv with And: True And False Eqv False would then be (True And False) Eqv False
    assert_eq!(eval("True And False Eqv False"), "True");
}

#[test]
fn eqv_binds_tighter_than_imp() {
    // (False Eqv False) Imp False = False; False Eqv (False Imp False) = False... telling case:
    assert_eq!(eval("True Imp False Eqv False"), "True");
    assert_eq!(eval("(True Imp False) Eqv False"), "True");
    assert_eq!(eval("False Eqv True Imp False"), "True");
    assert_eq!(eval("False Eqv (True Imp False)"), "True");
}

#[test]
fn parentheses_are_kept() {
    assert_eq!(eval("(1 + 2) * 3"), "9");
    assert_eq!(eval("\"n=\" & (1 + 2) * 3"), "n=9");
    assert_eq!(eval("Not (False And False)"), "True");
}
