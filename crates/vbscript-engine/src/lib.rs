//! A VBScript interpreter for hMailServer's `EventHandlers.vbs`.
//!
//! Scripts are parsed by the `vbscript` crate, regrouped by VBScript's operator precedence
//! (the parser's table differs), compiled to a tree with resolved names, and run by a tree
//! walker with budgets: steps, wall-clock time, bytes made, string and array sizes and call
//! depth, so no script can hang or exhaust the server. No input makes it panic or overflow
//! the stack: recursion in the compiler and interpreter grows its stack on the heap where
//! needed and is bounded by fixed limits.
//!
//! ```
//! use altimail_vbscript::{Engine, Script, Value};
//!
//! let script = Script::compile("Function Greet(name)\n Greet = \"Hello \" & name\nEnd Function\n").unwrap();
//! let mut engine = Engine::new(&script);
//! engine.run_main().unwrap();
//! assert!(engine.has_procedure("greet"));
//! let greeting = engine.call("Greet", &[Value::from("world")]).unwrap();
//! assert_eq!(greeting.display(), "Hello world");
//! ```
//!
//! The host exposes its objects by implementing [`HostObject`] and registering them with
//! [`Engine::set_global`] or, for `CreateObject("Name")`, [`Engine::register_factory`].
//! See the README of this crate for the supported subset of the language.

mod builtins;
mod compile;
mod dates;
mod error;
mod host;
mod interp;
mod ir;
mod limits;
mod objects;
mod ops;
mod value;

pub use error::{ErrorKind, HostError, ScriptError};
pub use host::{HostObject, ObjectFactory, object};
pub use interp::{Engine, Script};
pub use limits::Limits;
pub use value::{Array, Value};

/// A compiled script is shared between threads; an engine moves to the thread that runs it.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<Script>();
    send::<Engine>();
};
