//! From source text to the interpreter's tree ([`crate::ir`]).
//!
//! The `vbscript` crate parses the source. Its tree groups operators by a precedence table
//! that is not VBScript's (`&` sits with `+` and `-`, `Not` binds looser than `And`, the
//! comparisons have two levels, `^` groups to the right), so every chain of operators is
//! taken apart in source order and grouped again here by VBScript's table. Parentheses
//! are kept as written, which is what makes this possible: the tree keeps the operands and
//! operators in their order and only their grouping is wrong.

use crate::builtins::{self, Builtin};
use crate::error::ScriptError;
use crate::ir::*;
use crate::limits::Limits;
use crate::value::Value;
use crate::{dates, value};
use std::collections::HashMap;
use std::sync::Arc;
use vbscript::T;
use vbscript::lexer::{Lexer, LineIndex, TokenKind};
use vbscript::parser::Parser;
use vbscript::parser::ast::{self as ast, ItemKind, Lit};

/// Strips a UTF-8 byte order mark, which the parser refuses.
fn strip_bom(source: &str) -> &str {
    source.strip_prefix('\u{feff}').unwrap_or(source)
}

/// Refuses sources whose parse tree could be deep enough to be a risk: the parser limits
/// nesting by itself, but builds long operator and member chains in a loop, which become
/// as deep as they are long, and such a tree is dropped recursively.
fn precheck(source: &str, limits: &Limits) -> Result<(), ScriptError> {
    if source.len() > limits.max_source_bytes {
        return Err(ScriptError::compile(format!("The script is larger than {} bytes", limits.max_source_bytes), 0));
    }
    let mut count = 0usize;
    for token in Lexer::new(source) {
        match token.kind {
            T![nl] | T![:] => count = 0,
            TokenKind::Whitespace | TokenKind::Comment | TokenKind::LineContinuation => {}
            _ => {
                count += 1;
                if count > limits.max_tokens_per_statement {
                    return Err(ScriptError::compile(
                        format!("Statement longer than {} tokens is not supported", limits.max_tokens_per_statement),
                        u32::try_from(token.line).unwrap_or(0),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Parses and compiles a whole script.
pub fn compile_module(source: &str, limits: &Limits) -> Result<Module, ScriptError> {
    let source = strip_bom(source);
    precheck(source, limits)?;
    // the parser needs about 12 KiB of stack per nesting level (up to 128), in a debug build
    stacker::maybe_grow(PARSER_STACK / 2, PARSER_STACK, || compile_parsed(source, limits))
}

/// Stack the parser may need at its nesting limit, with a margin.
const PARSER_STACK: usize = 8 * 1024 * 1024;

fn compile_parsed(source: &str, limits: &Limits) -> Result<Module, ScriptError> {
    let items = Parser::new(source).file().map_err(|e| {
        ScriptError::compile(format!("Syntax error: {}", e.message()), u32::try_from(e.line()).unwrap_or(0))
    })?;
    let mut compiler = Compiler::new(source, limits);
    let mut body = Vec::new();
    let mut option_explicit = false;
    for item in &items {
        let line = compiler.line(item.span.start);
        match &item.node {
            ItemKind::OptionExplicit => option_explicit = true,
            ItemKind::Class { name, .. } => {
                return Err(ScriptError::compile(format!("Classes are not supported: '{}'", name.node), line));
            }
            ItemKind::Const { values, .. } => body.push(compiler.consts(values, line)?),
            ItemKind::Variable { vars, .. } => body.push(compiler.dim(vars, line)),
            ItemKind::Statement(stmt) => body.push(compiler.stmt(stmt)?),
        }
    }
    Ok(Module { option_explicit, procedures: compiler.procedures, body })
}

/// Parses and compiles one expression, for `Eval`.
pub fn compile_expression(source: &str, limits: &Limits) -> Result<Expr, ScriptError> {
    precheck(source, limits)?;
    stacker::maybe_grow(PARSER_STACK / 2, PARSER_STACK, || compile_expression_parsed(source, limits))
}

fn compile_expression_parsed(source: &str, limits: &Limits) -> Result<Expr, ScriptError> {
    let mut parser = Parser::new(source);
    let expr = parser.expression().map_err(|e| ScriptError::compile(format!("Syntax error: {}", e.message()), 0))?;
    let mut compiler = Compiler::new(source, limits);
    compiler.expr(&expr)
}

struct Compiler<'s> {
    index: LineIndex<'s>,
    limits: &'s Limits,
    procedures: Vec<Arc<Procedure>>,
    /// The variables of the procedure being compiled, `None` at module level.
    locals: Option<HashMap<Arc<str>, u16>>,
    /// The lower-case name of the procedure being compiled.
    current: Option<Arc<str>>,
    _source: &'s str,
}

/// One element of an operator chain in source order.
enum Part<'a> {
    Operand(&'a ast::Expr),
    Prefix(TokenKind),
    Infix(TokenKind),
}

/// An operator waiting on the stack of the regrouping.
enum Pending {
    Prefix(UnOp, u8),
    Infix(BinOp, u8),
}

/// VBScript's precedence, higher binds tighter. All binary operators group to the left.
fn binary(op: TokenKind) -> Option<(BinOp, u8)> {
    Some(match op {
        T![^] => (BinOp::Pow, 14),
        T![*] => (BinOp::Mul, 12),
        T![/] => (BinOp::Div, 12),
        T!['\\'] => (BinOp::IntDiv, 11),
        T![mod] => (BinOp::Mod, 10),
        T![+] => (BinOp::Add, 9),
        T![-] => (BinOp::Sub, 9),
        T![&] => (BinOp::Concat, 8),
        T![=] => (BinOp::Eq, 7),
        T![<>] => (BinOp::Ne, 7),
        T![<] => (BinOp::Lt, 7),
        T![<=] => (BinOp::Le, 7),
        T![>] => (BinOp::Gt, 7),
        T![>=] => (BinOp::Ge, 7),
        T![is] => (BinOp::Is, 7),
        T![and] => (BinOp::And, 5),
        T![or] => (BinOp::Or, 4),
        T![xor] => (BinOp::Xor, 3),
        T![eqv] => (BinOp::Eqv, 2),
        T![imp] => (BinOp::Imp, 1),
        _ => return None,
    })
}

fn unary(op: TokenKind) -> Option<(UnOp, u8)> {
    Some(match op {
        T![-] => (UnOp::Neg, 13),
        T![+] => (UnOp::Plus, 13),
        T![not] => (UnOp::Not, 6),
        _ => return None,
    })
}

impl<'s> Compiler<'s> {
    fn new(source: &'s str, limits: &'s Limits) -> Self {
        Compiler {
            index: LineIndex::new(source),
            limits,
            procedures: Vec::new(),
            locals: None,
            current: None,
            _source: source,
        }
    }

    fn line(&self, offset: u32) -> u32 {
        u32::try_from(self.index.line_column(offset).0).unwrap_or(0)
    }

    fn resolve(&self, name: &str) -> VarRef {
        let ident = Ident::new(name);
        if let Some(locals) = &self.locals
            && let Some(slot) = locals.get(&ident.lower)
        {
            return VarRef::Local(*slot, ident);
        }
        let builtin = Builtin::from_name(&ident.lower);
        VarRef::Free(ident, builtin)
    }

    /// Declares a local of the procedure being compiled; at module level the name stays free.
    fn declare(&mut self, name: &str) -> VarRef {
        let ident = Ident::new(name);
        if let Some(locals) = &mut self.locals {
            let next = u16::try_from(locals.len()).unwrap_or(u16::MAX);
            let slot = *locals.entry(ident.lower.clone()).or_insert(next);
            return VarRef::Local(slot, ident);
        }
        VarRef::Free(ident, None)
    }

    fn consts(&mut self, values: &[(ast::Name, Lit)], line: u32) -> Result<Stmt, ScriptError> {
        let names = values.iter().map(|(name, _)| (self.declare(&name.node), None)).collect();
        let mut body = vec![Stmt { line, kind: StmtKind::Dim(names) }];
        for (name, lit) in values {
            let target = Expr::Var(self.declare(&name.node));
            let value = Expr::Const(literal(lit).map_err(|e| e.at_line(line))?);
            body.push(Stmt { line, kind: StmtKind::Assign { target, value, set: false } });
        }
        Ok(Stmt {
            line,
            kind: StmtKind::If { branches: vec![(Expr::Const(Value::Bool(true)), body)], else_body: Vec::new() },
        })
    }

    fn dim(&mut self, vars: &[ast::VarDecl], line: u32) -> Stmt {
        let vars = vars.iter().map(|v| (self.declare(&v.name.node), v.bounds.clone())).collect();
        Stmt { line, kind: StmtKind::Dim(vars) }
    }

    fn block(&mut self, stmts: &[ast::Stmt]) -> Result<Vec<Stmt>, ScriptError> {
        stmts.iter().map(|s| self.stmt(s)).collect()
    }

    fn args(&mut self, args: &[Option<ast::Expr>]) -> Result<Vec<Expr>, ScriptError> {
        args.iter()
            .map(|a| match a {
                // `Foo (x)` passes x by value: the parentheses make it an expression
                Some(e) if matches!(e.node, ast::ExprKind::Paren(_)) => {
                    Ok(Expr::Unary(UnOp::Plus, Box::new(self.expr(e)?)))
                }
                Some(e) => self.expr(e),
                None => Ok(Expr::Missing),
            })
            .collect()
    }

    fn stmt(&mut self, stmt: &ast::Stmt) -> Result<Stmt, ScriptError> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.stmt_inner(stmt))
    }

    fn stmt_inner(&mut self, stmt: &ast::Stmt) -> Result<Stmt, ScriptError> {
        use ast::StmtKind as S;
        let line = self.line(stmt.span.start);
        let err_line = |e: ScriptError| e.at_line(line);
        let kind = match &stmt.node {
            S::Dim { vars } => return Ok(self.dim(vars, line)),
            S::ReDim { preserve, vars } => {
                let mut out = Vec::new();
                for var in vars {
                    let target = match self.resolve(&var.name.node) {
                        VarRef::Free(..) => self.declare(&var.name.node),
                        local => local,
                    };
                    let bounds = var.bounds.iter().map(|b| self.expr(b)).collect::<Result<_, _>>().map_err(err_line)?;
                    out.push((target, bounds));
                }
                StmtKind::ReDim { preserve: *preserve, vars: out }
            }
            S::Const(values) => return self.consts(values, line),
            S::Set { var, rhs } => {
                let target = self.expr(&var.0).map_err(err_line)?;
                let value = match rhs {
                    ast::SetRhs::Expr(e) => self.expr(e).map_err(err_line)?,
                    ast::SetRhs::Nothing => Expr::Const(Value::Nothing),
                };
                StmtKind::Assign { target, value, set: true }
            }
            S::Assignment { full_ident, value } => {
                let target = self.expr(&full_ident.0).map_err(err_line)?;
                let value = self.expr(value).map_err(err_line)?;
                StmtKind::Assign { target, value, set: false }
            }
            S::IfStmt { condition, body, elseif_statements, else_stmt } => {
                let mut branches = vec![(self.expr(condition).map_err(err_line)?, self.block(body)?)];
                for (cond, body) in elseif_statements {
                    branches.push((self.expr(cond).map_err(err_line)?, self.block(body)?));
                }
                let else_body = match else_stmt {
                    Some(b) => self.block(b)?,
                    None => Vec::new(),
                };
                StmtKind::If { branches, else_body }
            }
            S::WhileStmt { condition, body } => StmtKind::Do {
                pre: Some((false, self.expr(condition).map_err(err_line)?)),
                post: None,
                body: self.block(body)?,
            },
            S::ForStmt { counter, start, end, step, body } => StmtKind::For {
                var: self.resolve(&counter.node),
                start: self.expr(start).map_err(err_line)?,
                end: self.expr(end).map_err(err_line)?,
                step: match step {
                    Some(s) => Some(self.expr(s).map_err(err_line)?),
                    None => None,
                },
                body: self.block(body)?,
            },
            S::ForEachStmt { element, group, body } => StmtKind::ForEach {
                var: self.resolve(&element.node),
                group: self.expr(group).map_err(err_line)?,
                body: self.block(body)?,
            },
            S::DoLoop { check, body } => {
                let cond = |c: &ast::DoLoopCondition, me: &mut Self| -> Result<(bool, Expr), ScriptError> {
                    match c {
                        ast::DoLoopCondition::While(e) => Ok((false, me.expr(e)?)),
                        ast::DoLoopCondition::Until(e) => Ok((true, me.expr(e)?)),
                    }
                };
                let (pre, post) = match check {
                    ast::DoLoopCheck::Pre(c) => (Some(cond(c, self).map_err(err_line)?), None),
                    ast::DoLoopCheck::Post(c) => (None, Some(cond(c, self).map_err(err_line)?)),
                    ast::DoLoopCheck::None => (None, None),
                };
                StmtKind::Do { pre, post, body: self.block(body)? }
            }
            S::SelectCase { test_expr, cases, else_stmt } => {
                let test = self.expr(test_expr).map_err(err_line)?;
                let mut out = Vec::new();
                for case in cases {
                    let tests =
                        case.node.tests.iter().map(|t| self.expr(t)).collect::<Result<_, _>>().map_err(err_line)?;
                    out.push((tests, self.block(&case.node.body)?));
                }
                let else_body = match else_stmt {
                    Some(b) => self.block(b)?,
                    None => Vec::new(),
                };
                StmtKind::Select { test, cases: out, else_body }
            }
            S::SubCall { fn_name, args } => {
                let callee = self.expr(&fn_name.0).map_err(err_line)?;
                let args = self.args(args).map_err(err_line)?;
                StmtKind::Call { callee, args }
            }
            S::Call(full_ident) => {
                // `Call Foo(a, b)`: the parentheses are the argument list
                match self.expr(&full_ident.0).map_err(err_line)? {
                    Expr::Call(name, args) => StmtKind::Call { callee: Expr::Var(name), args },
                    Expr::MemberCall(base, name, args) => StmtKind::Call { callee: Expr::Member(base, name), args },
                    other => StmtKind::Call { callee: other, args: Vec::new() },
                }
            }
            S::With { object, body } => {
                StmtKind::With { object: self.expr(&object.0).map_err(err_line)?, body: self.block(body)? }
            }
            S::Sub { name, parameters, body, .. } => {
                self.procedure(name, parameters, body, false, line)?;
                StmtKind::Nop
            }
            S::Function { name, parameters, body, .. } => {
                self.procedure(name, parameters, body, true, line)?;
                StmtKind::Nop
            }
            S::Stop => StmtKind::Nop,
            S::ExitDo => StmtKind::Exit(Exit::Do),
            S::ExitFor => StmtKind::Exit(Exit::For),
            S::ExitFunction | S::ExitSub | S::ExitProperty => StmtKind::Exit(Exit::Procedure),
            S::OnError { error_clause } => {
                StmtKind::OnError { resume_next: matches!(error_clause, ast::ErrorClause::ResumeNext) }
            }
        };
        Ok(Stmt { line, kind })
    }

    fn procedure(
        &mut self,
        name: &ast::Name,
        parameters: &[ast::Argument],
        body: &[ast::Stmt],
        is_function: bool,
        line: u32,
    ) -> Result<(), ScriptError> {
        if self.locals.is_some() {
            return Err(ScriptError::compile("A procedure can not be declared inside a procedure", line));
        }
        self.locals = Some(HashMap::new());
        self.current = Some(Ident::new(&name.node).lower);
        // slot 0 is the return value of a function (and unused for a sub)
        self.declare(&name.node);
        let mut params = Vec::new();
        for parameter in parameters {
            let by_ref = matches!(parameter, ast::Argument::ByRef(_));
            if let VarRef::Local(slot, _) = self.declare(&parameter.name().node) {
                params.push((by_ref, slot));
            }
        }
        let body = self.block(body);
        let locals = self.locals.take().unwrap_or_default();
        self.current = None;
        let procedure =
            Procedure { name: Ident::new(&name.node), is_function, params, local_count: locals.len(), body: body? };
        self.procedures.push(Arc::new(procedure));
        Ok(())
    }

    /// Compiles an expression. Recursion here follows parentheses, arguments and member
    /// chains, all bounded by the parser's nesting limit and the token limit per statement;
    /// operator chains are regrouped with explicit stacks.
    fn expr(&mut self, expr: &ast::Expr) -> Result<Expr, ScriptError> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(expr))
    }

    fn expr_inner(&mut self, expr: &ast::Expr) -> Result<Expr, ScriptError> {
        use ast::ExprKind as E;
        Ok(match &expr.node {
            E::Literal(lit) => Expr::Const(literal(lit)?),
            E::Ident(name) => self.name_expr(&name.node),
            E::PrefixOp { .. } | E::InfixOp { .. } => self.operators(expr)?,
            E::Paren(inner) => self.expr(inner)?,
            E::New(name) => Expr::New(Ident::new(&name.node)),
            E::WithScoped => Expr::WithObject,
            E::FnApplication { callee, args } => {
                let args = self.args(args)?;
                match &callee.node {
                    E::Ident(name) => {
                        // inside a function its name with arguments is a recursive call,
                        // not its return value
                        let var = match (self.resolve(&name.node), &self.current) {
                            (VarRef::Local(0, ident), Some(current)) if ident.lower == *current => {
                                let builtin = Builtin::from_name(&ident.lower);
                                VarRef::Free(ident, builtin)
                            }
                            (var, _) => var,
                        };
                        Expr::Call(var, args)
                    }
                    E::MemberExpression { base, property } => {
                        Expr::MemberCall(Box::new(self.expr(base)?), Ident::new(&property.node), args)
                    }
                    _ => Expr::Apply(Box::new(self.expr(callee)?), args),
                }
            }
            E::MemberExpression { base, property } => {
                Expr::Member(Box::new(self.expr(base)?), Ident::new(&property.node))
            }
        })
    }

    fn name_expr(&self, name: &str) -> Expr {
        let var = self.resolve(name);
        if let VarRef::Free(ident, _) = &var
            && let Some(value) = builtins::constant(&ident.lower)
        {
            return Expr::Const(value);
        }
        Expr::Var(var)
    }

    /// Takes an operator chain apart in source order and groups it by VBScript's precedence.
    fn operators(&mut self, root: &ast::Expr) -> Result<Expr, ScriptError> {
        use ast::ExprKind as E;
        // in-order walk with an explicit stack: operands and operators in source order
        let mut parts = Vec::new();
        let mut work: Vec<Result<&ast::Expr, TokenKind>> = vec![Ok(root)];
        while let Some(item) = work.pop() {
            match item {
                Err(op) => parts.push(Part::Infix(op)),
                Ok(node) => match &node.node {
                    E::InfixOp { op, lhs, rhs } => {
                        work.push(Ok(rhs));
                        work.push(Err(*op));
                        work.push(Ok(lhs));
                    }
                    E::PrefixOp { op, expr } => {
                        parts.push(Part::Prefix(*op));
                        work.push(Ok(expr));
                    }
                    _ => parts.push(Part::Operand(node)),
                },
            }
        }
        let mut operands: Vec<(Expr, usize)> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let max_depth = self.limits.max_expression_depth;
        let reduce = |operands: &mut Vec<(Expr, usize)>, op: Pending| -> Result<(), ScriptError> {
            let (expr, depth) = match op {
                Pending::Prefix(op, _) => {
                    let (e, d) = operands.pop().ok_or_else(|| ScriptError::compile("Expected expression", 0))?;
                    (Expr::Unary(op, Box::new(e)), d + 1)
                }
                Pending::Infix(op, _) => {
                    let (r, rd) = operands.pop().ok_or_else(|| ScriptError::compile("Expected expression", 0))?;
                    let (l, ld) = operands.pop().ok_or_else(|| ScriptError::compile("Expected expression", 0))?;
                    (Expr::Binary(op, Box::new(l), Box::new(r)), ld.max(rd) + 1)
                }
            };
            if depth > max_depth {
                return Err(ScriptError::compile(
                    format!("Expression nested deeper than {max_depth} levels is not supported"),
                    0,
                ));
            }
            operands.push((expr, depth));
            Ok(())
        };
        for part in parts {
            match part {
                Part::Operand(node) => {
                    let expr = self.expr(node)?;
                    operands.push((expr, 1));
                }
                Part::Prefix(op) => {
                    let (op, prec) =
                        unary(op).ok_or_else(|| ScriptError::compile(format!("Unknown operator {op}"), 0))?;
                    pending.push(Pending::Prefix(op, prec));
                }
                Part::Infix(op) => {
                    let (op, prec) =
                        binary(op).ok_or_else(|| ScriptError::compile(format!("Unknown operator {op}"), 0))?;
                    while let Some(top) = pending.last() {
                        let top_prec = match top {
                            Pending::Prefix(_, p) | Pending::Infix(_, p) => *p,
                        };
                        if top_prec < prec {
                            break;
                        }
                        if let Some(top) = pending.pop() {
                            reduce(&mut operands, top)?;
                        }
                    }
                    pending.push(Pending::Infix(op, prec));
                }
            }
        }
        while let Some(top) = pending.pop() {
            reduce(&mut operands, top)?;
        }
        match (operands.pop(), operands.is_empty()) {
            (Some((expr, _)), true) => Ok(expr),
            _ => Err(ScriptError::compile("Malformed expression", 0)),
        }
    }
}

/// The value of a literal.
fn literal(lit: &Lit) -> Result<Value, ScriptError> {
    Ok(match lit {
        Lit::Int(text) => match text.parse::<i64>() {
            Ok(i) => value::Num::fit(i, value::Num::Integer(0)),
            Err(_) => Value::Double(
                value::parse_number(text).ok_or_else(|| ScriptError::compile(format!("Invalid number {text}"), 0))?,
            ),
        },
        Lit::Float(f) => Value::Double(*f),
        Lit::Str(s) => Value::from(s.as_str()),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::DateTime(text) => {
            Value::Date(dates::parse(text).ok_or_else(|| ScriptError::compile(format!("Invalid date #{text}#"), 0))?)
        }
        Lit::Nothing => Value::Nothing,
        Lit::Empty => Value::Empty,
        Lit::Null => Value::Null,
    })
}
