//! The interface between scripts and the server that runs them: objects the host exposes
//! (hMailServer's `Client`, `Message`, `Result`, `EventLog`, ...) and `CreateObject` factories.

use crate::error::HostError;
use crate::value::Value;
use std::sync::Arc;

/// An object a script can use: `obj.Name`, `obj.Name = v`, `obj.Method a, b`, `obj(i)`.
///
/// Member names are given in ASCII lower case (VBScript names are case-insensitive), so an
/// implementation matches on `"headervalue"`, not on `"HeaderValue"`. The default member
/// (`obj(i)`, `obj(i) = v`) has the empty name. Objects are shared (`Arc`), so state that
/// a script changes lives behind a `Mutex` or atomics in the implementation.
///
/// Answer [`HostError::NoSuchMember`] for a member the object does not have: a property read
/// then falls back to a method call of that name and the other way round, as COM's
/// `IDispatch` does for VBScript.
pub trait HostObject: Send + Sync {
    /// The name `TypeName(obj)` returns.
    fn type_name(&self) -> &str;

    /// Reads a property, with the arguments of an indexed property (`obj.Item(2)`). A
    /// property without parameters that returns a collection gets the arguments of
    /// `obj.Recipients(0)` too: apply the collection's default member to them, as COM does.
    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        let _ = args;
        Err(HostError::NoSuchMember(name.to_string()))
    }

    /// Writes a property (`obj.Name = value`, `Set obj.Name = value`, `obj(key) = value`).
    fn set_property(&self, name: &str, args: &[Value], value: Value) -> Result<(), HostError> {
        let _ = (args, value);
        Err(HostError::NoSuchMember(name.to_string()))
    }

    /// Calls a method. The arguments are mutable for methods with `ByRef` parameters; what
    /// the method writes there is not copied back to the script's variables.
    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        let _ = args;
        Err(HostError::NoSuchMember(name.to_string()))
    }

    /// The elements `For Each x In obj` walks, if the object is a collection.
    fn enumerate(&self) -> Result<Vec<Value>, HostError> {
        Err(HostError::Failed(451, format!("Object not a collection: '{}'", self.type_name())))
    }
}

/// Makes a new object for `CreateObject("Name")`.
pub type ObjectFactory = Arc<dyn Fn() -> Result<Arc<dyn HostObject>, HostError> + Send + Sync>;

/// Wraps an object for a script value.
pub fn object(object: impl HostObject + 'static) -> Value {
    Value::Object(Arc::new(object))
}
