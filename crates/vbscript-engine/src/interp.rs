//! The interpreter: runs the compiled tree of a script against its globals.

use crate::builtins::Builtin;
use crate::compile;
use crate::error::{ErrorKind, HostError, ScriptError};
use crate::host::{HostObject, ObjectFactory};
use crate::ir::*;
use crate::limits::Limits;
use crate::objects::{Dictionary, ErrObject, RegExp};
use crate::ops;
use crate::value::{Array, Num, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// A compiled script. Compile once, then make an [`Engine`] (or several) from it.
#[derive(Clone, Debug)]
pub struct Script {
    module: Arc<Module>,
}

impl Script {
    /// Parses and compiles a script with the default limits.
    pub fn compile(source: &str) -> Result<Script, ScriptError> {
        Self::compile_with(source, &Limits::default())
    }

    pub fn compile_with(source: &str, limits: &Limits) -> Result<Script, ScriptError> {
        Ok(Script { module: Arc::new(compile::compile_module(source, limits)?) })
    }
}

/// How a block of statements ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flow {
    Normal,
    Exit(Exit),
}

/// The state of one procedure call (or of module-level code, which has no locals).
pub(crate) struct Frame {
    locals: Vec<Value>,
    /// Names a procedure assigned without declaring them (without `Option Explicit`).
    implicit: HashMap<Arc<str>, Value>,
    in_procedure: bool,
    resume_next: bool,
    with_objects: Vec<Value>,
}

impl Frame {
    fn module() -> Frame {
        Frame {
            locals: Vec::new(),
            implicit: HashMap::new(),
            in_procedure: false,
            resume_next: false,
            with_objects: Vec::new(),
        }
    }
}

/// A script instance: its globals and procedures, the host's objects, and the budgets.
///
/// Make one per script, run its module-level code once with [`Engine::run_main`], then call
/// its event handlers with [`Engine::call`] as often as needed. Globals keep their values
/// between calls, as in hMailServer.
pub struct Engine {
    procedures: HashMap<Arc<str>, Arc<Procedure>>,
    globals: HashMap<Arc<str>, Value>,
    factories: HashMap<String, ObjectFactory>,
    option_explicit: bool,
    module: Arc<Module>,
    pub(crate) limits: Limits,
    pub(crate) err: Arc<ErrObject>,
    steps: u64,
    started: Instant,
    allocated: usize,
    depth: usize,
}

impl Engine {
    pub fn new(script: &Script) -> Engine {
        Self::with_limits(script, Limits::default())
    }

    pub fn with_limits(script: &Script, limits: Limits) -> Engine {
        let err = Arc::new(ErrObject::default());
        let mut engine = Engine {
            procedures: HashMap::new(),
            globals: HashMap::new(),
            factories: HashMap::new(),
            option_explicit: script.module.option_explicit,
            module: script.module.clone(),
            limits,
            err: err.clone(),
            steps: 0,
            started: Instant::now(),
            allocated: 0,
            depth: 0,
        };
        for procedure in &script.module.procedures {
            engine.procedures.insert(procedure.name.lower.clone(), procedure.clone());
        }
        engine.globals.insert(Arc::from("err"), Value::Object(err));
        engine.register_factory("Scripting.Dictionary", Arc::new(|| Ok(Arc::new(Dictionary::default()))));
        engine.register_factory("VBScript.RegExp", Arc::new(|| Ok(Arc::new(RegExp::default()))));
        engine
    }

    /// Sets a global variable, typically a host object (`Result`, `EventLog`, ...).
    pub fn set_global(&mut self, name: &str, value: Value) {
        self.globals.insert(Arc::from(name.to_ascii_lowercase()), value);
    }

    pub fn global(&self, name: &str) -> Option<&Value> {
        self.globals.get(name.to_ascii_lowercase().as_str())
    }

    /// Registers what `CreateObject(prog_id)` makes (the name is case-insensitive).
    pub fn register_factory(&mut self, prog_id: &str, factory: ObjectFactory) {
        self.factories.insert(prog_id.to_ascii_lowercase(), factory);
    }

    /// Whether the script has a Sub or Function of that name (case-insensitive).
    pub fn has_procedure(&self, name: &str) -> bool {
        self.procedures.contains_key(name.to_ascii_lowercase().as_str())
    }

    /// Runs the module-level code of the script (declarations and statements outside procedures).
    pub fn run_main(&mut self) -> Result<(), ScriptError> {
        self.reset_budget();
        let module = self.module.clone();
        let mut frame = Frame::module();
        self.exec_block(&module.body, &mut frame).map(|_| ())
    }

    /// Calls a Sub or Function of the script with arguments, returns what a Function returns
    /// (Empty for a Sub). The budgets of [`Limits`] start anew for each call.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Value, ScriptError> {
        let procedure = self
            .procedures
            .get(name.to_ascii_lowercase().as_str())
            .cloned()
            .ok_or_else(|| ScriptError::runtime(35, format!("Sub or Function not defined: '{name}'")))?;
        self.reset_budget();
        self.call_procedure(&procedure, args.to_vec(), &mut Vec::new())
    }

    fn reset_budget(&mut self) {
        self.steps = 0;
        self.started = Instant::now();
        self.allocated = 0;
        self.depth = 0;
    }

    /// Counts one step of the budget.
    fn step(&mut self) -> Result<(), ScriptError> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(ScriptError::limit(format!("The script ran more than {} steps", self.limits.max_steps)));
        }
        // the clock is read every 64 steps: cheap, and one step is bounded by the size limits
        if self.steps.is_multiple_of(64) && self.started.elapsed() > self.limits.max_duration {
            return Err(ScriptError::limit(format!("The script ran longer than {:?}", self.limits.max_duration)));
        }
        Ok(())
    }

    /// Counts bytes of a string or array the script makes.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), ScriptError> {
        if bytes > self.limits.max_string_bytes {
            return Err(ScriptError::limit(format!("String longer than {} bytes", self.limits.max_string_bytes)));
        }
        self.allocated = self.allocated.saturating_add(bytes);
        if self.allocated > self.limits.max_allocated_bytes {
            return Err(ScriptError::limit(format!(
                "The script made more than {} bytes of data",
                self.limits.max_allocated_bytes
            )));
        }
        Ok(())
    }

    pub(crate) fn charge_array(&mut self, elements: usize) -> Result<(), ScriptError> {
        if elements > self.limits.max_array_elements {
            return Err(ScriptError::limit(format!("Array larger than {} elements", self.limits.max_array_elements)));
        }
        self.charge_bytes_only(elements.saturating_mul(std::mem::size_of::<Value>()))
    }

    fn charge_bytes_only(&mut self, bytes: usize) -> Result<(), ScriptError> {
        self.allocated = self.allocated.saturating_add(bytes);
        if self.allocated > self.limits.max_allocated_bytes {
            return Err(ScriptError::limit(format!(
                "The script made more than {} bytes of data",
                self.limits.max_allocated_bytes
            )));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), ScriptError> {
        if self.depth >= self.limits.max_call_depth {
            return Err(ScriptError::limit(format!(
                "Out of stack space: calls nested deeper than {}",
                self.limits.max_call_depth
            )));
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn call_procedure(
        &mut self,
        procedure: &Arc<Procedure>,
        args: Vec<Value>,
        by_ref_out: &mut Vec<Value>,
    ) -> Result<Value, ScriptError> {
        if args.len() != procedure.params.len() {
            return Err(ScriptError::wrong_arguments(&procedure.name.written));
        }
        self.enter()?;
        let mut frame = Frame {
            locals: vec![Value::Empty; procedure.local_count.max(1)],
            implicit: HashMap::new(),
            in_procedure: true,
            resume_next: false,
            with_objects: Vec::new(),
        };
        for ((_, slot), value) in procedure.params.iter().zip(args) {
            if let Some(local) = frame.locals.get_mut(usize::from(*slot)) {
                *local = value;
            }
        }
        let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.exec_block(&procedure.body, &mut frame));
        self.depth -= 1;
        result?;
        by_ref_out.clear();
        for (_, slot) in &procedure.params {
            by_ref_out.push(std::mem::take(&mut frame.locals[usize::from(*slot)]));
        }
        if procedure.is_function { Ok(std::mem::take(&mut frame.locals[0])) } else { Ok(Value::Empty) }
    }

    fn exec_block(&mut self, stmts: &[Stmt], frame: &mut Frame) -> Result<Flow, ScriptError> {
        for stmt in stmts {
            match self.exec(stmt, frame) {
                Ok(Flow::Normal) => {}
                Ok(flow) => return Ok(flow),
                Err(e) if frame.resume_next && e.is_catchable() => self.err.set(&e.at_line(stmt.line)),
                Err(e) => return Err(e.at_line(stmt.line)),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, stmt: &Stmt, frame: &mut Frame) -> Result<Flow, ScriptError> {
        self.step()?;
        match &stmt.kind {
            StmtKind::Assign { target, value, set } => {
                let value = self.eval(value, frame)?;
                if *set && !value.is_object() {
                    return Err(ScriptError::object_required("Set"));
                }
                self.assign(target, value, frame)?;
            }
            StmtKind::Call { callee, args } => {
                self.call_statement(callee, args, frame)?;
            }
            StmtKind::If { branches, else_body } => {
                for (condition, body) in branches {
                    if self.eval(condition, frame)?.is_true()? {
                        return self.exec_nested(body, frame);
                    }
                }
                return self.exec_nested(else_body, frame);
            }
            StmtKind::For { var, start, end, step, body } => {
                return self.exec_for(var, start, end, step.as_ref(), body, frame);
            }
            StmtKind::ForEach { var, group, body } => {
                let group = self.eval(group, frame)?;
                let items: Vec<Value> = match &group {
                    Value::Array(a) => a.items.clone(),
                    Value::Object(o) => o.enumerate()?,
                    _ => return Err(ScriptError::runtime(451, "Object not a collection")),
                };
                for item in items {
                    self.step()?;
                    self.store(var, item, frame)?;
                    match self.exec_nested(body, frame)? {
                        Flow::Exit(Exit::For) => break,
                        Flow::Exit(Exit::Procedure) => return Ok(Flow::Exit(Exit::Procedure)),
                        _ => {}
                    }
                }
            }
            StmtKind::Do { pre, post, body } => loop {
                self.step()?;
                if let Some((until, condition)) = pre
                    && self.eval(condition, frame)?.is_true()? == *until
                {
                    break;
                }
                match self.exec_nested(body, frame)? {
                    Flow::Exit(Exit::Do) => break,
                    Flow::Exit(Exit::Procedure) => return Ok(Flow::Exit(Exit::Procedure)),
                    Flow::Exit(Exit::For) => return Ok(Flow::Exit(Exit::For)),
                    Flow::Normal => {}
                }
                if let Some((until, condition)) = post
                    && self.eval(condition, frame)?.is_true()? == *until
                {
                    break;
                }
            },
            StmtKind::Select { test, cases, else_body } => {
                let test = self.eval(test, frame)?;
                for (tests, body) in cases {
                    for candidate in tests {
                        let candidate = self.eval(candidate, frame)?;
                        if ops::compare_eq(&test, &candidate)? {
                            return self.exec_nested(body, frame);
                        }
                    }
                }
                return self.exec_nested(else_body, frame);
            }
            StmtKind::With { object, body } => {
                let object = self.eval(object, frame)?;
                frame.with_objects.push(object);
                let result = self.exec_nested(body, frame);
                frame.with_objects.pop();
                return result;
            }
            StmtKind::Dim(vars) => {
                for (var, bounds) in vars {
                    let value = match bounds {
                        Some(bounds) if !bounds.is_empty() => self.new_array(bounds.clone())?,
                        Some(_) => Value::Array(Arc::new(Array::default())),
                        None => Value::Empty,
                    };
                    self.declare(var, value, frame);
                }
            }
            StmtKind::ReDim { preserve, vars } => {
                for (var, bounds) in vars {
                    let mut upper = Vec::new();
                    for bound in bounds {
                        let b = self.eval(bound, frame)?.to_i64()?;
                        upper.push(usize::try_from(b + 1).map_err(|_| ScriptError::subscript_out_of_range())?);
                    }
                    self.redim(var, upper, *preserve, frame)?;
                }
            }
            StmtKind::Exit(exit) => return Ok(Flow::Exit(*exit)),
            StmtKind::OnError { resume_next } => {
                frame.resume_next = *resume_next;
                self.err.clear();
            }
            StmtKind::Nop => {}
        }
        Ok(Flow::Normal)
    }

    fn exec_nested(&mut self, body: &[Stmt], frame: &mut Frame) -> Result<Flow, ScriptError> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.exec_block(body, frame))
    }

    fn exec_for(
        &mut self,
        var: &VarRef,
        start: &Expr,
        end: &Expr,
        step: Option<&Expr>,
        body: &[Stmt],
        frame: &mut Frame,
    ) -> Result<Flow, ScriptError> {
        let start = self.eval(start, frame)?;
        let end = self.eval(end, frame)?.to_num()?;
        let step = match step {
            Some(s) => self.eval(s, frame)?.to_num()?,
            None => Num::Integer(1),
        };
        let kind = match (start.to_num()?, end, step) {
            (Num::Double(_), _, _) | (_, Num::Double(_), _) | (_, _, Num::Double(_)) => Num::Double(0.0),
            (Num::Long(_), _, _) | (_, Num::Long(_), _) | (_, _, Num::Long(_)) => Num::Long(0),
            _ => Num::Integer(0),
        };
        let (end, step_value) = (end.as_f64(), step.as_f64());
        let mut current = start.to_f64()?;
        loop {
            self.step()?;
            if (step_value >= 0.0 && current > end) || (step_value < 0.0 && current < end) {
                break;
            }
            let value = match kind {
                Num::Double(_) => Value::Double(current),
                _ => Num::fit(current as i64, kind),
            };
            self.store(var, value, frame)?;
            match self.exec_nested(body, frame)? {
                Flow::Exit(Exit::For) => break,
                Flow::Exit(Exit::Procedure) => return Ok(Flow::Exit(Exit::Procedure)),
                Flow::Exit(Exit::Do) => return Ok(Flow::Exit(Exit::Do)),
                Flow::Normal => {}
            }
            // the body may change the counter, the loop goes on from its value
            current = self.load(var, frame)?.to_f64()? + step_value;
        }
        Ok(Flow::Normal)
    }

    fn new_array(&mut self, bounds: Vec<usize>) -> Result<Value, ScriptError> {
        let mut count: usize = 1;
        for b in &bounds {
            let size = b.checked_add(1).ok_or_else(ScriptError::overflow)?;
            count = count.checked_mul(size).ok_or_else(ScriptError::overflow)?;
        }
        self.charge_array(count)?;
        Ok(Value::Array(Arc::new(Array { bounds, items: vec![Value::Empty; count] })))
    }

    fn redim(&mut self, var: &VarRef, sizes: Vec<usize>, preserve: bool, frame: &mut Frame) -> Result<(), ScriptError> {
        let mut count: usize = 1;
        for s in &sizes {
            count = count.checked_mul(*s).ok_or_else(ScriptError::overflow)?;
        }
        self.charge_array(count)?;
        let bounds: Vec<usize> = sizes.iter().map(|s| s.saturating_sub(1)).collect();
        let mut items = vec![Value::Empty; count];
        if preserve && let Value::Array(old) = self.load(var, frame)? {
            if old.bounds.len() != bounds.len() {
                return Err(ScriptError::subscript_out_of_range());
            }
            if bounds.len() == 1 {
                for (slot, value) in items.iter_mut().zip(old.items.iter()) {
                    *slot = value.clone();
                }
            } else {
                // only the last dimension may change with Preserve
                let old_last = old.bounds.last().copied().unwrap_or(0).saturating_add(1).max(1);
                let new_last = sizes.last().copied().unwrap_or(0);
                for (i, value) in old.items.iter().enumerate() {
                    let (row, col) = (i / old_last, i % old_last);
                    if col < new_last
                        && let Some(slot) = items.get_mut(row * new_last + col)
                    {
                        *slot = value.clone();
                    }
                }
            }
        }
        let array = if count == 0 {
            // `ReDim a(-1)`: an empty array whose UBound is -1
            Array { bounds: vec![usize::MAX; bounds.len()], items: Vec::new() }
        } else {
            Array { bounds, items }
        };
        self.declare(var, Value::Array(Arc::new(array)), frame);
        Ok(())
    }

    /// Creates or resets a declared variable.
    fn declare(&mut self, var: &VarRef, value: Value, frame: &mut Frame) {
        match var {
            VarRef::Local(slot, _) => {
                if let Some(local) = frame.locals.get_mut(usize::from(*slot)) {
                    *local = value;
                }
            }
            VarRef::Free(ident, _) => {
                if frame.in_procedure && !self.globals.contains_key(&ident.lower) {
                    frame.implicit.insert(ident.lower.clone(), value);
                } else {
                    self.globals.insert(ident.lower.clone(), value);
                }
            }
        }
    }

    /// Reads a variable (not a call).
    fn load(&mut self, var: &VarRef, frame: &mut Frame) -> Result<Value, ScriptError> {
        match var {
            VarRef::Local(slot, _) => Ok(frame.locals.get(usize::from(*slot)).cloned().unwrap_or_default()),
            VarRef::Free(ident, _) => {
                if let Some(v) = frame.implicit.get(&ident.lower) {
                    return Ok(v.clone());
                }
                if let Some(v) = self.globals.get(&ident.lower) {
                    return Ok(v.clone());
                }
                if self.option_explicit {
                    return Err(ScriptError::undefined_variable(&ident.written));
                }
                Ok(Value::Empty)
            }
        }
    }

    /// Writes a variable, declaring it implicitly where VBScript allows that.
    fn store(&mut self, var: &VarRef, value: Value, frame: &mut Frame) -> Result<(), ScriptError> {
        match var {
            VarRef::Local(slot, _) => {
                if let Some(local) = frame.locals.get_mut(usize::from(*slot)) {
                    *local = value;
                }
                Ok(())
            }
            VarRef::Free(ident, _) => {
                if let Some(v) = frame.implicit.get_mut(&ident.lower) {
                    *v = value;
                } else if let Some(v) = self.globals.get_mut(&ident.lower) {
                    *v = value;
                } else if self.option_explicit {
                    return Err(ScriptError::undefined_variable(&ident.written));
                } else if frame.in_procedure {
                    frame.implicit.insert(ident.lower.clone(), value);
                } else {
                    self.globals.insert(ident.lower.clone(), value);
                }
                Ok(())
            }
        }
    }

    /// A mutable reference to a variable that exists.
    fn slot_mut<'f>(&'f mut self, var: &VarRef, frame: &'f mut Frame) -> Option<&'f mut Value> {
        match var {
            VarRef::Local(slot, _) => frame.locals.get_mut(usize::from(*slot)),
            VarRef::Free(ident, _) => {
                if frame.implicit.contains_key(&ident.lower) {
                    return frame.implicit.get_mut(&ident.lower);
                }
                self.globals.get_mut(&ident.lower)
            }
        }
    }

    fn is_variable(&self, var: &VarRef, frame: &Frame) -> bool {
        match var {
            VarRef::Local(..) => true,
            VarRef::Free(ident, _) => {
                frame.implicit.contains_key(&ident.lower) || self.globals.contains_key(&ident.lower)
            }
        }
    }

    fn assign(&mut self, target: &Expr, value: Value, frame: &mut Frame) -> Result<(), ScriptError> {
        match target {
            Expr::Var(var) => self.store(var, value, frame),
            Expr::Call(var, args) => {
                let indexes = self.eval_args(args, frame)?;
                if !self.is_variable(var, frame) {
                    return Err(ScriptError::runtime(501, format!("Illegal assignment: '{}'", var.ident().written)));
                }
                let Some(slot) = self.slot_mut(var, frame) else {
                    return Err(ScriptError::subscript_out_of_range());
                };
                match slot {
                    Value::Array(array) => {
                        let indexes = indexes.iter().map(|i| i.to_i64()).collect::<Result<Vec<_>, _>>()?;
                        let offset = array.offset(&indexes).ok_or_else(ScriptError::subscript_out_of_range)?;
                        Arc::make_mut(array).items[offset] = value;
                        Ok(())
                    }
                    Value::Object(object) => {
                        let object = object.clone();
                        Ok(object.set_property("", &indexes, value)?)
                    }
                    _ => Err(ScriptError::type_mismatch(&var.ident().written)),
                }
            }
            Expr::Member(base, name) => {
                let object = self.eval_object(base, frame)?;
                Ok(object.set_property(&name.lower, &[], value)?)
            }
            Expr::MemberCall(base, name, args) => {
                let object = self.eval_object(base, frame)?;
                let args = self.eval_args(args, frame)?;
                Ok(object.set_property(&name.lower, &args, value)?)
            }
            Expr::Apply(base, args) => {
                let object = self.eval_object(base, frame)?;
                let args = self.eval_args(args, frame)?;
                Ok(object.set_property("", &args, value)?)
            }
            _ => Err(ScriptError::runtime(501, "Illegal assignment")),
        }
    }

    fn eval_object(&mut self, expr: &Expr, frame: &mut Frame) -> Result<Arc<dyn HostObject>, ScriptError> {
        match self.eval(expr, frame)? {
            Value::Object(o) => Ok(o),
            _ => Err(ScriptError::object_required(&describe(expr))),
        }
    }

    fn eval_args(&mut self, args: &[Expr], frame: &mut Frame) -> Result<Vec<Value>, ScriptError> {
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.eval(arg, frame)?);
        }
        Ok(values)
    }

    /// A statement call: `Foo a, b`, `obj.Method a`, `Call Foo(a)`.
    fn call_statement(&mut self, callee: &Expr, args: &[Expr], frame: &mut Frame) -> Result<(), ScriptError> {
        match callee {
            Expr::Var(var) => {
                self.call_name(var, args, frame, true)?;
            }
            Expr::Member(base, name) => {
                let object = self.eval_object(base, frame)?;
                let mut values = self.eval_args(args, frame)?;
                call_member(&object, &name.lower, &mut values)?;
            }
            Expr::Call(var, inner) if args.is_empty() => {
                self.call_name(var, inner, frame, true)?;
            }
            Expr::MemberCall(base, name, inner) if args.is_empty() => {
                let object = self.eval_object(base, frame)?;
                let mut values = self.eval_args(inner, frame)?;
                call_member(&object, &name.lower, &mut values)?;
            }
            other => {
                // e.g. `obj.Items()(0).Method` with arguments, or a default member
                let value = self.eval(other, frame)?;
                if !args.is_empty() {
                    let mut values = self.eval_args(args, frame)?;
                    match value {
                        Value::Object(o) => {
                            o.call_method("", &mut values)?;
                        }
                        _ => return Err(ScriptError::type_mismatch(&describe(other))),
                    }
                }
            }
        }
        Ok(())
    }

    /// `name` or `name(args)` where name is not a plain variable read: a procedure, a
    /// built-in, an array element or the default member of an object in a variable.
    fn call_name(
        &mut self,
        var: &VarRef,
        args: &[Expr],
        frame: &mut Frame,
        statement: bool,
    ) -> Result<Value, ScriptError> {
        if self.is_variable(var, frame) {
            let values = self.eval_args(args, frame)?;
            let Some(slot) = self.slot_mut(var, frame) else { return Ok(Value::Empty) };
            return match slot {
                Value::Array(array) => {
                    let array = array.clone();
                    index_array(&array, &values)
                }
                Value::Object(object) => {
                    let object = object.clone();
                    let mut values = values;
                    if statement {
                        Ok(object.call_method("", &mut values)?)
                    } else {
                        get_member(&object, "", &mut values)
                    }
                }
                other if values.is_empty() => Ok(other.clone()),
                _ => Err(ScriptError::type_mismatch(&var.ident().written)),
            };
        }
        let ident = var.ident();
        if let Some(procedure) = self.procedures.get(&ident.lower).cloned() {
            return self.call_user(&procedure, args, frame);
        }
        if let VarRef::Free(_, Some(builtin)) = var {
            let values = self.eval_args(args, frame)?;
            return self.call_builtin(*builtin, values, frame);
        }
        if args.is_empty() && !statement {
            return self.load(var, frame);
        }
        Err(ScriptError::runtime(13, format!("Type mismatch: '{}'", ident.written)))
    }

    /// Calls a script procedure, copying ByRef arguments that are variables back after it.
    fn call_user(
        &mut self,
        procedure: &Arc<Procedure>,
        args: &[Expr],
        frame: &mut Frame,
    ) -> Result<Value, ScriptError> {
        let values = self.eval_args(args, frame)?;
        let mut out = Vec::new();
        let result = self.call_procedure(procedure, values, &mut out)?;
        for ((by_ref, _), (arg, value)) in procedure.params.iter().zip(args.iter().zip(out)) {
            if *by_ref && let Expr::Var(var) = arg {
                self.store(var, value, frame)?;
            }
        }
        Ok(result)
    }

    pub(crate) fn call_builtin(
        &mut self,
        builtin: Builtin,
        args: Vec<Value>,
        frame: &mut Frame,
    ) -> Result<Value, ScriptError> {
        match builtin {
            Builtin::CreateObject => {
                let name = args.first().ok_or_else(|| ScriptError::wrong_arguments("CreateObject"))?.to_str()?;
                self.create_object(&name)
            }
            Builtin::Eval => {
                let source = args.first().ok_or_else(|| ScriptError::wrong_arguments("Eval"))?.to_str()?;
                let expr = compile::compile_expression(&source, &self.limits)?;
                self.enter()?;
                let result = self.eval(&expr, frame);
                self.depth -= 1;
                result
            }
            Builtin::ExecuteGlobal | Builtin::Execute => {
                let source = args.first().ok_or_else(|| ScriptError::wrong_arguments("ExecuteGlobal"))?.to_str()?;
                let module = compile::compile_module(&source, &self.limits)?;
                for procedure in &module.procedures {
                    self.procedures.insert(procedure.name.lower.clone(), procedure.clone());
                }
                self.enter()?;
                let mut global = Frame::module();
                let result = self.exec_nested(&module.body, &mut global);
                self.depth -= 1;
                result.map(|_| Value::Empty)
            }
            other => crate::builtins::call(self, other, args),
        }
    }

    pub(crate) fn create_object(&mut self, name: &str) -> Result<Value, ScriptError> {
        match self.factories.get(name.to_ascii_lowercase().as_str()) {
            Some(factory) => Ok(Value::Object(factory()?)),
            None => Err(ScriptError::runtime(429, format!("ActiveX component can't create object: '{name}'"))),
        }
    }

    pub(crate) fn eval(&mut self, expr: &Expr, frame: &mut Frame) -> Result<Value, ScriptError> {
        match expr {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Var(VarRef::Local(slot, _)) => Ok(frame.locals.get(usize::from(*slot)).cloned().unwrap_or_default()),
            Expr::Var(var) => {
                if self.is_variable(var, frame) {
                    self.load(var, frame)
                } else {
                    self.call_name(var, &[], frame, false)
                }
            }
            _ => stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.eval_compound(expr, frame)),
        }
    }

    fn eval_compound(&mut self, expr: &Expr, frame: &mut Frame) -> Result<Value, ScriptError> {
        match expr {
            Expr::Const(_) | Expr::Var(_) => self.eval(expr, frame),
            Expr::Call(var, args) => self.call_name(var, args, frame, false),
            Expr::Unary(op, operand) => {
                let value = self.eval(operand, frame)?;
                ops::unary(*op, &value)
            }
            Expr::Binary(op, lhs, rhs) => {
                let l = self.eval(lhs, frame)?;
                let r = self.eval(rhs, frame)?;
                if *op == BinOp::Concat {
                    let result = ops::concat(&l, &r)?;
                    if let Value::Str(s) = &result {
                        self.charge(s.len())?;
                    }
                    return Ok(result);
                }
                ops::binary(*op, &l, &r)
            }
            Expr::Member(base, name) => {
                let object = self.eval_object(base, frame)?;
                get_member(&object, &name.lower, &mut [])
            }
            Expr::MemberCall(base, name, args) => {
                let object = self.eval_object(base, frame)?;
                let mut values = self.eval_args(args, frame)?;
                get_member(&object, &name.lower, &mut values)
            }
            Expr::Apply(base, args) => {
                let value = self.eval(base, frame)?;
                let mut values = self.eval_args(args, frame)?;
                match value {
                    Value::Array(array) => index_array(&array, &values),
                    Value::Object(object) => get_member(&object, "", &mut values),
                    _ => Err(ScriptError::type_mismatch(&describe(base))),
                }
            }
            Expr::New(class) => match class.lower.as_ref() {
                "regexp" => Ok(Value::Object(Arc::new(RegExp::default()))),
                _ => Err(ScriptError::runtime(506, format!("Class not defined: '{}'", class.written))),
            },
            Expr::WithObject => frame.with_objects.last().cloned().ok_or_else(|| ScriptError::object_required("With")),
            Expr::Missing => Ok(Value::Empty),
        }
    }
}

/// Reads a member: property first, then a method of that name (IDispatch does both).
fn get_member(object: &Arc<dyn HostObject>, name: &str, args: &mut [Value]) -> Result<Value, ScriptError> {
    match object.get_property(name, args) {
        Err(HostError::NoSuchMember(_)) => Ok(object.call_method(name, args)?),
        other => Ok(other?),
    }
}

/// Calls a member as a statement: method first, then a property of that name.
fn call_member(object: &Arc<dyn HostObject>, name: &str, args: &mut [Value]) -> Result<Value, ScriptError> {
    match object.call_method(name, args) {
        Err(HostError::NoSuchMember(_)) => Ok(object.get_property(name, args)?),
        other => Ok(other?),
    }
}

fn index_array(array: &Array, indexes: &[Value]) -> Result<Value, ScriptError> {
    let indexes = indexes.iter().map(|i| i.to_i64()).collect::<Result<Vec<_>, _>>()?;
    let offset = array.offset(&indexes).ok_or_else(ScriptError::subscript_out_of_range)?;
    Ok(array.items[offset].clone())
}

/// A short name of an expression for error messages.
fn describe(expr: &Expr) -> String {
    match expr {
        Expr::Var(v) | Expr::Call(v, _) => v.ident().written.to_string(),
        Expr::Member(_, name) | Expr::MemberCall(_, name, _) => name.written.to_string(),
        _ => "expression".into(),
    }
}

impl ErrorKind {
    pub fn is_limit(self) -> bool {
        self == ErrorKind::Limit
    }
}
