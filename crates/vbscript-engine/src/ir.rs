//! The tree the interpreter runs: the parser's tree with VBScript's operator precedence,
//! names in lower case, procedure variables resolved to slots and constants folded in.

use crate::builtins::Builtin;
use crate::value::Value;
use std::sync::Arc;

/// A name: lower case for look-ups, as written for messages.
#[derive(Clone, Debug)]
pub struct Ident {
    pub lower: Arc<str>,
    pub written: Arc<str>,
}

impl Ident {
    pub fn new(written: &str) -> Ident {
        Ident { lower: Arc::from(written.to_ascii_lowercase()), written: Arc::from(written) }
    }
}

/// Where a name is found.
#[derive(Clone, Debug)]
pub enum VarRef {
    /// A parameter, `Dim` or `Const` of the procedure (or its return value), by slot.
    Local(u16, Ident),
    /// Anything else: a global variable, a procedure, a built-in function, or (in a
    /// procedure without `Option Explicit`) an implicitly declared local.
    Free(Ident, Option<Builtin>),
}

impl VarRef {
    pub fn ident(&self) -> &Ident {
        match self {
            VarRef::Local(_, ident) | VarRef::Free(ident, _) => ident,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Pow,
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Is,
    And,
    Or,
    Xor,
    Eqv,
    Imp,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Const(Value),
    Var(VarRef),
    /// `name(args)`: an array element, a call, or the default member of an object.
    Call(VarRef, Vec<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `base.name`
    Member(Box<Expr>, Ident),
    /// `base.name(args)`
    MemberCall(Box<Expr>, Ident, Vec<Expr>),
    /// `(expr)(args)` and `a(1)(2)`: indexing or the default member of a computed value.
    Apply(Box<Expr>, Vec<Expr>),
    /// `New Name`
    New(Ident),
    /// The object of the innermost `With`.
    WithObject,
    /// An empty argument: `Foo 1, , 3`.
    Missing,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub line: u32,
    pub kind: StmtKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    For,
    Do,
    Procedure,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Assign { target: Expr, value: Expr, set: bool },
    Call { callee: Expr, args: Vec<Expr> },
    If { branches: Vec<(Expr, Vec<Stmt>)>, else_body: Vec<Stmt> },
    For { var: VarRef, start: Expr, end: Expr, step: Option<Expr>, body: Vec<Stmt> },
    ForEach { var: VarRef, group: Expr, body: Vec<Stmt> },
    Do { pre: Option<(bool, Expr)>, post: Option<(bool, Expr)>, body: Vec<Stmt> },
    Select { test: Expr, cases: Vec<(Vec<Expr>, Vec<Stmt>)>, else_body: Vec<Stmt> },
    With { object: Expr, body: Vec<Stmt> },
    Dim(Vec<(VarRef, Option<Vec<usize>>)>),
    ReDim { preserve: bool, vars: Vec<(VarRef, Vec<Expr>)> },
    Exit(Exit),
    OnError { resume_next: bool },
    Nop,
}

#[derive(Debug)]
pub struct Procedure {
    pub name: Ident,
    pub is_function: bool,
    /// Each parameter: passed by reference, and its slot.
    pub params: Vec<(bool, u16)>,
    pub local_count: usize,
    pub body: Vec<Stmt>,
}

/// A compiled script: its procedures and its module-level code.
#[derive(Debug)]
pub struct Module {
    pub option_explicit: bool,
    pub procedures: Vec<Arc<Procedure>>,
    pub body: Vec<Stmt>,
}
