//! Questions behind "more" buttons. A button's `custom_id` is limited to
//! 100 characters, too short for a question, so the question is kept here
//! under a short key and the button carries only the key, the asker and the
//! offset (see [`super::convert::PageButton`]).
//!
//! Kept in memory: after a restart old buttons answer "expired, ask again".
//! Keys start from the clock so a key from before a restart never names a
//! different question afterwards.

use crate::search::Question;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a "more" button keeps working.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// At most this many questions are kept; the oldest go first.
pub const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct PageStore {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    next: u64,
    questions: HashMap<u64, (Instant, Question)>,
    order: VecDeque<u64>,
}

impl Default for PageStore {
    fn default() -> Self {
        Self::new()
    }
}

impl PageStore {
    pub fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_millis() as u64);
        PageStore {
            inner: Mutex::new(Inner {
                next: seed,
                questions: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// Keeps `question` (its offset is ignored) and returns its key.
    pub fn insert(&self, question: &Question, now: Instant) -> u64 {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while inner.order.len() >= CAPACITY
            || inner.order.front().is_some_and(|k| {
                inner
                    .questions
                    .get(k)
                    .is_none_or(|(at, _)| now.saturating_duration_since(*at) >= TTL)
            })
        {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            inner.questions.remove(&old);
        }
        let key = inner.next;
        inner.next += 1;
        inner.questions.insert(key, (now, question.clone()));
        inner.order.push_back(key);
        key
    }

    /// The question under `key`, unless it expired or was never stored here.
    pub fn get(&self, key: u64, now: Instant) -> Option<Question> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .questions
            .get(&key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < TTL)
            .map(|(_, q)| q.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_questions_until_they_expire() {
        let store = PageStore::new();
        let t0 = Instant::now();
        let a = store.insert(&Question::new("郭慶怎麼看人才?"), t0);
        let b = store.insert(&Question::new("客服中心"), t0);
        assert_ne!(a, b);
        assert_eq!(store.get(a, t0).unwrap().text, "郭慶怎麼看人才?");
        assert_eq!(store.get(b, t0 + TTL / 2).unwrap().text, "客服中心");
        assert!(store.get(a, t0 + TTL).is_none());
        assert!(store.get(a.wrapping_add(100), t0).is_none());
    }
}
