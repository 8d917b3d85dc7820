//! Helpers for the tests: run a script and read its globals, and mock host objects.
#![allow(dead_code)]

use altimail_vbscript::{Engine, HostError, HostObject, Limits, Script, ScriptError, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// Runs the module-level code and returns the engine.
pub fn run(source: &str) -> Engine {
    let script = Script::compile(source).unwrap_or_else(|e| panic!("compile: {e}"));
    let mut engine = Engine::new(&script);
    engine.run_main().unwrap_or_else(|e| panic!("run: {e}"));
    engine
}

pub fn run_err(source: &str) -> ScriptError {
    match run_with_limits(source, Limits::default()) {
        Ok(_) => panic!("the script should fail"),
        Err(e) => e,
    }
}

pub fn run_with_limits(source: &str, limits: Limits) -> Result<Engine, ScriptError> {
    let script = Script::compile_with(source, &limits)?;
    let mut engine = Engine::with_limits(&script, limits);
    engine.run_main()?;
    Ok(engine)
}

/// The text of global `name` after running `source`.
pub fn global(source: &str, name: &str) -> String {
    let engine = run(source);
    engine.global(name).map(|v| v.display()).unwrap_or_else(|| "<undefined>".into())
}

/// The value of the expression, through `r = expr`.
pub fn eval(expr: &str) -> String {
    global(&format!("r = {expr}\n"), "r")
}

pub fn eval_value(expr: &str) -> Value {
    let engine = run(&format!("r = {expr}\n"));
    engine.global("r").cloned().unwrap_or_default()
}

/// A host object with named properties and a log of method calls, like hMailServer's
/// objects as far as scripts see them.
#[derive(Default)]
pub struct MockObject {
    pub name: String,
    pub properties: Mutex<HashMap<String, Value>>,
    /// Indexed properties: name -> values by index (`oMessage.Recipients(i)`).
    pub calls: Mutex<Vec<String>>,
    pub headers: Mutex<Vec<(String, String)>>,
}

impl MockObject {
    pub fn new(name: &str) -> MockObject {
        MockObject { name: name.into(), ..Default::default() }
    }

    pub fn with(self, property: &str, value: Value) -> MockObject {
        self.properties.lock().unwrap().insert(property.to_ascii_lowercase(), value);
        self
    }

    pub fn with_header(self, name: &str, value: &str) -> MockObject {
        self.headers.lock().unwrap().push((name.into(), value.into()));
        self
    }

    pub fn property(&self, name: &str) -> Value {
        self.properties.lock().unwrap().get(&name.to_ascii_lowercase()).cloned().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lock().unwrap().iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl HostObject for MockObject {
    fn type_name(&self) -> &str {
        &self.name
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        if name == "headervalue" {
            let header = args.first().map(|a| a.display()).unwrap_or_default();
            return Ok(Value::from(self.header(&header).unwrap_or_default()));
        }
        match self.properties.lock().unwrap().get(name) {
            Some(Value::Array(a)) if !args.is_empty() => {
                let i = args[0].to_i64().map_err(HostError::from)? as usize;
                a.items.get(i).cloned().ok_or_else(|| HostError::failed("index out of range"))
            }
            // `obj.Collection(i)`: the collection's default member, as COM does
            Some(Value::Object(o)) if !args.is_empty() => o.get_property("", args),
            Some(v) => Ok(v.clone()),
            None => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn set_property(&self, name: &str, args: &[Value], value: Value) -> Result<(), HostError> {
        if name == "headervalue" {
            let header = args.first().map(|a| a.display()).unwrap_or_default();
            let mut headers = self.headers.lock().unwrap();
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&header));
            headers.push((header, value.display()));
            return Ok(());
        }
        self.properties.lock().unwrap().insert(name.into(), value);
        Ok(())
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        let args: Vec<String> = args.iter().map(|a| a.display()).collect();
        self.calls.lock().unwrap().push(format!("{name}({})", args.join(", ")));
        Ok(Value::Empty)
    }
}
