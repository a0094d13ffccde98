//! Results derived from one index generation, computed once and shared:
//! each [`crate::engine::Loaded`] holds a [`Memo`], so a new generation
//! starts with an empty one and the old one goes with the last snapshot
//! that reads it. Speaker summaries ([`crate::summary`]) and the order of a
//! speaker's passages for a question that names only speakers
//! ([`crate::search`]) are kept here: both read every passage of a speaker,
//! which on a large archive costs seconds and a copy of the text, and both
//! give the same answer until the next generation.
//!
//! A value is computed once however many callers want it at the same time
//! (the others wait for it, as the pages' cache does), a failure is not
//! kept, and the values kept weigh at most the memo's budget: past it the
//! oldest are dropped (and computed again when asked for).

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// What a kept value is filed under: its kind (one per use) and its key.
type Key = (&'static str, String);

type Value = Arc<dyn Any + Send + Sync>;

/// One value being computed or kept; callers of the same key wait on it.
#[derive(Default)]
struct Slot {
    value: Mutex<Option<Value>>,
}

/// Per-generation memo with a byte budget (see the module docs).
pub struct Memo {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    slots: HashMap<Key, Arc<Slot>>,
    /// Values kept, oldest first, with their weights.
    kept: VecDeque<(Key, usize)>,
    weight: usize,
    /// Values computed so far (to see that sharing works).
    computed: usize,
}

/// The default budget: summaries and passage orders of a large archive
/// (a few KB and a few bytes per passage each) fit many times over.
pub const DEFAULT_BUDGET: usize = 32 << 20;

impl Default for Memo {
    fn default() -> Self {
        Memo::new(DEFAULT_BUDGET)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Memo {
    pub fn new(budget: usize) -> Self {
        Memo {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The value of `kind`/`key`, computed by `compute` if nobody has yet
    /// (callers asking meanwhile wait for that one computation). `weight`
    /// says how many bytes the value holds; an error is returned and not
    /// kept. Blocks: call it off the async workers.
    pub fn get_or_try_insert<V, E>(
        &self,
        kind: &'static str,
        key: &str,
        weight: impl FnOnce(&V) -> usize,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E>
    where
        V: Any + Send + Sync,
    {
        let k: Key = (kind, key.to_owned());
        let slot = lock(&self.inner)
            .slots
            .entry(k.clone())
            .or_default()
            .clone();
        let mut value = lock(&slot.value);
        if let Some(v) = value.as_ref().and_then(|v| v.clone().downcast::<V>().ok()) {
            return Ok(v);
        }
        let v = Arc::new(compute()?);
        *value = Some(v.clone());
        drop(value);
        self.kept(k, weight(&v));
        Ok(v)
    }

    /// Files a value just computed, dropping the oldest over the budget.
    fn kept(&self, key: Key, weight: usize) {
        let mut inner = lock(&self.inner);
        inner.computed += 1;
        inner.kept.push_back((key, weight));
        inner.weight += weight;
        while inner.weight > self.budget {
            let Some((old, w)) = inner.kept.pop_front() else {
                break;
            };
            inner.weight -= w;
            inner.slots.remove(&old);
        }
    }

    /// How many values were computed (not found) so far.
    pub fn computed(&self) -> usize {
        lock(&self.inner).computed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_value_is_computed_once_and_shared() {
        let memo = Memo::new(1 << 20);
        let runs = AtomicUsize::new(0);
        let get = || {
            memo.get_or_try_insert(
                "t",
                "k",
                |_| 8,
                || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    Ok::<_, ()>(42u64)
                },
            )
            .unwrap()
        };
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(get)).collect();
            for h in handles {
                assert_eq!(*h.join().unwrap(), 42);
            }
        });
        assert_eq!(*get(), 42);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(memo.computed(), 1);
        // Another kind under the same key is another value.
        let other = memo
            .get_or_try_insert("u", "k", |_| 8, || Ok::<_, ()>("x"))
            .unwrap();
        assert_eq!(*other, "x");
    }

    #[test]
    fn failures_are_not_kept_and_the_budget_holds() {
        let memo = Memo::new(100);
        assert!(memo
            .get_or_try_insert::<u8, _>("t", "k", |_| 1, || Err("no"))
            .is_err());
        assert_eq!(
            *memo
                .get_or_try_insert("t", "k", |_| 1, || Ok::<_, ()>(1u8))
                .unwrap(),
            1
        );
        for i in 0..10 {
            memo.get_or_try_insert("big", &i.to_string(), |_| 60, || Ok::<_, ()>(i))
                .unwrap();
        }
        let inner = lock(&memo.inner);
        assert!(inner.weight <= 100, "{}", inner.weight);
        assert!(inner.slots.len() <= 2);
    }
}
