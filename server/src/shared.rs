//! The state every RPC and the batch loop share: the engine behind one lock, the service's
//! clock (tokio's, so tests can pause it), the event broadcast, and the bell that wakes the
//! batch loop when a command changes what is due.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rally_base::Seconds;
use rally_engine::{Command, Engine, Event};

use crate::record::Recorder;
use crate::store::{MemoryStore, Resources, Store, StoreError, changes};
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;

/// How many engine steps' events a stream may fall behind before it is ended (a client that
/// slow would see a gap otherwise).
pub const EVENT_BUFFER: usize = 1 << 12;

/// The events of one engine step, in order: published together, so that a batch's thousand
/// events reach a stream as one message rather than a thousand trips through the scheduler.
pub type Events = Arc<[Event]>;

/// The engine and what drives it.
#[derive(Debug)]
pub struct Shared {
    engine: Mutex<Engine>,
    /// The engine's time 0, on tokio's clock and on the wall clock (for timestamps).
    started: Instant,
    epoch: SystemTime,
    /// Rung after every command: the batch loop reconsiders when it next wakes.
    pub(crate) wake: Notify,
    events: broadcast::Sender<Events>,
    recorder: Option<Recorder>,
    store: Arc<dyn Store>,
    /// What the store holds, as last written.
    stored: Mutex<Resources>,
}

impl Shared {
    /// A service over `engine`, its resources kept in memory.
    pub fn new(engine: Engine) -> Arc<Shared> {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        Shared::with(engine, None, store).expect("a memory store does not fail")
    }

    /// A service whose traffic commands go to `recorder` as they arrive, and whose
    /// administered resources are written to `store` (all of them now, then as they change).
    pub fn with(
        engine: Engine,
        recorder: Option<Recorder>,
        store: Arc<dyn Store>,
    ) -> Result<Arc<Shared>, StoreError> {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let stored = store.load()?;
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            started: Instant::now(),
            epoch: SystemTime::now(),
            wake: Notify::new(),
            events,
            recorder,
            store,
            stored: Mutex::new(stored),
        });
        shared.persist()?;
        Ok(shared)
    }

    /// Writes to the store what administration changed since the last write.
    pub fn persist(&self) -> Result<(), StoreError> {
        let now = Resources::of(&self.lock());
        let mut stored = self.stored.lock().unwrap_or_else(|p| p.into_inner());
        let (puts, removes) = changes(&stored, &now);
        for resource in puts {
            self.store.put(resource)?;
        }
        for (kind, name) in removes {
            self.store.remove(kind, &name)?;
        }
        *stored = now;
        Ok(())
    }

    /// Runs a traffic command, recorded (when recording) at the time the engine sees it.
    pub fn command<R>(
        &self,
        command: Command,
        run: impl FnOnce(&mut Engine, Seconds, Command) -> R,
    ) -> R {
        self.act(|engine, now| {
            if let Some(recorder) = &self.recorder {
                recorder.record(now, &command);
            }
            run(engine, now, command)
        })
    }

    /// The engine's time now: seconds since the service started, on tokio's clock.
    pub fn now(&self) -> Seconds {
        self.started.elapsed().as_secs_f64()
    }

    /// The tokio instant of an engine time.
    pub(crate) fn instant(&self, at: Seconds) -> Instant {
        self.started + Duration::from_secs_f64(at.max(0.0))
    }

    /// An engine time as a wall-clock timestamp.
    pub fn timestamp(&self, at: Seconds) -> prost_types::Timestamp {
        let time = self.epoch + Duration::from_secs_f64(at.max(0.0));
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        prost_types::Timestamp {
            seconds: since.as_secs() as i64,
            nanos: since.subsec_nanos() as i32,
        }
    }

    /// Runs `act` on the engine at the current time, then publishes the events it caused
    /// and wakes the batch loop.
    pub fn act<R>(&self, act: impl FnOnce(&mut Engine, Seconds) -> R) -> R {
        let result = self.act_quietly(act);
        self.wake.notify_one();
        result
    }

    /// The same without waking the batch loop: the loop's own steps.
    pub(crate) fn act_quietly<R>(&self, act: impl FnOnce(&mut Engine, Seconds) -> R) -> R {
        let mut engine = self.lock();
        let now = self.now();
        let result = act(&mut engine, now);
        let events = engine.take_events();
        drop(engine);
        if !events.is_empty() {
            // No subscriber is fine: events are best effort, as FlexMatch's are.
            let _ = self.events.send(events.into());
        }
        result
    }

    /// Reads the engine without acting.
    pub fn read<R>(&self, read: impl FnOnce(&Engine) -> R) -> R {
        read(&self.lock())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Events> {
        self.events.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock leaves the engine as the panicking command left
        // it; commands check before they change anything, so serving on is sound.
        self.engine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
