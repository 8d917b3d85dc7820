//! The script server: the loaded `EventHandlers.vbs`, a pool of engines made from it, and
//! the calls of its handlers with budgets.
//!
//! The file is compiled when it first matters and again when its modification time or size
//! changes (one `stat` per event). At load the server records which of hMailServer's handlers
//! exist, so an event whose handler is missing costs a set look-up and no engine. An engine
//! runs the module-level code once when it is made and then serves many calls; engines are
//! kept in a pool and dropped when the file or the budgets change. Calls from async code run
//! on tokio's blocking threads, at most [`Scripts::max_parallel`] at a time.
//!
//! A script that fails to compile, raises an error, or runs past a budget is logged in the
//! error log with its line (`HM5016` at load, `HM4500` at run time) and the event goes on as
//! if the script had returned nothing. An engine that ran past a budget is not reused.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use altimail_net::{HmLog, Severity};
use altimail_store::repo::settings::Settings;
use altimail_vbscript::{Engine, ErrorKind, Script, ScriptError, Value, object};
use tokio::sync::Semaphore;

use crate::config::ScriptConfig;
use crate::event::{Arg, Event};
use crate::objects::{self, ClientObject, EventLog, EventResult, ResultObject};

/// The script file for VBScript, in the events folder.
pub const VBSCRIPT_FILE: &str = "EventHandlers.vbs";

/// The script server of one Altimail Server. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Scripts {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

struct Inner {
    dir: PathBuf,
    log: HmLog,
    events: EventLog,
    config: Mutex<ScriptConfig>,
    state: Mutex<LoadState>,
    pool: Mutex<Vec<Pooled>>,
    permits: Arc<Semaphore>,
    max_parallel: usize,
}

#[derive(Default)]
struct LoadState {
    /// Modification time and size of the file last looked at (`None`: no file).
    stamp: Option<(SystemTime, u64)>,
    /// Whether `stamp` was ever taken.
    checked: bool,
    /// The compiled script; `None` while the file is missing or does not compile.
    loaded: Option<Arc<Loaded>>,
    generation: u64,
    /// The language warning was logged.
    warned_language: bool,
}

/// A compiled version of the file.
struct Loaded {
    script: Script,
    generation: u64,
    /// hMailServer's handlers the file has.
    events: HashSet<Event>,
}

struct Pooled {
    generation: u64,
    engine: Engine,
}

impl Scripts {
    /// Scripts from `events_dir` (`[directories] events`), logging to `log`'s folder.
    pub fn new(events_dir: impl Into<PathBuf>, log: HmLog) -> Scripts {
        let max_parallel = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 16);
        let events = EventLog::new(log.dir());
        Scripts {
            inner: Arc::new(Inner {
                dir: events_dir.into(),
                log,
                events,
                config: Mutex::new(ScriptConfig::default()),
                state: Mutex::new(LoadState::default()),
                pool: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max_parallel)),
                max_parallel,
            }),
        }
    }

    /// How many handlers run at the same time at most (the others wait their turn).
    pub fn max_parallel(&self) -> usize {
        self.inner.max_parallel
    }

    /// The script file scripts are loaded from.
    pub fn script_path(&self) -> PathBuf {
        self.inner.dir.join(VBSCRIPT_FILE)
    }

    /// The events log (`EventLog.Write`).
    pub fn event_log_path(&self) -> &Path {
        self.inner.events.path()
    }

    /// Applies the settings (`usescriptserver`, `scriptlanguage`, the budgets). Cheap when
    /// nothing changed; callers pass the settings they already hold.
    pub fn configure(&self, settings: &Settings) {
        self.set_config(ScriptConfig::from_settings(settings));
    }

    /// Applies a configuration (as [`Scripts::configure`] does from the settings).
    pub fn set_config(&self, config: ScriptConfig) {
        let mut current = lock(&self.inner.config);
        if *current != config {
            let budgets_changed = current.limits_differ(&config);
            *current = config;
            drop(current);
            if budgets_changed {
                // Engines carry their budgets: the next event loads the script again and
                // makes engines with the new budgets.
                lock(&self.inner.state).checked = false;
            }
        }
    }

    /// Whether scripts are on and the file has the handler for `event`. Takes one `stat` of
    /// the file and recompiles it when it changed.
    pub fn handles(&self, event: Event) -> bool {
        self.current().is_some_and(|loaded| loaded.events.contains(&event))
    }

    /// Raises `event` with `args` on a blocking thread; `None` when no handler ran to its end
    /// (scripts off, no such handler, or the script failed: logged).
    pub async fn fire(&self, settings: &Settings, event: Event, args: Vec<Arg>) -> Option<EventResult> {
        self.configure(settings);
        self.fire_as_configured(event, args).await
    }

    /// [`Scripts::fire`] with the settings last applied.
    pub async fn fire_as_configured(&self, event: Event, args: Vec<Arg>) -> Option<EventResult> {
        let loaded = self.current().filter(|l| l.events.contains(&event))?;
        let permit = self.inner.permits.clone().acquire_owned().await.ok()?;
        let inner = self.inner.clone();
        let ran = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.call(&loaded, event.name(), event.initial_result(), &args)
        })
        .await;
        match ran {
            Ok(result) => result,
            Err(e) => {
                tracing::error!("script handler {} did not finish: {e}", event.name());
                None
            }
        }
    }

    /// Raises `event` on the calling thread (which must be allowed to block).
    pub fn fire_blocking(&self, event: Event, args: &[Arg]) -> Option<EventResult> {
        let loaded = self.current().filter(|l| l.events.contains(&event))?;
        self.inner.call(&loaded, event.name(), event.initial_result(), args)
    }

    /// Calls any Sub or Function of the script (the rule action "run function") on the calling
    /// thread, which must be allowed to block. `None` when it did not run to its end.
    pub fn call_function(&self, function: &str, args: &[Arg]) -> Option<EventResult> {
        let Some(loaded) = self.current() else {
            tracing::warn!("rule action: script function {function} not run: scripting is off or has no script");
            return None;
        };
        self.inner.call(&loaded, function, 0, args)
    }

    /// The compiled script when scripting is on, reloaded if the file changed.
    fn current(&self) -> Option<Arc<Loaded>> {
        let config = lock(&self.inner.config).clone();
        if !config.enabled {
            return None;
        }
        let mut state = lock(&self.inner.state);
        if !config.is_vbscript() {
            if !state.warned_language {
                state.warned_language = true;
                self.inner.log.error(
                    Severity::Medium,
                    5016,
                    "ScriptServer::LoadScripts",
                    &format!("Script language {} is not supported; only VBScript scripts run", config.language),
                );
            }
            return None;
        }
        let path = self.script_path();
        let stamp = std::fs::metadata(&path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        if state.checked && stamp == state.stamp {
            return state.loaded.clone();
        }
        state.checked = true;
        state.stamp = stamp;
        state.generation += 1;
        lock(&self.inner.pool).clear();
        state.loaded = match stamp {
            None => {
                tracing::info!("scripting is on but {} does not exist: no handler runs", path.display());
                None
            }
            Some(_) => self.inner.load(&path, &config, state.generation),
        };
        state.loaded.clone()
    }
}

impl ScriptConfig {
    fn limits_differ(&self, other: &ScriptConfig) -> bool {
        self.timeout != other.timeout
            || self.max_steps != other.max_steps
            || self.max_memory_bytes != other.max_memory_bytes
    }
}

impl Inner {
    fn load(&self, path: &Path, config: &ScriptConfig, generation: u64) -> Option<Arc<Loaded>> {
        let source = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                self.log.error(Severity::High, 5016, "ScriptServer::LoadScripts", &format!("{}: {e}", path.display()));
                return None;
            }
        };
        let script = match Script::compile_with(&source, &config.limits()) {
            Ok(s) => s,
            Err(e) => {
                self.log.error(
                    Severity::High,
                    5016,
                    "ScriptServer::LoadScripts",
                    &format!(
                        "{} does not compile, no handler runs until it is fixed: {}",
                        path.display(),
                        describe(&e)
                    ),
                );
                return None;
            }
        };
        let probe = Engine::new(&script);
        let events = Event::ALL.into_iter().filter(|e| probe.has_procedure(e.name())).collect::<HashSet<_>>();
        let names: Vec<&str> = Event::ALL.iter().filter(|e| events.contains(e)).map(|e| e.name()).collect();
        self.log.application(&format!("ScriptServer - {} loaded, handlers: {}", path.display(), names.join(", ")));
        Some(Arc::new(Loaded { script, generation, events }))
    }

    /// Runs one handler with a pooled engine; logs and swallows what goes wrong.
    fn call(&self, loaded: &Loaded, function: &str, initial: i64, args: &[Arg]) -> Option<EventResult> {
        let mut engine = self.take(loaded)?;
        if !engine.has_procedure(function) {
            tracing::warn!("script function {function} does not exist in {VBSCRIPT_FILE}: not run");
            self.give_back(loaded.generation, engine);
            return None;
        }
        let result = Arc::new(ResultObject::starting_at(initial));
        engine.set_global("Result", Value::Object(result.clone()));
        let values: Vec<Value> = args.iter().map(to_value).collect();
        match engine.call(function, &values) {
            Ok(_) => {
                self.give_back(loaded.generation, engine);
                Some(result.result())
            }
            Err(e) => {
                self.report(function, &e);
                if e.kind != ErrorKind::Limit {
                    self.give_back(loaded.generation, engine);
                }
                None
            }
        }
    }

    /// An engine for `loaded`: from the pool, or new (its module-level code run once).
    fn take(&self, loaded: &Loaded) -> Option<Engine> {
        {
            let mut pool = lock(&self.pool);
            while let Some(p) = pool.pop() {
                if p.generation == loaded.generation {
                    return Some(p.engine);
                }
            }
        }
        let limits = lock(&self.config).limits();
        let mut engine = Engine::with_limits(&loaded.script, limits);
        engine.set_global("EventLog", object(self.events.clone()));
        objects::register(&mut engine);
        if let Err(e) = engine.run_main() {
            self.report("(module-level code)", &e);
            return None;
        }
        Some(engine)
    }

    fn give_back(&self, generation: u64, engine: Engine) {
        let mut pool = lock(&self.pool);
        if pool.len() < self.max_parallel {
            pool.push(Pooled { generation, engine });
        }
    }

    /// hMailServer's script error line: `Script Error: Source: … - Error: 800A… - Description:
    /// … - Line: n Column: 0 - Code: (null)`.
    fn report(&self, function: &str, e: &ScriptError) {
        self.log.error(
            Severity::Medium,
            4500,
            "ScriptServer::FireEvent",
            &format!("Script Error: {} (in {function})", describe(e)),
        );
    }
}

fn describe(e: &ScriptError) -> String {
    let source = match e.kind {
        ErrorKind::Compile => "Microsoft VBScript compilation error",
        ErrorKind::Runtime => "Microsoft VBScript runtime error",
        ErrorKind::Limit => "Altimail Server script budget exceeded",
    };
    format!(
        "Source: {source} - Error: 800A{:04X} - Description: {} - Line: {} Column: 0 - Code: (null)",
        e.number & 0xFFFF,
        e.description,
        e.line
    )
}

fn to_value(arg: &Arg) -> Value {
    match arg {
        Arg::Client(info) => object(ClientObject(info.clone())),
        Arg::Message(m) => Value::Object(m.clone()),
        Arg::Text(t) => Value::from(t.as_str()),
        Arg::Number(n) => i32::try_from(*n).map(Value::Long).unwrap_or(Value::Double(*n as f64)),
        Arg::Nothing => Value::Nothing,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
